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
    const { start, end } = this.#addReservation(op, current);
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

  /**
   * Adds to `op` the reservation of the block that starts at the counter as
   * read (`current`): a check that the counter is unchanged and its new
   * value. A counter that holds no id is a Backend error (a damaged store).
   */
  #addReservation(
    op: BudgetedAtomic,
    current: Deno.KvEntryMaybe<unknown>,
  ): { start: bigint; end: bigint } {
    const key = seqKey(this.#kind);
    const start = current.value ?? 1n;
    if (typeof start !== "bigint" || start < 1n) {
      throw new BackendError(`id counter ${JSON.stringify(key)} holds ${String(start)}`);
    }
    const end = start + this.#blockSize;
    op.check(key, current.versionstamp).set(key, end);
    return { start, end };
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
      const id = this.tryNext(above);
      if (id !== undefined) return id;
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
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const current = await this.#kv.get<bigint>(seqKey(this.#kind));
      const op = new BudgetedAtomic(this.#kv);
      const { start, end } = this.#addReservation(op, current);
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
