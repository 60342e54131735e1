/**
 * Context id allocation without a shared hot key: each handle reserves a
 * block of ids with one compare-and-set commit on a counter and hands them
 * out locally. Blocks of different handles never overlap, and the counter is
 * durable, so ids never collide across handles or reopen. (Turn ids need no
 * allocator: a turn's id is its place, see keys.ts.)
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { seqKey } from "./keys.ts";

const MAX_RESERVE_ATTEMPTS = 1000;

/** Hands out context ids from reserved blocks. */
export class IdBlocks {
  readonly #kv: Deno.Kv;
  readonly #blockSize: bigint;
  readonly #observer?: CommitObserver;
  #next = 0n;
  #end = 0n;
  #reserving?: Promise<void>;

  /** Allocates context ids from `kv` in blocks of `blockSize`. */
  constructor(kv: Deno.Kv, blockSize: number, observer?: CommitObserver) {
    this.#kv = kv;
    this.#blockSize = BigInt(blockSize);
    this.#observer = observer;
  }

  /** A new id, never handed out before by any handle. */
  async next(): Promise<bigint> {
    while (this.#next >= this.#end) {
      this.#reserving ??= this.#reserve().finally(() => (this.#reserving = undefined));
      await this.#reserving;
    }
    return this.#next++;
  }

  async #reserve(): Promise<void> {
    const key = seqKey("context");
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<bigint>(key);
      const start = current.value ?? 1n;
      if (typeof start !== "bigint" || start < 1n) {
        throw new BackendError(`id counter ${JSON.stringify(key)} holds ${String(start)}`);
      }
      const end = start + this.#blockSize;
      const op = new BudgetedAtomic(this.#kv).check(key, current.versionstamp).set(key, end);
      if ((await op.commit(this.#observer)).ok) {
        this.#next = start;
        this.#end = end;
        return;
      }
    }
    throw new BackendError(`could not reserve context ids after ${MAX_RESERVE_ATTEMPTS} attempts`);
  }
}
