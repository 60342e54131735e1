/**
 * UTF-8 bytes of the short strings a turn record carries (type ids,
 * idempotency keys), without a runtime call per string: `TextEncoder.encode`
 * is an op (~0.4 µs each, three per append before this), while these strings
 * are almost always ASCII and a few dozen characters. Anything else goes to
 * `TextEncoder`, so the bytes are the same either way.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes `s` into `out` at `at` when it is all ASCII and fits; returns the end, or -1. */
export function asciiInto(s: string, out: Uint8Array, at: number): number {
  if (at + s.length > out.length) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    out[at + i] = c;
  }
  return at + s.length;
}

/** UTF-8 bytes of `s` (a fresh array). */
export function utf8(s: string): Uint8Array {
  if (s.length <= 256) {
    const out = new Uint8Array(s.length);
    if (asciiInto(s, out, 0) >= 0) return out;
  }
  return encoder.encode(s);
}

/** Most distinct strings {@link utf8Cached} keeps (type ids are few). */
const CACHE_LIMIT = 256;
const cache = new Map<string, Uint8Array>();

/**
 * UTF-8 bytes of a string that recurs (a record's type id), kept after the
 * first call. Callers copy the bytes and never write to them.
 */
export function utf8Cached(s: string): Uint8Array {
  let bytes = cache.get(s);
  if (bytes === undefined) {
    bytes = utf8(s);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, bytes);
  }
  return bytes;
}
