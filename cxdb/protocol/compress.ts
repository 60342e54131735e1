/**
 * zstd for large payloads, through node:zlib (Deno 2.9 ships zstdCompressSync
 * and zstdDecompressSync). Small payloads travel uncompressed: below the
 * threshold the CPU spent is worth more than the bytes saved.
 *
 * @module
 */
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { COMPRESSION_NONE, COMPRESSION_ZSTD, WireError } from "./wire.ts";

/** Payloads from this many bytes up are offered to zstd. */
export const DEFAULT_COMPRESS_THRESHOLD = 64 * 1024;

/** A payload as it goes on the wire. */
export interface WirePayload {
  /** 0 none, 1 zstd. */
  readonly compression: number;
  /** The bytes to send. */
  readonly bytes: Uint8Array;
}

/**
 * Compresses `payload` with zstd when it is at least `threshold` bytes and
 * compression actually shrinks it; otherwise returns it as is.
 */
export function compressForWire(
  payload: Uint8Array,
  threshold: number = DEFAULT_COMPRESS_THRESHOLD,
): WirePayload {
  if (payload.length < threshold) return { compression: COMPRESSION_NONE, bytes: payload };
  const packed = zstdCompressSync(payload);
  if (packed.length >= payload.length) return { compression: COMPRESSION_NONE, bytes: payload };
  return {
    compression: COMPRESSION_ZSTD,
    bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.length),
  };
}

/** Undoes {@link compressForWire}; checks the length the sender declared. */
export function decompressFromWire(
  compression: number,
  bytes: Uint8Array,
  uncompressedLength: number,
): Uint8Array {
  if (compression === COMPRESSION_NONE) return bytes;
  if (compression !== COMPRESSION_ZSTD) {
    throw new WireError(`unknown compression code ${compression}`);
  }
  const out = zstdDecompressSync(bytes);
  if (out.length !== uncompressedLength) {
    throw new WireError(
      `zstd payload decompressed to ${out.length} bytes, ${uncompressedLength} were declared`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
