/**
 * Accounting for one atomic commit, so a batch never exceeds the KV Connect
 * limits (checks, mutations, bytes). Sizes are estimates from above.
 *
 * @module
 */
import { keyBytes } from "./keys.ts";
import { KV_CONNECT_LIMITS, type KvLimits, MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.ts";
import { BackendError } from "../core/errors.ts";
import { retryBusy } from "./busy.ts";

/** What one commit carried; reported to a {@link CommitObserver}. */
export interface CommitStats {
  /** Checks in the commit. */
  readonly checks: number;
  /** Mutations in the commit. */
  readonly mutations: number;
  /** Estimated bytes of keys and values. */
  readonly bytes: number;
  /** Estimated bytes of keys. */
  readonly keyBytes: number;
  /** Largest estimated value. */
  readonly largestValue: number;
}

/** Called after every atomic commit the store makes (tests use it to verify limits). */
export type CommitObserver = (stats: CommitStats) => void;

/** An upper bound of the serialized size of a value we store. */
export function valueBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.length + 8;
  if (typeof value === "string") return value.length * 3 + 8;
  if (typeof value === "bigint") return 16;
  if (typeof value === "number" || typeof value === "boolean" || value == null) return 10;
  if (value instanceof Deno.KvU64) return 16;
  let n = 8;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    n += k.length + 4 + valueBytes(v);
  }
  return n;
}

/** An atomic operation that counts what goes into it. */
export class BudgetedAtomic {
  /** The underlying operation. */
  readonly op: Deno.AtomicOperation;
  readonly #limits: KvLimits;
  readonly #cap: number | undefined;
  #checks = 0;
  #mutations = 0;
  #bytes = 0;
  #keyBytes = 0;
  #largest = 0;
  /** Mutations every commit of a chain carries besides its appends (commit_chain.ts). */
  #overheadMutations = 0;

  /**
   * Starts an empty operation on `kv` that keeps to `limits` (KV Connect's by
   * default) and, given a `cap`, stays within `cap` estimated bytes unless
   * its first mutations alone exceed it (quick_commits.ts).
   */
  constructor(kv: Deno.Kv, limits: KvLimits = KV_CONNECT_LIMITS, cap?: number) {
    this.op = kv.atomic();
    this.#limits = limits;
    this.#cap = cap;
  }

  /** Checks left. */
  get checksLeft(): number {
    return this.#limits.checks - this.#checks;
  }

  /** Mutations so far. */
  get mutations(): number {
    return this.#mutations;
  }

  /** True when `mutations` more mutations of `bytes` (keys and values) still fit. */
  fits(mutations: number, bytes: number, keys = 0): boolean {
    const limits = this.#limits;
    const cap = this.#cap;
    // Under a cap, the first mutations always fit (the commit has to carry something), and a
    // commit that already exceeds the cap is slow anyway, so only crossing it is refused.
    if (
      cap !== undefined && this.#mutations > this.#overheadMutations && this.#bytes <= cap &&
      this.#bytes + bytes > cap
    ) {
      return false;
    }
    return this.#mutations + mutations <= limits.mutations &&
      this.#bytes + bytes <= limits.bytes &&
      this.#keyBytes + keys <= limits.keyBytes;
  }

  /** Adds a versionstamp check, counting its key. */
  check(key: Deno.KvKey, versionstamp: string | null): this {
    const kb = keyBytes(key);
    return this.reserve(0, kb, kb).checkReserved(key, versionstamp);
  }

  /**
   * Adds a versionstamp check whose key bytes were counted by {@link reserve}
   * while the commit was planned (so a capped commit's size includes them).
   */
  checkReserved(key: Deno.KvKey, versionstamp: string | null): this {
    if (this.#checks >= this.#limits.checks) {
      throw new BackendError(`internal: more than ${this.#limits.checks} checks in one commit`);
    }
    this.#checks++;
    this.op.check({ key, versionstamp });
    return this;
  }

  /**
   * Adds a set; `sizes` are the key and value estimates when the caller has
   * them, `expireIn` (ms) lets Deno KV drop the entry after that long.
   */
  set(
    key: Deno.KvKey,
    value: unknown,
    sizes?: readonly [number, number],
    expireIn?: number,
  ): this {
    const kb = sizes?.[0] ?? keyBytes(key);
    const vb = sizes?.[1] ?? valueBytes(value);
    if (kb > MAX_KEY_BYTES || vb > MAX_VALUE_BYTES) {
      throw new BackendError(
        `internal: key ${
          JSON.stringify(String(key[0]))
        } of ${kb} bytes or value of ${vb} bytes exceeds the KV limits`,
      );
    }
    this.#mutations++;
    this.#bytes += kb + vb;
    this.#keyBytes += kb;
    this.#largest = Math.max(this.#largest, vb);
    if (expireIn === undefined) this.op.set(key, value);
    else this.op.set(key, value, { expireIn });
    return this;
  }

  /**
   * Counts a value that is built while the commit is planned (a key block):
   * `mutations` sets of `bytes` (keys and values) and `keys` key bytes, set
   * later with {@link setReserved}. The caller checked {@link fits} first.
   */
  reserve(mutations: number, bytes: number, keys: number): this {
    this.#mutations += mutations;
    this.#bytes += bytes;
    this.#keyBytes += keys;
    return this;
  }

  /**
   * Counts what a commit carries besides its appends (a chain's check and
   * token delete, commit_chain.ts), before anything else is planned: it
   * counts against the limits and the cap, but a commit still takes its
   * first append whatever the cap.
   */
  reserveOverhead(mutations: number, bytes: number, keys: number): this {
    this.#overheadMutations += mutations;
    return this.reserve(mutations, bytes, keys);
  }

  /** Adds a delete whose key was counted by {@link reserve} or {@link reserveOverhead}. */
  deleteReserved(key: Deno.KvKey): this {
    this.op.delete(key);
    return this;
  }

  /** Adds a set whose key and value were counted by {@link reserve}. */
  setReserved(key: Deno.KvKey, value: Uint8Array): this {
    if (value.length + 8 > MAX_VALUE_BYTES) {
      throw new BackendError(`internal: a value of ${value.length} bytes exceeds the KV limits`);
    }
    this.#largest = Math.max(this.#largest, value.length + 8);
    this.op.set(key, value);
    return this;
  }

  /** Estimated bytes of keys and values so far (what {@link stats} reports, without an object). */
  get bytes(): number {
    return this.#bytes;
  }

  /** What the commit carries. */
  stats(): CommitStats {
    return {
      checks: this.#checks,
      mutations: this.#mutations,
      bytes: this.#bytes,
      keyBytes: this.#keyBytes,
      largestValue: this.#largest,
    };
  }

  /** Commits, reporting the stats to `observer`. */
  async commit(observer?: CommitObserver): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const result = await retryBusy(() => this.op.commit(), "kv commit");
    observer?.(this.stats());
    return result;
  }
}

/** Estimated bytes of one set of `key` to `value`. */
export function setBytes(key: Deno.KvKey, value: unknown): number {
  return keyBytes(key) + valueBytes(value);
}
