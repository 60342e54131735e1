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

import { PooledBytes } from "../core/pooled_bytes.ts";

/** Bytes of one shared chunk. */
export const ARENA_CHUNK_BYTES = 64 * 1024;
/** Records bigger than this get an array of their own (the copy dwarfs the allocation). */
export const ARENA_OWN_ABOVE = 8 * 1024;

/**
 * The pool new records are carved from: 64 KiB buffers, records up to 8 KiB,
 * back to back (no alignment gaps), so a batch's records usually lie
 * together and {@link batchWrites} writes them without a copy.
 */
export function recordArena(): PooledBytes {
  return new PooledBytes({
    bufferBytes: ARENA_CHUNK_BYTES,
    pooledBelow: ARENA_OWN_ABOVE + 1,
    align: 1,
  });
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
