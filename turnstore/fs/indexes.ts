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
 * - `keys.idx`: an open-addressing hash table (16-byte slots) from a hash of
 *   (context, idempotency key) to a turn id; candidates are confirmed against
 *   the turn's own record, so hash collisions are harmless.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { hashInto } from "blake3-jit";
import { fromHex, toHex } from "../core/hash.ts";
import { checksum } from "./frame.ts";
import { getU64, readAt, setU64, writeAt } from "./io.ts";
import { asciiInto } from "./utf8.ts";

/** Bytes of one `turns.idx` slot. */
export const TURN_SLOT = 48;

/** Seals a slot: its last four bytes become the CRC-32 of the others. */
function seal(slot: Uint8Array): Uint8Array {
  const n = slot.length - 4;
  new DataView(slot.buffer, slot.byteOffset).setUint32(n, checksum(slot.subarray(0, n)), true);
  return slot;
}

/**
 * Whether a slot holds an entry: false when it is all zeros (never written);
 * true when its checksum matches; a BackendError naming `path` and the slot's
 * offset when it does not (the file was damaged).
 */
function present(slot: Uint8Array, path: string, offset: number, what: string): boolean {
  const n = slot.length - 4;
  const stored = new DataView(slot.buffer, slot.byteOffset).getUint32(n, true);
  if (stored === 0 && slot.every((b) => b === 0)) return false;
  if (checksum(slot.subarray(0, n)) === stored) return true;
  throw new BackendError(
    `fs index ${path} is damaged at offset ${offset} (the entry of ${what} fails its checksum); ` +
      `reopen the store to rebuild its indexes from the log`,
  );
}

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

/**
 * Entries kept in memory by a write-through cache: the newest, which appends
 * read back (up to a quarter more before the oldest quarter is dropped).
 */
const RECENT_ENTRIES = 1024;
/** turns.idx grows in steps of this many bytes, so most appends do not change its size. */
const TURN_INDEX_GROWTH = 1024 * 1024;

/** A small write-through cache of the most recently written entries. */
class RecentEntries<T> {
  #entries = new Map<number, T>();
  get(key: number): T | undefined {
    return this.#entries.get(key);
  }
  set(key: number, value: T): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    // Evicted a quarter at a time: one iterator per 256 appends, not one each.
    if (this.#entries.size > RECENT_ENTRIES + RECENT_ENTRIES / 4) {
      const oldest = this.#entries.keys();
      for (let n = RECENT_ENTRIES / 4; n > 0; n--) this.#entries.delete(oldest.next().value!);
    }
  }
  clear(): void {
    this.#entries.clear();
  }
}

/** Slot writes held back before one flush; see {@link WriteBehind}. */
const WRITE_BEHIND_SLOTS = 1024;

/**
 * Slot writes held in memory and written together, adjacent slots in one
 * write. Index files then change once per many appends, so the log's
 * fdatasync does not also carry their metadata each time. Losing held writes
 * in a crash is harmless: they describe records already in the log, which
 * recovery replays from the index watermark (written only after a flush).
 */
class WriteBehind {
  #dirty = new Map<number, Uint8Array>();
  #allocated: number;

  constructor(readonly file: Deno.FsFile, readonly slotBytes: number, readonly growth: number) {
    this.#allocated = file.statSync().size;
  }

  read(offset: number): Uint8Array {
    return this.#dirty.get(offset) ?? readAt(this.file, offset, this.slotBytes);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.#dirty.set(offset, bytes);
    if (this.#dirty.size >= WRITE_BEHIND_SLOTS) this.flush();
  }

  flush(): void {
    if (this.#dirty.size === 0) return;
    const offsets = [...this.#dirty.keys()].sort((a, b) => a - b);
    const end = offsets[offsets.length - 1] + this.slotBytes;
    if (end > this.#allocated) {
      // Zero-filled space past the last entry reads as "no entry".
      this.#allocated = Math.max(end, this.#allocated + this.growth);
      this.file.truncateSync(this.#allocated);
    }
    for (let i = 0; i < offsets.length;) {
      let j = i + 1;
      while (j < offsets.length && offsets[j] === offsets[j - 1] + this.slotBytes) j++;
      const run = new Uint8Array((j - i) * this.slotBytes);
      for (let k = i; k < j; k++) run.set(this.#dirty.get(offsets[k])!, (k - i) * this.slotBytes);
      writeAt(this.file, offsets[i], run);
      i = j;
    }
    this.#dirty.clear();
  }

  clear(): void {
    this.#dirty.clear();
    this.file.truncateSync(0);
    this.#allocated = 0;
  }
}

/** `turns.idx`. */
export class TurnIndex {
  #recent = new RecentEntries<TurnMeta>();
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
    const bytes = new Uint8Array(TURN_SLOT);
    const view = new DataView(bytes.buffer);
    setU64(view, 0, meta.offset);
    setU64(view, 8, meta.parentTurnId);
    setU64(view, 16, meta.jumpTurnId);
    setU64(view, 24, meta.originContextId);
    view.setUint32(32, meta.depth, true);
    view.setUint32(36, meta.jumpDepth, true);
    view.setUint32(40, meta.length, true);
    this.#slots.write((meta.turnId - 1) * TURN_SLOT, seal(bytes));
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
  #recent = new RecentEntries<ContextSlot>();
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
    const bytes = new Uint8Array(CONTEXT_SLOT);
    const view = new DataView(bytes.buffer);
    setU64(view, 0, slot.baseTurnId);
    setU64(view, 8, slot.headTurnId);
    view.setUint32(16, slot.headDepth, true);
    view.setUint32(20, slot.baseDepth, true);
    const seconds = slot.createdAt === undefined ? 0 : Math.floor(slot.createdAt / 1000);
    view.setUint32(24, seconds, true);
    this.#slots.write((slot.contextId - 1) * CONTEXT_SLOT, seal(bytes));
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

const KEY_HEADER = 32;
const KEY_SLOT = 16;
const KEY_MAGIC = 0x5359454b; // "KEYS"
/** Smallest table a valid file may hold (older stores began at this size). */
const MIN_KEY_SLOTS = 1024;
/**
 * A new table's size (128 KiB): room for 4096 keys before the first
 * doubling, whose fsync would stall the writer in a young store.
 */
const INITIAL_KEY_SLOTS = 8192;

const keyEncoder = new TextEncoder();
/** Scratch input and output of {@link keyFingerprint}: calls are synchronous. */
let fingerprintInput = new Uint8Array(256);
const fingerprintDigest = new Uint8Array(32);
const fingerprintView = new DataView(fingerprintDigest.buffer);

/**
 * The 64-bit fingerprint of an idempotency key in a context, never zero: the
 * first 8 bytes of BLAKE3 of the UTF-8 of `${contextId}\n${key}`.
 */
export function keyFingerprint(contextId: number, key: string): [number, number] {
  const text = `${contextId}\n${key}`;
  if (fingerprintInput.length < text.length) fingerprintInput = new Uint8Array(text.length * 2);
  const end = asciiInto(text, fingerprintInput, 0);
  hashInto(
    end >= 0 ? fingerprintInput.subarray(0, end) : keyEncoder.encode(text),
    fingerprintDigest,
  );
  const lo = fingerprintView.getUint32(0, true);
  const hi = fingerprintView.getUint32(4, true);
  return lo === 0 && hi === 0 ? [1, 0] : [lo, hi];
}

/**
 * Tables up to this many slots (4 MiB) are mirrored in memory, so probing
 * costs no read; bigger ones are probed in the file.
 */
const KEY_MIRROR_SLOTS = 1 << 18;
/** Slot writes held back before one flush (as for the other indexes). */
const KEY_WRITE_BEHIND_SLOTS = 1024;
/** A held insert of a mirrored table: its bytes are in the mirror. */
const IN_MIRROR = new Uint8Array(0);
/** Held slots of a mirrored table this close (a 4 KiB page) are written together. */
const KEY_FLUSH_GAP_SLOTS = 256;

/**
 * `keys.idx`: linear probing, at most half full; when it would pass half,
 * the table is rebuilt at twice the size into a temp file that replaces the
 * old one by rename (amortized O(1) per insert; the rebuild holds the new
 * table in memory, 32 bytes per key).
 *
 * Inserts are held back and written together by {@link KeyIndex.flush}
 * (the store flushes before each index watermark and on close). Losing held
 * inserts in a crash is harmless: they file turns the log already holds,
 * past the watermark, and recovery files them again.
 */
export class KeyIndex {
  #file: Deno.FsFile;
  #capacity: number;
  #count: number;
  /** The whole table (header included) while it is small enough; else undefined. */
  #mirror?: Uint8Array;
  /** A view of {@link #mirror}, made once: probing allocates nothing. */
  #mirrorView?: DataView;
  /** Where {@link #locate}'s slot starts in the view it returned. */
  #at = 0;
  /** Slots written since the last flush, by slot number ({@link IN_MIRROR} when mirrored). */
  #dirty = new Map<number, Uint8Array>();
  /** Whether the count in the file's header is behind. */
  #countDirty = false;
  readonly #mirrorSlots: number;

  private constructor(
    readonly path: string,
    file: Deno.FsFile,
    capacity: number,
    count: number,
    mirrorSlots: number,
    fresh?: Uint8Array,
  ) {
    this.#file = file;
    this.#capacity = capacity;
    this.#count = count;
    this.#mirrorSlots = mirrorSlots;
    this.#setMirror(capacity > mirrorSlots ? undefined : fresh ?? KeyIndex.#load(file, capacity));
  }

  #setMirror(mirror: Uint8Array | undefined): void {
    this.#mirror = mirror;
    this.#mirrorView = mirror && new DataView(mirror.buffer, mirror.byteOffset, mirror.length);
  }

  static #load(file: Deno.FsFile, capacity: number): Uint8Array | undefined {
    const bytes = readAt(file, 0, KEY_HEADER + capacity * KEY_SLOT);
    return bytes.length === KEY_HEADER + capacity * KEY_SLOT ? bytes : undefined;
  }

  /**
   * Opens `path`; an absent or unreadable table comes back empty with `fresh`
   * set. Tables up to `mirrorSlots` slots are held in memory (tests lower it
   * to exercise probing in the file).
   */
  static open(
    path: string,
    mirrorSlots: number = KEY_MIRROR_SLOTS,
  ): { index: KeyIndex; fresh: boolean } {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    const header = readAt(file, 0, KEY_HEADER);
    if (header.length === KEY_HEADER) {
      const view = new DataView(header.buffer);
      const capacity = view.getUint32(4, true);
      const count = view.getUint32(8, true);
      const valid = view.getUint32(0, true) === KEY_MAGIC && capacity >= MIN_KEY_SLOTS &&
        (capacity & (capacity - 1)) === 0 && count <= capacity / 2 &&
        file.statSync().size === KEY_HEADER + capacity * KEY_SLOT;
      if (valid) {
        return { index: new KeyIndex(path, file, capacity, count, mirrorSlots), fresh: false };
      }
    }
    file.truncateSync(0);
    const table = tableBytes(INITIAL_KEY_SLOTS, 0);
    writeAt(file, 0, table);
    return {
      index: new KeyIndex(path, file, INITIAL_KEY_SLOTS, 0, mirrorSlots, table),
      fresh: true,
    };
  }

  /** The open file (for syncing; call {@link flush} first). */
  get file(): Deno.FsFile {
    return this.#file;
  }

  /**
   * The view holding slot `i` as (lo, hi, turn id), which starts at
   * {@link #at} in it: the mirror when there is one (inserts write to it),
   * else a held-back insert or the file.
   */
  #locate(i: number): DataView {
    if (this.#mirrorView) {
      this.#at = KEY_HEADER + i * KEY_SLOT;
      return this.#mirrorView;
    }
    this.#at = 0;
    const held = this.#dirty.get(i);
    if (held) return new DataView(held.buffer, held.byteOffset, KEY_SLOT);
    return new DataView(readAt(this.#file, KEY_HEADER + i * KEY_SLOT, KEY_SLOT).buffer);
  }

  /** Turn ids filed under this fingerprint, nearest first; the caller confirms each. */
  *candidates(fp: [number, number]): Generator<number> {
    const mask = this.#capacity - 1;
    for (let i = fp[0] & mask, n = 0; n < this.#capacity; i = (i + 1) & mask, n++) {
      const view = this.#locate(i);
      const at = this.#at;
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      if (lo === 0 && hi === 0) return;
      if (lo === fp[0] && hi === fp[1]) yield getU64(view, at + 8);
    }
  }

  /** Files `turnId` under `fp`; filing the same pair twice is harmless. */
  insert(fp: [number, number], turnId: number): void {
    const mask = this.#capacity - 1;
    for (let i = fp[0] & mask;; i = (i + 1) & mask) {
      const view = this.#locate(i);
      const at = this.#at;
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      if (lo === fp[0] && hi === fp[1] && getU64(view, at + 8) === turnId) return;
      if (lo === 0 && hi === 0) {
        if (this.#mirror) {
          // Written in place; flush writes it from the mirror.
          view.setUint32(at, fp[0], true);
          view.setUint32(at + 4, fp[1], true);
          setU64(view, at + 8, turnId);
          this.#dirty.set(i, IN_MIRROR);
        } else {
          this.#dirty.set(i, slotBytes(fp, turnId));
        }
        this.#count++;
        this.#countDirty = true;
        if (this.#count > this.#capacity / 2) this.#grow();
        else if (this.#dirty.size >= KEY_WRITE_BEHIND_SLOTS) this.flush();
        return;
      }
    }
  }

  /**
   * Writes held-back inserts, then the count. Keys land on random slots, so
   * held slots are seldom adjacent: with the table mirrored, slots less than
   * a page apart go out as one write of the mirror's bytes between them
   * (the slots in between are unchanged, the file already holds them), so a
   * flush of 1,024 inserts into a young table is a few writes, not ~1,000.
   */
  flush(): void {
    if (this.#dirty.size > 0) {
      const slots = Float64Array.from(this.#dirty.keys()).sort();
      const gap = this.#mirror ? KEY_FLUSH_GAP_SLOTS : 1;
      for (let i = 0; i < slots.length;) {
        let j = i + 1;
        while (j < slots.length && slots[j] - slots[j - 1] <= gap) j++;
        const from = KEY_HEADER + slots[i] * KEY_SLOT;
        const to = KEY_HEADER + (slots[j - 1] + 1) * KEY_SLOT;
        let run: Uint8Array;
        if (this.#mirror) run = this.#mirror.subarray(from, to);
        else {
          run = new Uint8Array(to - from);
          for (let k = i; k < j; k++) run.set(this.#dirty.get(slots[k])!, (k - i) * KEY_SLOT);
        }
        writeAt(this.#file, from, run);
        i = j;
      }
      this.#dirty.clear();
    }
    if (this.#countDirty) {
      // The count goes last: a crash in between leaves it low, never high.
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, this.#count, true);
      writeAt(this.#file, 8, header);
      this.#countDirty = false;
    }
  }

  #grow(): void {
    this.flush();
    const capacity = this.#capacity * 2;
    const table = tableBytes(capacity, this.#count);
    const view = new DataView(table.buffer);
    const old = this.#mirror?.subarray(KEY_HEADER) ??
      readAt(this.#file, KEY_HEADER, this.#capacity * KEY_SLOT);
    const oldView = new DataView(old.buffer, old.byteOffset, old.length);
    const mask = capacity - 1;
    for (let i = 0; i < this.#capacity; i++) {
      const lo = oldView.getUint32(i * KEY_SLOT, true);
      const hi = oldView.getUint32(i * KEY_SLOT + 4, true);
      if (lo === 0 && hi === 0) continue;
      let j = lo & mask;
      while (
        view.getUint32(KEY_HEADER + j * KEY_SLOT, true) !== 0 ||
        view.getUint32(KEY_HEADER + j * KEY_SLOT + 4, true) !== 0
      ) {
        j = (j + 1) & mask;
      }
      table.set(old.subarray(i * KEY_SLOT, (i + 1) * KEY_SLOT), KEY_HEADER + j * KEY_SLOT);
    }
    // Temp file + rename: a crash leaves the old table or the new one.
    const temp = `${this.path}.tmp`;
    const file = Deno.openSync(temp, { read: true, write: true, create: true, truncate: true });
    writeAt(file, 0, table);
    file.syncDataSync();
    Deno.renameSync(temp, this.path);
    this.#file.close();
    this.#file = file;
    this.#capacity = capacity;
    this.#setMirror(capacity <= this.#mirrorSlots ? table : undefined);
  }

  /** Writes held-back inserts and closes the file. */
  close(): void {
    try {
      this.flush();
    } finally {
      this.#file.close();
    }
  }
}

function tableBytes(capacity: number, count: number): Uint8Array {
  const out = new Uint8Array(KEY_HEADER + capacity * KEY_SLOT);
  const view = new DataView(out.buffer);
  view.setUint32(0, KEY_MAGIC, true);
  view.setUint32(4, capacity, true);
  view.setUint32(8, count, true);
  return out;
}

function slotBytes(fp: [number, number], turnId: number): Uint8Array {
  const out = new Uint8Array(KEY_SLOT);
  const view = new DataView(out.buffer);
  view.setUint32(0, fp[0], true);
  view.setUint32(4, fp[1], true);
  setU64(view, 8, turnId);
  return out;
}
