/**
 * Where the client encodes outgoing frames: large chunks handed out in order,
 * so that frames submitted one after another sit side by side and a batch of
 * them goes out as one view, without a per-frame buffer or a second copy. A
 * chunk is never written to twice: it lives as long as a frame in it does.
 *
 * @module
 */
import {
  appendPayloadBytes,
  type AppendRequest,
  encodeAppendInto,
  HEADER_BYTES,
} from "../protocol/wire.ts";

const CHUNK_BYTES = 256 * 1024;
/** Frames larger than this get a buffer of their own. */
const OWN_BUFFER_BYTES = CHUNK_BYTES / 4;

/** Hands out room for frames; after {@link FrameArena.reserve}, `bytes`/`view`/`at` locate it. */
export class FrameArena {
  /** The chunk the last reservation is in. */
  bytes: Uint8Array = new Uint8Array(0);
  /** A DataView over all of `bytes.buffer`. */
  view: DataView = new DataView(this.bytes.buffer);
  /** Offset of the last reservation in `bytes`. */
  at = 0;
  #used = 0;

  /** Reserves `size` bytes; they are then at `bytes[at .. at + size)`. */
  reserve(size: number): void {
    if (size > OWN_BUFFER_BYTES) {
      const own = new Uint8Array(size);
      this.bytes = own;
      this.view = new DataView(own.buffer);
      this.at = 0;
      this.#used = size; // nothing else goes in this one
      return;
    }
    if (this.bytes.length - this.#used < size) {
      this.bytes = new Uint8Array(CHUNK_BYTES);
      this.view = new DataView(this.bytes.buffer);
      this.#used = 0;
    }
    this.at = this.#used;
    this.#used += size;
  }
}

/**
 * Encodes a frame into `arena`: header, then `body` (an append is encoded in
 * place). Returns the frame's length; it lies at `arena.bytes[arena.at ..]`.
 * No view is made: a request keeps where its frame is, as numbers.
 */
export function encodeFrame(
  arena: FrameArena,
  msgType: number,
  flags: number,
  id: number,
  body: Uint8Array | AppendRequest,
): number {
  const size = body instanceof Uint8Array ? body.length : appendPayloadBytes(body);
  arena.reserve(HEADER_BYTES + size);
  const { bytes, view, at } = arena;
  if (body instanceof Uint8Array) bytes.set(body, at + HEADER_BYTES);
  else flags |= encodeAppendInto(body, bytes, view, at + HEADER_BYTES);
  view.setUint32(at, size, true);
  view.setUint16(at + 4, msgType, true);
  view.setUint16(at + 6, flags, true);
  // A number, not a BigInt: ids count up from 1 and stay far below 2^53.
  view.setUint32(at + 8, id >>> 0, true);
  view.setUint32(at + 12, Math.floor(id / 0x1_0000_0000), true);
  return HEADER_BYTES + size;
}
