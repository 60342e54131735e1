/**
 * Commits of one store handle that overlap safely. Over KV Connect a commit
 * costs a network round trip, and group commit sends one commit at a time:
 * the next one is planned on the heads the last one wrote, and its check
 * ("the slot above the head is still empty") would pass even if the last one
 * had failed, leaving turns whose parents were never written. Deno KV's
 * checks cannot say "this key now exists" (only "absent" or "this exact
 * versionstamp", and a commit's versionstamp is unknown until it lands), so
 * the chain uses a key that a commit *removes*:
 *
 * - a token is an empty key (`["tok", random]`, keys.ts) set ahead of time
 *   by a refill commit that is known to have landed;
 * - a commit that takes a token deletes it;
 * - a commit sent while that one is in flight checks that the token is
 *   absent.
 *
 * So the later commit applies only after the earlier one did: if the earlier
 * one failed its checks, its token is still there, the later one fails too,
 * and both are planned again from fresh reads. Tokens are random 64-bit
 * numbers, so no other handle ever deletes one, and they expire on their own
 * ({@link TOKEN_TTL_MS}) when a process dies holding some. A commit carries
 * one check and one delete more (about 46 bytes on the wire).
 *
 * @module
 */
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { keyBytes, tokenKey } from "./keys.ts";
import type { KvLimits } from "./limits.ts";

/** How long a token lives in the store: long, so that clock skew between client and server cannot matter. */
export const TOKEN_TTL_MS = 24 * 3600_000;

/**
 * How long after its refill a token is still taken: far inside {@link TOKEN_TTL_MS}. Measured on
 * two clocks (see {@link CommitChain.take}).
 */
export const TOKEN_USE_MS = 3600_000;

/**
 * Tokens one refill commit sets. Each set is ~33 bytes on the wire, so 24 of
 * them stay under the ~1 KiB that Deno's remote client sends at once
 * (quick_commits.ts).
 */
export const REFILL_TOKENS = 24;

/** Estimated bytes (key) of a token check or delete; a token key is always this long. */
export const TOKEN_KEY_BYTES = keyBytes(tokenKey(0n));

const EMPTY = new Uint8Array(0);

/** A token in the store, ready to be taken by one commit. */
export interface Token {
  /** Its random number (the second part of its key). */
  readonly id: bigint;
  /** When its refill was sent (the chain's clock, ms). */
  readonly at: number;
  /** The same on the wall clock (ms). */
  readonly wallAt: number;
}

/** The tokens of one store handle. */
export class CommitChain {
  /** Most commits of this handle in flight at once. */
  readonly depth: number;
  readonly #kv: Deno.Kv;
  readonly #limits: KvLimits;
  readonly #observer?: CommitObserver;
  readonly #now: () => number;
  readonly #wallNow: () => number;
  /** Tokens known to be in the store and not taken, oldest first. */
  readonly #stock: Token[] = [];
  #refilling?: Promise<void>;
  #closed = false;

  /**
   * Keeps tokens for up to `depth` overlapping commits on `kv`; refill
   * commits keep to `limits` and are reported to `observer`. `now` is the
   * clock in ms (performance.now unless a test sets it), `wallNow` the wall
   * clock in ms (Date.now unless a test sets it).
   */
  constructor(
    kv: Deno.Kv,
    depth: number,
    limits: KvLimits,
    observer?: CommitObserver,
    now: () => number = () => performance.now(),
    wallNow: () => number = () => Date.now(),
  ) {
    this.#kv = kv;
    this.depth = depth;
    this.#limits = limits;
    this.#observer = observer;
    this.#now = now;
    this.#wallNow = wallNow;
  }

  /** Tokens in stock (for tests). */
  get stock(): number {
    return this.#stock.length;
  }

  /**
   * A token for the next commit to delete, or undefined when none is ready
   * (then the commit after it cannot overlap it). Starts a refill when the
   * stock runs low, so that later commits find one.
   *
   * A token is too old once either clock says so: performance.now() stands
   * still while the machine sleeps, and a token taken after a day asleep may
   * have expired (then the check of the commit after its taker passes whatever
   * the taker did); the wall clock keeps counting then, but may be set back.
   */
  take(): Token | undefined {
    const now = this.#now();
    const wall = this.#wallNow();
    while (
      this.#stock.length > 0 &&
      (now - this.#stock[0].at > TOKEN_USE_MS || wall - this.#stock[0].wallAt > TOKEN_USE_MS)
    ) {
      this.#stock.shift(); // old: let it expire rather than trust it near its end
    }
    const token = this.#stock.shift();
    if (this.#stock.length < 2 * this.depth) this.#refill();
    return token;
  }

  /** Returns a token that is still in the store: taken but not sent, or its commit surely failed. */
  giveBack(token: Token): void {
    this.#stock.unshift(token);
  }

  /**
   * Whether `token` is still in the store: false once its taker landed
   * (nothing else deletes it, and it is taken only within the first hour of
   * its day), undefined when the read fails. Asked of a chained commit that
   * answered "checks failed" or threw: Deno's remote client sends a commit
   * again when the answer was lost (a 5xx, a dropped connection), and the
   * resend fails the checks the first attempt passed — so the answer alone
   * does not say whether the commit landed, and a token given back although
   * its commit landed would let the commit sent after its next taker land
   * whatever that taker did.
   */
  async isThere(token: Token): Promise<boolean | undefined> {
    try {
      return (await this.#kv.get(tokenKey(token.id))).versionstamp !== null;
    } catch {
      return undefined;
    }
  }

  /** Sets a batch of new tokens, unless a refill is in flight or the chain is closed. */
  #refill(): void {
    if (this.#refilling || this.#closed) return;
    const ids = crypto.getRandomValues(new BigUint64Array(REFILL_TOKENS));
    const op = new BudgetedAtomic(this.#kv, this.#limits);
    for (const id of ids) op.set(tokenKey(id), EMPTY, undefined, TOKEN_TTL_MS);
    const at = this.#now();
    const wallAt = this.#wallNow();
    this.#refilling = op.commit(this.#observer).then(
      (result) => {
        // Also once closed: close() waits for this refill and deletes what it set.
        if (!result.ok) return;
        for (const id of ids) this.#stock.push({ id, at, wallAt });
      },
      () => {}, // no tokens this time: commits go one at a time until a refill lands
    ).finally(() => this.#refilling = undefined);
  }

  /**
   * Waits for a refill in flight, then deletes the tokens in stock (best
   * effort: they expire anyway).
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refilling;
    const tokens = this.#stock.splice(0);
    if (tokens.length === 0) return;
    const op = new BudgetedAtomic(this.#kv, this.#limits);
    for (const { id } of tokens) {
      op.reserve(1, TOKEN_KEY_BYTES, TOKEN_KEY_BYTES).deleteReserved(tokenKey(id));
    }
    try {
      await op.commit(this.#observer);
    } catch {
      // the database went away first: the tokens expire on their own
    }
  }
}
