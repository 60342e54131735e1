/**
 * The limits of one Deno KV operation, as KV Connect (remote `denokv`)
 * enforces them. A local file or memory KV is more lenient, but the store
 * keeps to these everywhere so the same code works against a remote server.
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

/**
 * Our own budget per commit, below {@link MAX_COMMIT_BYTES}: our size
 * estimates of serialized values are close but not exact, so keep a margin.
 */
export const COMMIT_BYTE_BUDGET = 640 * 1024;
/** Payloads, blobs and bundles up to this size are stored inline in their record. */
export const INLINE_BYTES = 48 * 1024;
/** Size of one content-addressed chunk of a larger value. */
export const CHUNK_BYTES = 60 * 1024;
/** Chunks written per commit: 10 × 60 KiB stays under the commit budget. */
export const CHUNKS_PER_COMMIT = 10;
/**
 * Entries per round trip of our range reads (at most 1000 are allowed).
 * Larger batches make paging through a long history hold far more memory.
 */
export const LIST_BATCH = 100;
