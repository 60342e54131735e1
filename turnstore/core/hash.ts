/**
 * BLAKE3-256 content hashes, as lowercase hex. BLAKE3 is what CXDB uses for
 * payload and blob addresses, so hashes are comparable across backends.
 *
 * @module
 */
import { hashInto } from "blake3-jit";
import { InvalidInputError } from "./errors.ts";

/** Character codes of each byte's two hex digits. */
const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const digits = i.toString(16).padStart(2, "0");
  HEX_CODES[2 * i] = digits.charCodeAt(0);
  HEX_CODES[2 * i + 1] = digits.charCodeAt(1);
}
/** Bytes turned into one string per call to String.fromCharCode (far below its argument limit). */
const HEX_RUN = 4096;
const hashCodes: number[] = new Array(64).fill(0);
/** Scratch output of {@link blake3Hex}: calls are synchronous, so one buffer serves all. */
const scratch = new Uint8Array(32);

/** BLAKE3-256 of `bytes`, as 64 lowercase hex characters. */
export function blake3Hex(bytes: Uint8Array): string {
  hashInto(bytes, scratch);
  return toHex(scratch);
}

/** BLAKE3-256 of `bytes`, as 32 raw bytes. */
export function blake3Bytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  hashInto(bytes, out);
  return out;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks that `value` is a 64-character lowercase hex hash and returns it. */
export function requireHash(label: string, value: unknown): string {
  if (typeof value !== "string" || !HEX64.test(value)) {
    throw new InvalidInputError(
      `${label} must be a BLAKE3-256 hash as 64 lowercase hex characters, got ${
        typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : String(value)
      }`,
    );
  }
  return value;
}

/**
 * Lowercase hex of `bytes`. Built from character codes in one call, so the
 * result is one flat string: concatenating 2-character pieces would leave a
 * rope of 31 fragments per hash that costs memory while it is kept (hashes
 * are kept in indexes) and time when it is first compared or hashed.
 */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > HEX_RUN) {
    const runs: string[] = [];
    for (let at = 0; at < bytes.length; at += HEX_RUN) {
      runs.push(toHex(bytes.subarray(at, at + HEX_RUN)));
    }
    return runs.join("");
  }
  const codes = bytes.length === 32 ? hashCodes : new Array<number>(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    codes[2 * i] = HEX_CODES[2 * bytes[i]];
    codes[2 * i + 1] = HEX_CODES[2 * bytes[i] + 1];
  }
  return String.fromCharCode.apply(null, codes);
}

/** Bytes of a hex string (even length, any case). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InvalidInputError(`not a hex string: ${JSON.stringify(hex.slice(0, 80))}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
