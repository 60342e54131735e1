/**
 * The limits of one Deno KV operation. KV Connect (a remote `denokv`)
 * enforces the strictest ones (`denokv_proto`'s limits: 10 checks per
 * commit); a local file or memory KV allows 100 checks (Deno's `KvConfig`
 * defaults). Everything else is the same on both. The constants below are
 * the KV Connect values; {@link KvLimits} bundles what differs per target.
 *
 * @module
 */

/** Most checks in one atomic commit (KV Connect). */
export const MAX_CHECKS = 10;
/** Most mutations in one atomic commit. */
export const MAX_MUTATIONS = 1000;
/** Largest value, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Largest key, in bytes. */
export const MAX_KEY_BYTES = 2048;
/** Largest sum of key and value sizes in one atomic commit (800 KiB). */
export const MAX_COMMIT_BYTES = 800 * 1024;
/** Largest sum of key sizes in one atomic commit (80 KiB). */
export const MAX_COMMIT_KEY_BYTES = 80 * 1024;
/** Most keys in one `getMany`. */
export const MAX_GET_MANY = 10;
/** Most entries one range read returns per round trip. */
export const MAX_READ_ENTRIES = 1000;

/** Most checks in one atomic commit on a local file or memory KV (Deno's default). */
export const MAX_LOCAL_CHECKS = 100;

/**
 * Our own budget per commit, below {@link MAX_COMMIT_BYTES}. Our size
 * estimates of keys and serialized values are upper bounds, so a small
 * margin is enough; 768 KiB holds 64 turns of 10 KB in one commit.
 */
export const COMMIT_BYTE_BUDGET = 768 * 1024;

/** What one atomic commit may carry on a given target. */
export interface KvLimits {
  /** Checks per commit: how many contexts one group-commit round can cover. */
  readonly checks: number;
  /** Mutations per commit. */
  readonly mutations: number;
  /** Our budget of estimated key and value bytes per commit. */
  readonly bytes: number;
  /** Estimated key bytes per commit. */
  readonly keyBytes: number;
  /**
   * Estimated bytes up to which a commit is quick: Deno's remote client sends
   * a larger request in two writes and the second waits ~40 ms for the
   * server's delayed ACK (quick_commits.ts). Set for KV Connect only; a round
   * of small appends is then cut into quick commits when that is measured to
   * be faster.
   */
  readonly quickCommitBytes?: number;
  /**
   * Most commits of one store handle in flight at once (1 when unset):
   * over KV Connect a commit costs a round trip, and overlapping commits
   * hide it (commit_chain.ts). A local KV commits in the caller's process,
   * where overlap buys nothing.
   */
  readonly commitsInFlight?: number;
}

/**
 * {@link KvLimits.quickCommitBytes} over KV Connect. The estimates are upper
 * bounds (checks included); against the in-repo peer a commit of up to
 * ~980 bytes of value went out at once and one of 1,000 did not.
 */
export const QUICK_COMMIT_BYTES = 960;

/**
 * {@link KvLimits.commitsInFlight} over KV Connect. Measured against the
 * in-repo peer (bench/README.md, "Overlapping commits").
 */
export const COMMITS_IN_FLIGHT = 16;

/** The limits of a remote `denokv` over KV Connect; safe on every target. */
export const KV_CONNECT_LIMITS: KvLimits = Object.freeze({
  checks: MAX_CHECKS,
  mutations: MAX_MUTATIONS,
  bytes: COMMIT_BYTE_BUDGET,
  keyBytes: MAX_COMMIT_KEY_BYTES,
  quickCommitBytes: QUICK_COMMIT_BYTES,
  commitsInFlight: COMMITS_IN_FLIGHT,
});

/** The limits of a local file or `:memory:` KV: ten times the checks of KV Connect, no quick size. */
export const LOCAL_KV_LIMITS: KvLimits = Object.freeze({
  checks: MAX_LOCAL_CHECKS,
  mutations: MAX_MUTATIONS,
  bytes: COMMIT_BYTE_BUDGET,
  keyBytes: MAX_COMMIT_KEY_BYTES,
});
/** Payloads, blobs and bundles up to this size are stored inline in their record. */
export const INLINE_BYTES = 48 * 1024;
/**
 * A turn payload larger than this (and up to {@link INLINE_BYTES}) is stored
 * in a body row of its own, `["body", turnId]`, written in the same commit as
 * its turn row, which keeps only the turn's metadata (see keys.ts). Turn ids
 * come from per-handle blocks, so body rows land at the end of their B-tree
 * while turn rows, keyed by context, are scattered: a large value in the turn
 * row made every commit rewrite pages of big cells all over the tree. Half
 * the turn-pack cap (turn_pack.ts): a larger turn could not share a pack
 * with another anyway, and smaller ones keep packing together.
 */
export const BODY_ROW_ABOVE = 4 * 1024;
/** Size of one content-addressed chunk of a larger value. */
export const CHUNK_BYTES = 60 * 1024;
/** Chunks written per commit: 10 × 60 KiB stays under the commit budget. */
export const CHUNKS_PER_COMMIT = 10;
/**
 * Entries per round trip of our range reads (at most 1000 are allowed).
 * Larger batches make paging through a long history hold far more memory.
 */
export const LIST_BATCH = 100;
