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

/** Options of {@link PooledBytes}; the defaults are Node's `Buffer` pool's. */
export interface PooledBytesOptions {
  /** Bytes of one shared buffer (default 8 KiB). */
  readonly bufferBytes?: number;
  /** Arrays shorter than this share a buffer; longer ones get their own (default half a buffer). */
  readonly pooledBelow?: number;
  /** Where each array starts: a multiple of this (default 8; 1 keeps arrays back to back). */
  readonly align?: number;
}

/** Hands out small byte arrays that no later one overlaps. */
export class PooledBytes {
  readonly #bufferBytes: number;
  readonly #pooledBelow: number;
  readonly #align: number;
  #pool = new Uint8Array(0);
  #used = 0;

  /** A pool; see {@link PooledBytesOptions}. */
  constructor(options: PooledBytesOptions = {}) {
    this.#bufferBytes = options.bufferBytes ?? 8 * 1024;
    this.#pooledBelow = Math.min(
      options.pooledBelow ?? this.#bufferBytes >>> 1,
      this.#bufferBytes + 1,
    );
    this.#align = options.align ?? 8;
    if (!Number.isInteger(this.#align) || this.#align < 1) {
      throw new RangeError(`align must be a positive integer, got ${this.#align}`);
    }
  }

  /** A copy of `bytes`. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n === 0 || n >= this.#pooledBelow) return bytes.slice();
    const out = this.#take(n);
    out.set(bytes);
    return out;
  }

  /** A copy of the first `length` bytes of `source`. */
  copyPrefix(source: Uint8Array, length: number): Uint8Array {
    if (length === 0 || length >= this.#pooledBelow) return source.slice(0, length);
    const out = this.#take(length);
    out.set(length === source.length ? source : source.subarray(0, length));
    return out;
  }

  /** `n` zeroed bytes, e.g. for a hash or a record to be written into. */
  zeroed(n: number): Uint8Array {
    return n === 0 || n >= this.#pooledBelow ? new Uint8Array(n) : this.#take(n);
  }

  #take(n: number): Uint8Array {
    if (this.#pool.length - this.#used < n) {
      this.#pool = new Uint8Array(this.#bufferBytes);
      this.#used = 0;
    }
    const at = this.#used;
    const align = this.#align;
    this.#used = align === 1 ? at + n : Math.ceil((at + n) / align) * align;
    return new Uint8Array(this.#pool.buffer, at, n);
  }
}
