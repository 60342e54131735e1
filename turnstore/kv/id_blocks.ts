/**
 * Id allocation without a shared hot key: each handle reserves a block of
 * ids with one compare-and-set commit on a counter and hands them out
 * locally. Blocks of different handles never overlap, and the counter is
 * durable, so ids never collide across handles or reopen. A fresh block
 * starts above every id handed out before it, which is how a child can
 * always get an id greater than its parent's (see {@link IdBlocks.next}).
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { seqKey } from "./keys.ts";

const MAX_RESERVE_ATTEMPTS = 1000;

/** Hands out ids of one kind ("turn" or "context") from reserved blocks. */
export class IdBlocks {
  readonly #kv: Deno.Kv;
  readonly #kind: "turn" | "context";
  readonly #blockSize: bigint;
  readonly #observer?: CommitObserver;
  #next = 0n;
  #end = 0n;
  #reserving?: Promise<void>;

  /** Allocates ids of `kind` from `kv` in blocks of `blockSize`. */
  constructor(
    kv: Deno.Kv,
    kind: "turn" | "context",
    blockSize: number,
    observer?: CommitObserver,
  ) {
    this.#kv = kv;
    this.#kind = kind;
    this.#blockSize = BigInt(blockSize);
    this.#observer = observer;
  }

  /** True when the block is used up and no reservation is in flight: the next id needs one. */
  get needsBlock(): boolean {
    return this.#next >= this.#end && this.#reserving === undefined;
  }

  /**
   * Adds the reservation of a block to `op`, a commit that carries other
   * writes (a new context's), against the counter as read (`current`): a
   * check that it is unchanged and its new value. Returns the block's first
   * id and what to apply once the commit landed: the block becomes this
   * handle's, its first `used` ids handed out. Saves a handle's first
   * context and first append a commit and a sync each.
   */
  reserveIn(
    op: BudgetedAtomic,
    current: Deno.KvEntryMaybe<unknown>,
    used: number,
  ): { first: bigint; landed: () => void } {
    const key = seqKey(this.#kind);
    const start = checkCounter(key, current.value ?? 1n);
    const end = start + this.#blockSize;
    op.check(key, current.versionstamp).set(key, end);
    return {
      first: start,
      landed: () => {
        // A block reserved meanwhile (an append's, say) is kept: this one is then unused ids.
        if (this.#next < this.#end || this.#reserving !== undefined) return;
        this.#next = start + BigInt(used);
        this.#end = end;
      },
    };
  }

  /** A new id greater than `above` from the current block, or undefined when it needs a new one. */
  tryNext(above = 0n): bigint | undefined {
    return this.#next < this.#end && this.#next > above ? this.#next++ : undefined;
  }

  /**
   * A new id greater than `above`. When the local block is used up, or its
   * next id is not above `above` (another handle's block is higher), a new
   * block is reserved; it starts above every id any handle was given.
   */
  async next(above = 0n): Promise<bigint> {
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      if (this.#next < this.#end && this.#next > above) return this.#next++;
      if (this.#next <= above) this.#next = this.#end; // the block is below the parent: skip it
      this.#reserving ??= this.#reserve().finally(() => (this.#reserving = undefined));
      await this.#reserving;
      if (this.#end - 1n <= above) {
        throw new BackendError(
          `${this.#kind} id counter (${this.#end}) is not above existing id ${above}; the store is damaged`,
        );
      }
    }
    throw new BackendError(`could not allocate a ${this.#kind} id`);
  }

  async #reserve(): Promise<void> {
    const key = seqKey(this.#kind);
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<bigint>(key);
      const start = checkCounter(key, current.value ?? 1n);
      const end = start + this.#blockSize;
      const op = new BudgetedAtomic(this.#kv).check(key, current.versionstamp).set(key, end);
      if ((await op.commit(this.#observer)).ok) {
        this.#next = start;
        this.#end = end;
        return;
      }
    }
    throw new BackendError(
      `could not reserve ${this.#kind} ids after ${MAX_RESERVE_ATTEMPTS} attempts`,
    );
  }
}

/** The counter's value as the next unreserved id; a Backend error when it is not one. */
function checkCounter(key: Deno.KvKey, value: unknown): bigint {
  if (typeof value !== "bigint" || value < 1n) {
    throw new BackendError(`id counter ${JSON.stringify(key)} holds ${String(value)}`);
  }
  return value;
}
