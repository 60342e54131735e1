/**
 * Bytes for new turn records, carved one after another from shared chunks,
 * and the batch's log write assembled from them.
 *
 * An append copies the caller's payload into its record when it is called
 * (the caller may reuse its buffer at once). A fresh `Uint8Array` per record
 * costs 0.2–0.3 µs in Deno (every array gets its own `ArrayBuffer`) plus the
 * collector's work to free it; a view of a shared chunk costs a tenth of
 * that. Records of consecutive appends then also sit next to each other, so
 * a batch is usually written from the chunk itself instead of being copied
 * into one buffer first.
 *
 * A record's bytes (and the payload an append returns, a view of them) keep
 * their chunk alive while they are referenced, as the payloads `listTurns`
 * returns share one read buffer.
 *
 * @module
 */

/** Bytes of one shared chunk. */
export const ARENA_CHUNK_BYTES = 64 * 1024;
/** Records bigger than this get an array of their own (the copy dwarfs the allocation). */
export const ARENA_OWN_ABOVE = 8 * 1024;

/** Zeroed bytes for records, each region handed out once. */
export class RecordArena {
  #chunk = new Uint8Array(0);
  #at = 0;

  /** `size` zeroed bytes: a view of the current chunk, or an array of their own when large. */
  take(size: number): Uint8Array {
    if (size > ARENA_OWN_ABOVE) return new Uint8Array(size);
    if (this.#at + size > this.#chunk.length) {
      this.#chunk = new Uint8Array(ARENA_CHUNK_BYTES);
      this.#at = 0;
    }
    const out = this.#chunk.subarray(this.#at, this.#at + size);
    this.#at += size;
    return out;
  }
}

/** Most separate writes a batch is written with before its frames are copied into one buffer. */
const MAX_WRITES = 2;

/**
 * The bytes to write for `frames`, in order: one view per run of frames that
 * lie next to each other in one buffer (no copy), or, when that would take
 * more than {@link MAX_WRITES} writes, one buffer they are copied into.
 */
export function batchWrites(frames: readonly Uint8Array[], total: number): Uint8Array[] {
  const runs: Uint8Array[] = [];
  let first = frames[0];
  let length = first.length;
  for (let i = 1; i < frames.length; i++) {
    const frame = frames[i];
    if (frame.buffer === first.buffer && frame.byteOffset === first.byteOffset + length) {
      length += frame.length;
      continue;
    }
    runs.push(new Uint8Array(first.buffer, first.byteOffset, length));
    if (runs.length >= MAX_WRITES) return [concat(frames, total)];
    first = frame;
    length = frame.length;
  }
  runs.push(new Uint8Array(first.buffer, first.byteOffset, length));
  return runs;
}

function concat(frames: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const frame of frames) {
    out.set(frame, at);
    at += frame.length;
  }
  return out;
}
