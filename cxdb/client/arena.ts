/**
 * Where the client encodes outgoing frames: large chunks handed out in order,
 * so that frames submitted one after another sit side by side and a batch of
 * them goes out as one view, without a per-frame buffer or a second copy. A
 * frame's bytes stay as they are until its request settles (a replay sends
 * them again); only then, and once no write can still be reading them, is
 * their room written again.
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
/** Chunks kept for reuse (1 MiB): enough for the default 512 requests in flight of a few KiB. */
const KEEP_CHUNKS = 4;

/** Where one frame lies in the arena. */
export interface ArenaFrame {
  /** Its chunk. */
  readonly chunk: ArenaChunk;
  /** Where it starts in `chunk.bytes`. */
  readonly at: number;
  /** Its length. */
  readonly size: number;
}

/** One buffer of the arena, and how many frames in it are still wanted. */
export class ArenaChunk {
  /** A DataView over all of `bytes.buffer`. */
  readonly view: DataView;
  /** Frames reserved here and not yet released. */
  live = 0;

  /** A chunk over `bytes`; `reusable` is false for a large frame's own buffer. */
  constructor(readonly bytes: Uint8Array, readonly reusable: boolean) {
    this.view = new DataView(bytes.buffer);
  }
}

/**
 * Hands out room for frames; after {@link FrameArena.reserve}, `chunk` and
 * `at` locate it.
 *
 * A chunk is written again once every frame in it has been released (its
 * request settled) and no socket write can still be reading it: the owner
 * calls {@link FrameArena.recycle} when no write is under way. So a steady
 * stream of requests reuses a few chunks instead of allocating a new 256 KiB
 * `ArrayBuffer` every ~230 frames of 1 KiB; each was ~25 µs to allocate and
 * zero, and, as memory outside V8's heap, a step toward the next full
 * collection (cxdb README, issue 12, ninth pass).
 */
export class FrameArena {
  /** The chunk the last reservation is in. */
  chunk: ArenaChunk = new ArenaChunk(new Uint8Array(0), false);
  /** Offset of the last reservation in `chunk.bytes`. */
  at = 0;
  /** Where shared reservations go. */
  #current: ArenaChunk = this.chunk;
  #used = 0;
  /** No frame wanted, but a write under way may still be reading them. */
  #retired: ArenaChunk[] = [];
  /** Ready to be written again. */
  #free: ArenaChunk[] = [];
  /** Where {@link FrameArena.join} copies a batch, and whether no write can be reading it. */
  #join: Uint8Array = new Uint8Array(0);
  #joinFree = true;

  /** An empty arena; `counter.sendChunks` counts the chunks it allocates (not reuses). */
  constructor(readonly counter: { sendChunks: number } = { sendChunks: 0 }) {}

  /** The bytes of the chunk the last reservation is in. */
  get bytes(): Uint8Array {
    return this.chunk.bytes;
  }

  /** A DataView over all of {@link FrameArena.bytes}'s buffer. */
  get view(): DataView {
    return this.chunk.view;
  }

  /**
   * Reserves `size` bytes; they are then at `bytes[at .. at + size)`, and
   * the chunk counts one more live frame until {@link FrameArena.release}.
   */
  reserve(size: number): void {
    if (size > OWN_BUFFER_BYTES) {
      // Nothing else goes in this one, and it is never reused.
      this.chunk = new ArenaChunk(new Uint8Array(size), false);
      this.chunk.live = 1;
      this.at = 0;
      return;
    }
    let current = this.#current;
    if (current.bytes.length - this.#used < size) {
      if (current.live === 0) this.#retire(current);
      current = this.#free.pop() ?? this.#allocate();
      this.#current = current;
      this.#used = 0;
    }
    this.chunk = current;
    this.at = this.#used;
    this.#used += size;
    current.live++;
  }

  /** A frame in `chunk` is no longer wanted (its request settled). */
  release(chunk: ArenaChunk): void {
    if (--chunk.live === 0 && chunk !== this.#current) this.#retire(chunk);
  }

  /**
   * Keeps a chunk no frame wants for {@link FrameArena.recycle}; at most as
   * many as are kept for reuse, so that a writer that is never idle does not
   * make the arena hold on to every chunk it filled.
   */
  #retire(chunk: ArenaChunk): void {
    if (chunk.reusable && this.#retired.length < KEEP_CHUNKS) this.#retired.push(chunk);
  }

  /**
   * Called when no socket write is under way: chunks released before now
   * can be written again (a few are kept, the rest left to the collector),
   * and so can the join buffer.
   */
  recycle(): void {
    const retired = this.#retired;
    while (retired.length > 0 && this.#free.length < KEEP_CHUNKS) this.#free.push(retired.pop()!);
    retired.length = 0;
    this.#joinFree = true;
  }

  /**
   * The frames `frames` (`total` bytes in all) copied side by side, for a
   * batch that does not lie in one piece (it began at the end of a full
   * chunk): into one kept buffer while no write can be reading it, else a new
   * one. Such a batch used to get a new buffer of its own (~70 KB for a
   * window of 1 KiB appends) once per chunk.
   */
  join(frames: readonly ArenaFrame[], total: number): Uint8Array {
    let out: Uint8Array;
    if (this.#joinFree && this.#join.length >= total) {
      out = this.#join.subarray(0, total);
    } else {
      out = new Uint8Array(total);
      if (total <= CHUNK_BYTES && this.#joinFree) this.#join = out;
    }
    this.#joinFree = false;
    let at = 0;
    for (const f of frames) {
      out.set(f.chunk.bytes.subarray(f.at, f.at + f.size), at);
      at += f.size;
    }
    return out;
  }

  #allocate(): ArenaChunk {
    this.counter.sendChunks++;
    return new ArenaChunk(new Uint8Array(CHUNK_BYTES), true);
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
