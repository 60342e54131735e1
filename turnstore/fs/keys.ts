/**
 * `keys.idx`: an open-addressing hash table (16-byte slots) from a 64-bit
 * fingerprint of (context, idempotency key) to a turn id. Candidates are
 * confirmed against the turn's own record, so fingerprint collisions cost a
 * read, never a wrong answer. Derived from the log like the other indexes.
 *
 * @module
 */
import { hashInto } from "blake3-jit";
import { getU64, readAt, setU64, writeAt } from "./io.ts";
import { asciiInto } from "./utf8.ts";

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
 * {@link keyFingerprint} of a key whose UTF-8 is `bytes[from, to)` (a record
 * being written holds it), without building or encoding a string: the same
 * value.
 */
export function keyFingerprintOf(
  contextId: number,
  bytes: Uint8Array,
  from: number,
  to: number,
): [number, number] {
  // The context id as `${contextId}` writes it (always ASCII), then "\n", then the key's bytes.
  const prefix = String(contextId);
  const digits = prefix.length;
  const size = digits + 1 + (to - from);
  if (fingerprintInput.length < size) fingerprintInput = new Uint8Array(size * 2);
  asciiInto(prefix, fingerprintInput, 0);
  fingerprintInput[digits] = 10; // "\n"
  for (let i = from, at = digits + 1; i < to; i++, at++) fingerprintInput[at] = bytes[i];
  hashInto(fingerprintInput.subarray(0, size), fingerprintDigest);
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
  /** Slots written since the last flush, by slot number (a table in the file). */
  #dirty = new Map<number, Uint8Array>();
  /** Slot numbers written since the last flush (a mirrored table: the bytes are in the mirror). */
  #dirtyInMirror: number[] = [];
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
  candidates(fp: [number, number]): number[] {
    const found: number[] = [];
    this.find(fp, (turnId) => {
      found.push(turnId);
      return false;
    });
    return found;
  }

  /**
   * The first turn id filed under `fp` that `accept` confirms, nearest first;
   * undefined when none is (the common case, a new key, allocates nothing).
   */
  find(fp: [number, number], accept: (turnId: number) => boolean): number | undefined {
    const mask = this.#capacity - 1;
    const [wantLo, wantHi] = fp;
    for (let i = wantLo & mask, n = 0; n < this.#capacity; i = (i + 1) & mask, n++) {
      const view = this.#locate(i);
      const at = this.#at;
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      if (lo === 0 && hi === 0) return undefined;
      if (lo === wantLo && hi === wantHi) {
        const turnId = getU64(view, at + 8);
        if (accept(turnId)) return turnId;
      }
    }
    return undefined;
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
          this.#dirtyInMirror.push(i);
        } else {
          this.#dirty.set(i, slotBytes(fp, turnId));
        }
        this.#count++;
        this.#countDirty = true;
        if (this.#count > this.#capacity / 2) this.#grow();
        else if (this.#dirty.size + this.#dirtyInMirror.length >= KEY_WRITE_BEHIND_SLOTS) {
          this.flush();
        }
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
    if (this.#dirtyInMirror.length > 0) {
      // Only a mirrored table holds these (it is flushed before it grows out of the mirror).
      const mirror = this.#mirror!;
      const slots = Float64Array.from(this.#dirtyInMirror).sort();
      for (let i = 0; i < slots.length;) {
        let j = i + 1;
        while (j < slots.length && slots[j] - slots[j - 1] <= KEY_FLUSH_GAP_SLOTS) j++;
        const from = KEY_HEADER + slots[i] * KEY_SLOT;
        writeAt(
          this.#file,
          from,
          mirror.subarray(from, KEY_HEADER + (slots[j - 1] + 1) * KEY_SLOT),
        );
        i = j;
      }
      this.#dirtyInMirror = [];
    }
    if (this.#dirty.size > 0) {
      const slots = Float64Array.from(this.#dirty.keys()).sort();
      for (let i = 0; i < slots.length;) {
        let j = i + 1;
        while (j < slots.length && slots[j] === slots[j - 1] + 1) j++;
        const run = new Uint8Array((j - i) * KEY_SLOT);
        for (let k = i; k < j; k++) run.set(this.#dirty.get(slots[k])!, (k - i) * KEY_SLOT);
        writeAt(this.#file, KEY_HEADER + slots[i] * KEY_SLOT, run);
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
