/**
 * The on-disk indexes, all derived from the log and all made of fixed-size
 * slots at computable offsets, so a lookup is one positioned read whatever
 * the store's size:
 *
 * - `turns.idx`: slot `id - 1` (48 bytes) → where the turn's record is, its
 *   parent, depth, origin context and a skew-binary jump pointer, which finds
 *   the ancestor at any depth in O(log depth) reads.
 * - `contexts.idx`: slot `id - 1` (32 bytes) → base turn, head turn, head depth.
 * - `roots.idx`: slot `id - 1` (40 bytes, a sparse file) → attached tree root.
 *
 * Each slot of these three ends with a CRC-32 of the rest of it; an all-zero
 * slot is empty. A slot whose checksum does not match is damage: reading it
 * is a BackendError naming the file and the offset, never a wrong answer.
 *
 * `keys.idx` (the idempotency key table) is in keys.ts; the slot sealing and
 * write-behind these three share are in slots.ts.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { fromHex, toHex } from "../core/hash.ts";
import { getU64, readAt, setU64, writeAt } from "./io.ts";
import { present, RecentById, seal, SlotScratch, WriteBehind } from "./slots.ts";

/** Bytes of one `turns.idx` slot. */
export const TURN_SLOT = 48;

/** The index entry of a turn: everything ancestry needs, without the payload. */
export interface TurnMeta {
  /** The turn's id; 0 is the empty root. */
  readonly turnId: number;
  /** Offset of its record in the log. */
  readonly offset: number;
  /** Length of its record (header and body). */
  readonly length: number;
  /** Parent id, 0 for a first turn. */
  readonly parentTurnId: number;
  /** Depth, 1 for a first turn. */
  readonly depth: number;
  /** Skew-binary jump pointer: an ancestor id. */
  readonly jumpTurnId: number;
  /** Depth of the jump target. */
  readonly jumpDepth: number;
  /** The context the turn was appended to. */
  readonly originContextId: number;
}

/** The empty root every context starts from. */
export const ROOT_META: TurnMeta = {
  turnId: 0,
  offset: 0,
  length: 0,
  parentTurnId: 0,
  depth: 0,
  jumpTurnId: 0,
  jumpDepth: 0,
  originContextId: 0,
};

/** turns.idx grows in steps of this many bytes, so most appends do not change its size. */
const TURN_INDEX_GROWTH = 1024 * 1024;

/** `turns.idx`. */
export class TurnIndex {
  #recent = new RecentById<TurnMeta>();
  readonly #scratch = new SlotScratch(TURN_SLOT);
  #slots: WriteBehind;

  constructor(readonly file: Deno.FsFile, readonly path: string) {
    this.#slots = new WriteBehind(file, TURN_SLOT, TURN_INDEX_GROWTH);
  }

  /** Empties the index (before a rebuild). */
  clear(): void {
    this.#slots.clear();
    this.#recent.clear();
  }

  /** Writes held-back entries to the file. */
  flush(): void {
    this.#slots.flush();
  }

  /** The entry of `turnId`, or undefined when its slot is empty. */
  get(turnId: number): TurnMeta | undefined {
    if (turnId === 0) return ROOT_META;
    const cached = this.#recent.get(turnId);
    if (cached) return cached;
    const at = (turnId - 1) * TURN_SLOT;
    const bytes = this.#slots.read(at);
    if (bytes.length < TURN_SLOT) return undefined;
    if (!present(bytes, this.path, at, `turn ${turnId}`)) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, TURN_SLOT);
    return {
      turnId,
      offset: getU64(view, 0),
      parentTurnId: getU64(view, 8),
      jumpTurnId: getU64(view, 16),
      originContextId: getU64(view, 24),
      depth: view.getUint32(32, true),
      jumpDepth: view.getUint32(36, true),
      length: view.getUint32(40, true),
    };
  }

  /** Writes the entry of `meta.turnId`. */
  put(meta: TurnMeta): void {
    const view = this.#scratch.view;
    setU64(view, 0, meta.offset);
    setU64(view, 8, meta.parentTurnId);
    setU64(view, 16, meta.jumpTurnId);
    setU64(view, 24, meta.originContextId);
    view.setUint32(32, meta.depth, true);
    view.setUint32(36, meta.jumpDepth, true);
    view.setUint32(40, meta.length, true);
    this.#slots.write((meta.turnId - 1) * TURN_SLOT, this.#scratch.sealed());
    this.#recent.set(meta.turnId, meta);
  }
}

/**
 * The jump pointer of a new child of `parent` (Myers' skew-binary scheme):
 * jumps span 1, 3, 7, 15 … turns, so an ancestor search takes O(log depth).
 */
export function jumpFor(
  parent: TurnMeta,
  lookup: (id: number) => TurnMeta,
): { jumpTurnId: number; jumpDepth: number } {
  if (parent.turnId === 0) return { jumpTurnId: 0, jumpDepth: 0 };
  const jump = lookup(parent.jumpTurnId);
  if (parent.depth - parent.jumpDepth === parent.jumpDepth - jump.jumpDepth) {
    return { jumpTurnId: jump.jumpTurnId, jumpDepth: jump.jumpDepth };
  }
  return { jumpTurnId: parent.turnId, jumpDepth: parent.depth };
}

/** The ancestor of `from` (or `from` itself) at `depth` ≤ from.depth. */
export function ancestorAt(
  from: TurnMeta,
  depth: number,
  lookup: (id: number) => TurnMeta,
): TurnMeta {
  let at = from;
  while (at.depth > depth) {
    at = lookup(at.jumpDepth >= depth ? at.jumpTurnId : at.parentTurnId);
  }
  return at;
}

const CONTEXT_SLOT = 32;

/** A context's index entry. */
export interface ContextSlot {
  /** The context's id. */
  readonly contextId: number;
  /** The turn it was created at (0 for an empty context). */
  readonly baseTurnId: number;
  /** Depth of the base. */
  readonly baseDepth: number;
  /** Current head. */
  readonly headTurnId: number;
  /** Depth of the head. */
  readonly headDepth: number;
  /** Creation time in ms, kept to the second (a u32 of seconds in the slot); absent when unknown. */
  readonly createdAt?: number;
}

/** `contexts.idx`. */
export class ContextIndex {
  #recent = new RecentById<ContextSlot>();
  readonly #scratch = new SlotScratch(CONTEXT_SLOT);
  #slots: WriteBehind;

  constructor(readonly file: Deno.FsFile, readonly path: string) {
    this.#slots = new WriteBehind(file, CONTEXT_SLOT, 64 * 1024);
  }

  /** Empties the index (before a rebuild). */
  clear(): void {
    this.#slots.clear();
    this.#recent.clear();
  }

  /** Writes held-back entries to the file. */
  flush(): void {
    this.#slots.flush();
  }

  /** The entry of `contextId`, or undefined. */
  get(contextId: number): ContextSlot | undefined {
    const cached = this.#recent.get(contextId);
    if (cached) return cached;
    const at = (contextId - 1) * CONTEXT_SLOT;
    const bytes = this.#slots.read(at);
    if (bytes.length < CONTEXT_SLOT) return undefined;
    if (!present(bytes, this.path, at, `context ${contextId}`)) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, CONTEXT_SLOT);
    const seconds = view.getUint32(24, true);
    const slot = {
      contextId,
      baseTurnId: getU64(view, 0),
      headTurnId: getU64(view, 8),
      headDepth: view.getUint32(16, true),
      baseDepth: view.getUint32(20, true),
    };
    return seconds === 0 ? slot : { ...slot, createdAt: seconds * 1000 };
  }

  /** Writes the entry of `slot.contextId`. */
  put(slot: ContextSlot): void {
    const view = this.#scratch.view;
    setU64(view, 0, slot.baseTurnId);
    setU64(view, 8, slot.headTurnId);
    view.setUint32(16, slot.headDepth, true);
    view.setUint32(20, slot.baseDepth, true);
    const seconds = slot.createdAt === undefined ? 0 : Math.floor(slot.createdAt / 1000);
    view.setUint32(24, seconds, true);
    this.#slots.write((slot.contextId - 1) * CONTEXT_SLOT, this.#scratch.sealed());
    // The cache answers as the file would: to the second.
    this.#recent.set(
      slot.contextId,
      seconds === 0 ? slot : { ...slot, createdAt: seconds * 1000 },
    );
  }
}

const ROOT_SLOT = 40;

/** `roots.idx`: a sparse file of 40-byte slots (a tree root, 4 zero bytes, a CRC-32). */
export class RootIndex {
  constructor(readonly file: Deno.FsFile, readonly path: string) {}

  /** The tree root attached to `turnId` itself, or undefined. */
  get(turnId: number): string | undefined {
    const at = (turnId - 1) * ROOT_SLOT;
    const bytes = readAt(this.file, at, ROOT_SLOT);
    if (bytes.length < ROOT_SLOT) {
      if (bytes.every((b) => b === 0)) return undefined;
      throw new BackendError(
        `fs index ${this.path} is damaged at offset ${at}: it ends inside the entry of turn ${turnId}`,
      );
    }
    if (!present(bytes, this.path, at, `turn ${turnId}`)) return undefined;
    return toHex(bytes.subarray(0, 32));
  }

  /** Records the tree root of `turnId`. */
  put(turnId: number, rootHash: string): void {
    const slot = new Uint8Array(ROOT_SLOT);
    slot.set(fromHex(rootHash));
    writeAt(this.file, (turnId - 1) * ROOT_SLOT, seal(slot));
  }
}
