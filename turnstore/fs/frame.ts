/**
 * The framing of every record in a log file: a 20-byte header with its own
 * CRC-32, then the body, covered by a second CRC-32. The header checksum lets
 * recovery trust a record's length before it trusts its bytes, so a torn
 * tail (short or garbled last record) is told apart from a damaged record
 * followed by good ones.
 *
 * ```
 * offset size field
 *      0    4 magic "FLG1" (0x31474c46, little-endian)
 *      4    1 kind (1 context, 2 turn, 3 fs attach, 4 registry bundle, 5 index watermark)
 *      5    3 zero
 *      8    4 body length
 *     12    4 CRC-32 of the body
 *     16    4 CRC-32 of bytes 0..15
 *     20    … body
 * ```
 *
 * @module
 */
import { crc32 } from "node:zlib";

/** Bytes before a record's body. */
export const FRAME_HEADER_BYTES = 20;
/** The first four bytes of every record. */
export const FRAME_MAGIC = 0x31474c46;

/** What a record holds. */
export const RecordKind = {
  context: 1,
  turn: 2,
  attach: 3,
  bundle: 4,
  watermark: 5,
} as const;

/** A record kind number. */
export type RecordKindCode = (typeof RecordKind)[keyof typeof RecordKind];

/** CRC-32 (IEEE) of `bytes`, unsigned. */
export function checksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

/** Builds one framed record. */
export function encodeFrame(kind: RecordKindCode, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  out.set(body, FRAME_HEADER_BYTES);
  return sealFrame(out, kind);
}

/**
 * Fills in the header of `frame`, whose body was written after the first
 * {@link FRAME_HEADER_BYTES} bytes (saves copying a large body), and returns it.
 */
export function sealFrame(frame: Uint8Array, kind: RecordKindCode): Uint8Array {
  // Byte stores rather than a DataView: this runs for every append.
  putU32(frame, 0, FRAME_MAGIC);
  frame[4] = kind;
  frame[5] = frame[6] = frame[7] = 0;
  putU32(frame, 8, frame.length - FRAME_HEADER_BYTES);
  putU32(frame, 12, checksum(frame.subarray(FRAME_HEADER_BYTES)));
  putU32(frame, 16, checksum(frame.subarray(0, 16)));
  return frame;
}

function putU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n & 0xff;
  out[at + 1] = (n >>> 8) & 0xff;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 24) & 0xff;
}

/** A header whose own checksum holds. */
export interface FrameHeader {
  /** Record kind. */
  readonly kind: number;
  /** Body length in bytes. */
  readonly bodyLength: number;
  /** Expected CRC-32 of the body. */
  readonly bodyChecksum: number;
}

/** Parses a header; undefined when the magic or the header checksum is wrong. */
export function decodeHeader(bytes: Uint8Array): FrameHeader | undefined {
  if (bytes.length < FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_BYTES);
  if (view.getUint32(0, true) !== FRAME_MAGIC) return undefined;
  if (view.getUint32(16, true) !== checksum(bytes.subarray(0, 16))) return undefined;
  return {
    kind: bytes[4],
    bodyLength: view.getUint32(8, true),
    bodyChecksum: view.getUint32(12, true),
  };
}

/** The body of a complete frame, or a sentence saying what is wrong with it. */
export function checkFrame(frame: Uint8Array): { kind: number; body: Uint8Array } | string {
  const header = decodeHeader(frame);
  if (!header) return "bad magic or header checksum";
  const end = FRAME_HEADER_BYTES + header.bodyLength;
  if (frame.length < end) return `record is cut short (${frame.length} of ${end} bytes)`;
  const body = frame.subarray(FRAME_HEADER_BYTES, end);
  if (checksum(body) !== header.bodyChecksum) return "body checksum mismatch";
  return { kind: header.kind, body };
}
