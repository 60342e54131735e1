/**
 * Small byte arrays made per append — an encoded record, a store's own copy
 * of a payload, a payload's BLAKE3 — as views into shared buffers.
 *
 * A typed array of its own costs V8 far more than its size: a new
 * `ArrayBuffer` object for every one, and for anything over 64 bytes a
 * backing store that is allocated, registered and later swept again by the
 * collector's threads. Small arrays therefore share one 8 KiB buffer, as
 * Node's `Buffer` pool does (same size, same limit): a view kept alive keeps
 * its 8 KiB alive, a bounded price. Views never overlap, so writing to one
 * turn's payload cannot touch another's.
 *
 * @module
 */

/** Size of a shared buffer. */
const POOL_BYTES = 8 * 1024;
/** Arrays shorter than this share; longer ones get a buffer of their own. */
const POOLED_BELOW = POOL_BYTES >>> 1;

/** Hands out small byte arrays that no later one overlaps. */
export class PooledBytes {
  #pool = new Uint8Array(0);
  #used = 0;

  /** A copy of `bytes`. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n === 0 || n >= POOLED_BELOW) return bytes.slice();
    const out = this.#take(n);
    out.set(bytes);
    return out;
  }

  /** A copy of the first `length` bytes of `source`. */
  copyPrefix(source: Uint8Array, length: number): Uint8Array {
    if (length === 0 || length >= POOLED_BELOW) return source.slice(0, length);
    const out = this.#take(length);
    out.set(length === source.length ? source : source.subarray(0, length));
    return out;
  }

  /** `n` zeroed bytes (`n` below 4 KiB), e.g. for a hash to be written into. */
  zeroed(n: number): Uint8Array {
    return n === 0 || n >= POOLED_BELOW ? new Uint8Array(n) : this.#take(n);
  }

  #take(n: number): Uint8Array {
    if (this.#pool.length - this.#used < n) {
      this.#pool = new Uint8Array(POOL_BYTES);
      this.#used = 0;
    }
    const at = this.#used;
    this.#used = (at + n + 7) & ~7; // 8-byte aligned starts, as Node's pool
    return new Uint8Array(this.#pool.buffer, at, n);
  }
}
