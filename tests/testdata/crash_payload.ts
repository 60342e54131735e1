/**
 * The payload of the crash tests' turn `i` under key `key`: the key padded
 * with dots, to 120 bytes, or to 9,000 for every fourth turn, so that a kv
 * store writes those in body rows (above 4 KiB) beside their turn rows.
 *
 * @module
 */
const encoder = new TextEncoder();

/** The bytes the crash child appends, and the test re-sends, for turn `i`. */
export function crashPayload(key: string, i: number): Uint8Array {
  return encoder.encode(key.padEnd(i % 4 === 0 ? 9_000 : 120, "."));
}
