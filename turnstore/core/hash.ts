/**
 * BLAKE3-256 content hashes, as lowercase hex. BLAKE3 is what CXDB uses for
 * payload and blob addresses, so hashes are comparable across backends.
 *
 * @module
 */
import { createBLAKE3, type IHasher } from "hash-wasm";
import { InvalidInputError } from "./errors.ts";

// One hasher instance serves every call: hash-wasm's hasher is synchronous
// once created, and JavaScript never interleaves two synchronous calls.
const hasher: IHasher = await createBLAKE3(256);

/** BLAKE3-256 of `bytes`, as 64 lowercase hex characters. */
export function blake3Hex(bytes: Uint8Array): string {
  hasher.init();
  hasher.update(bytes);
  return hasher.digest("hex");
}

/** BLAKE3-256 of `bytes`, as 32 raw bytes. */
export function blake3Bytes(bytes: Uint8Array): Uint8Array {
  hasher.init();
  hasher.update(bytes);
  return hasher.digest("binary");
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

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
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
