/**
 * Packs the payloads of one message's appends into a few buffers: each
 * payload is copied once, at the call, into a slab; the message carries a copy
 * of the slab's new bytes (one buffer per slab touched, handed over to the
 * worker), and the append's answer returns a view of the slab. One
 * allocation per slab instead of two buffers per append (the copy and its
 * structured clone).
 *
 * @module
 */

/** Slab size; a payload above a quarter of it gets a slab of its own. */
const SLAB_BYTES = 64 * 1024;

/** Collects the payloads of the calls of one tick. */
export class PayloadPacker {
  #slab = new Uint8Array(SLAB_BYTES);
  #used = 0;
  /** Where this message's bytes start in the current slab. */
  #start = 0;
  #buffers: ArrayBuffer[] = [];

  /**
   * Copies `payload`; returns the index of its buffer in this message, its
   * offset there, and the caller-side copy (a view that is never written
   * again).
   */
  add(payload: Uint8Array): [buffer: number, offset: number, copy: Uint8Array] {
    const length = payload.length;
    if (length > SLAB_BYTES / 4) {
      const copy = payload.slice();
      this.#seal();
      this.#buffers.push(copy.buffer.slice(0));
      return [this.#buffers.length - 1, 0, copy];
    }
    if (this.#used + length > SLAB_BYTES) {
      this.#seal();
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
      this.#start = 0;
    }
    const at = this.#used;
    this.#slab.set(payload, at);
    this.#used += length;
    return [this.#buffers.length, at - this.#start, this.#slab.subarray(at, at + length)];
  }

  /** The buffers of this message, in index order; the next message starts empty. */
  take(): ArrayBuffer[] {
    this.#seal();
    const buffers = this.#buffers;
    this.#buffers = [];
    return buffers;
  }

  /** Ends this message's use of the current slab: its new bytes become one buffer. */
  #seal(): void {
    if (this.#used > this.#start) {
      this.#buffers.push(this.#slab.buffer.slice(this.#start, this.#used));
      this.#start = this.#used;
    }
  }
}
