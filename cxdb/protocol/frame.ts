/**
 * CXDB binary-protocol framing: the 16-byte header (u32 len, u16 msg_type,
 * u16 flags, u64 req_id, little-endian), whole-frame encoding, and a parser
 * that splits a byte stream into frames. Pure functions over bytes.
 *
 * @module
 */

/** Bytes of a frame header: u32 len, u16 msg_type, u16 flags, u64 req_id. */
export const HEADER_BYTES = 16;
/** Largest frame payload we accept from a peer (guards against a corrupt length). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** The protocol is malformed: a short or inconsistent payload. */
export class WireError extends Error {
  /** Always "Protocol". */
  readonly code = "Protocol" as const;
  /** Creates a protocol error naming what was malformed. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** A decoded frame header. */
export interface FrameHeader {
  /** Payload length. */
  readonly length: number;
  /** Message type. */
  readonly msgType: number;
  /** Flags. */
  readonly flags: number;
  /** Request id, echoed by the server. */
  readonly reqId: bigint;
}

/** Encodes a whole frame: header then payload. */
export function encodeFrame(
  msgType: number,
  flags: number,
  reqId: bigint,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload.length, true);
  v.setUint16(4, msgType, true);
  v.setUint16(6, flags, true);
  v.setBigUint64(8, reqId, true);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Decodes the 16-byte header at `offset` of `bytes`. */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_BYTES);
  return {
    length: v.getUint32(0, true),
    msgType: v.getUint16(4, true),
    flags: v.getUint16(6, true),
    reqId: v.getBigUint64(8, true),
  };
}

/** Splits a byte stream into frames; feed it chunks, take whole frames out. */
export class FrameParser {
  #buf = new Uint8Array(0);
  /** Over `#buf`, made once per buffer rather than once per frame. */
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    const live = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, live + chunk.length, 65536));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Message type of the frame {@link FrameParser.advance} stepped onto. */
  msgType = 0;
  /** Its flags. */
  flags = 0;
  /**
   * Its request id as a number: exact below 2^53 (ids a client hands out
   * from 1 upward); larger ids come out rounded, so match them with `next()`.
   */
  reqId = 0;
  /** Where its payload starts in {@link FrameParser.bytes}. */
  payloadAt = 0;
  /** Its payload's length. */
  payloadLength = 0;

  /** The buffer {@link FrameParser.payloadAt} points into; valid until the next push. */
  get bytes(): Uint8Array {
    return this.#buf;
  }

  /**
   * Steps onto the next whole frame without allocating: its fields are then
   * `msgType`, `flags`, `reqId`, `payloadAt` and `payloadLength` (the payload
   * lies in {@link FrameParser.bytes} until the next push). False when more
   * bytes are needed. For a reader that handles many small answers, such as
   * a pipelining client: no header object, request id BigInt or view per frame.
   */
  advance(): boolean {
    if (this.#end - this.#start < HEADER_BYTES) return false;
    const v = this.#view;
    const at = this.#start;
    const length = v.getUint32(at, true);
    if (length > MAX_FRAME_BYTES) {
      throw new WireError(`frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    }
    const total = HEADER_BYTES + length;
    if (this.#end - at < total) return false;
    this.msgType = v.getUint16(at + 4, true);
    this.flags = v.getUint16(at + 6, true);
    this.reqId = v.getUint32(at + 12, true) * 0x1_0000_0000 + v.getUint32(at + 8, true);
    this.payloadAt = at + HEADER_BYTES;
    this.payloadLength = length;
    this.#start += total;
    // The bytes stay where they are until the next push writes over them.
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return true;
  }

  /**
   * The next whole frame, or undefined when more bytes are needed. With
   * `copy` false the payload is a view that is valid only until the next
   * {@link FrameParser.push} (for callers that decode it at once).
   */
  next(copy = true): { header: FrameHeader; payload: Uint8Array } | undefined {
    if (this.#end - this.#start < HEADER_BYTES) return undefined;
    const v = this.#view;
    const at = this.#start;
    const header: FrameHeader = {
      length: v.getUint32(at, true),
      msgType: v.getUint16(at + 4, true),
      flags: v.getUint16(at + 6, true),
      reqId: v.getBigUint64(at + 8, true),
    };
    if (header.length > MAX_FRAME_BYTES) {
      throw new WireError(
        `frame of ${header.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`,
      );
    }
    const total = HEADER_BYTES + header.length;
    if (this.#end - this.#start < total) return undefined;
    const from = this.#start + HEADER_BYTES;
    const payload = copy
      ? this.#buf.slice(from, this.#start + total)
      : this.#buf.subarray(from, this.#start + total);
    this.#start += total;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { header, payload };
  }
}
