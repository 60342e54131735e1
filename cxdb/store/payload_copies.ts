/**
 * The store's own copies of appended payloads (the returned turn's
 * `payload`; the caller may reuse its buffer).
 *
 * A copy of its own `ArrayBuffer` per append is costly out of proportion to
 * its size: V8 allocates and registers a backing store for each, and its
 * collector threads sweep each one again. Small copies therefore share one
 * 8 KiB buffer, as Node's `Buffer` pool does (same size, same limit): a view
 * kept alive keeps its 8 KiB alive, a bounded price. Views never overlap, so
 * writing to one turn's payload cannot touch another's.
 *
 * @module
 */

/** Size of a shared buffer. */
const POOL_BYTES = 8 * 1024;
/** Payloads shorter than this share; longer ones get a buffer of their own. */
const POOLED_BELOW = POOL_BYTES >>> 1;

/** Hands out copies of payloads; small ones are views into a shared buffer. */
export class PayloadCopies {
  #pool = new Uint8Array(0);
  #used = 0;

  /** A copy of `bytes` that no later copy overlaps. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n === 0 || n >= POOLED_BELOW) return bytes.slice();
    if (this.#pool.length - this.#used < n) {
      this.#pool = new Uint8Array(POOL_BYTES);
      this.#used = 0;
    }
    const at = this.#used;
    this.#pool.set(bytes, at);
    this.#used = (at + n + 7) & ~7; // 8-byte aligned starts, as Node's pool
    return new Uint8Array(this.#pool.buffer, at, n);
  }
}
