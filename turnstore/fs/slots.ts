/**
 * What the fixed-slot index files share: sealing a slot with its CRC-32 and
 * checking it on read, a cache of the newest entries by id, and the
 * write-behind that holds slot writes in memory and writes them together.
 *
 * The write path fills every slot in a scratch array and copies it into the
 * write-behind's own buffer, so an append allocates no array for its index
 * slots (an `ArrayBuffer` costs 0.2–0.3 µs in Deno, plus the collector's work
 * to free it).
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { checksum } from "./frame.ts";
import { readAt, writeAt } from "./io.ts";

/** Seals a slot: its last four bytes become the CRC-32 of the others. */
export function seal(slot: Uint8Array): Uint8Array {
  const n = slot.length - 4;
  new DataView(slot.buffer, slot.byteOffset).setUint32(n, checksum(slot.subarray(0, n)), true);
  return slot;
}

/**
 * Whether a slot holds an entry: false when it is all zeros (never written);
 * true when its checksum matches; a BackendError naming `path` and the slot's
 * offset when it does not (the file was damaged).
 */
export function present(slot: Uint8Array, path: string, offset: number, what: string): boolean {
  const n = slot.length - 4;
  const stored = new DataView(slot.buffer, slot.byteOffset).getUint32(n, true);
  if (stored === 0 && slot.every((b) => b === 0)) return false;
  if (checksum(slot.subarray(0, n)) === stored) return true;
  throw new BackendError(
    `fs index ${path} is damaged at offset ${offset} (the entry of ${what} fails its checksum); ` +
      `reopen the store to rebuild its indexes from the log`,
  );
}

/**
 * A slot being filled before it is written: the bytes, a view on them and the
 * part its checksum covers, made once per index (calls are synchronous).
 */
export class SlotScratch {
  /** The slot's bytes. */
  readonly bytes: Uint8Array;
  /** A view on {@link bytes}. */
  readonly view: DataView;
  readonly #covered: Uint8Array;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.#covered = this.bytes.subarray(0, size - 4);
  }

  /** Sets the checksum in the last four bytes and returns the bytes. */
  sealed(): Uint8Array {
    this.view.setUint32(this.bytes.length - 4, checksum(this.#covered), true);
    return this.bytes;
  }
}

/** Entries a {@link RecentById} keeps. */
const RECENT_ENTRIES = 2048;

/**
 * A write-through cache of entries by id, one per `id mod 2048`: ids are
 * given out in ascending order and appends read back the newest (a parent,
 * a head), so this keeps the newest 2,048 with an array index instead of a
 * map's insertion and eviction.
 */
export class RecentById<T> {
  readonly #ids = new Float64Array(RECENT_ENTRIES).fill(-1);
  readonly #values: (T | undefined)[] = new Array(RECENT_ENTRIES).fill(undefined);

  /** The entry of `id`, when it is the one kept in its place. */
  get(id: number): T | undefined {
    const i = id % RECENT_ENTRIES;
    return this.#ids[i] === id ? this.#values[i] : undefined;
  }

  /** Keeps `value` as the entry of `id`. */
  set(id: number, value: T): void {
    const i = id % RECENT_ENTRIES;
    this.#ids[i] = id;
    this.#values[i] = value;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#ids.fill(-1);
    this.#values.fill(undefined);
  }
}

/** Slot writes held back before one flush; see {@link WriteBehind}. */
const WRITE_BEHIND_SLOTS = 1024;

/**
 * Slot writes held in memory and written together. Index files then change
 * once per many appends, so the log's fdatasync does not also carry their
 * metadata each time. Losing held writes in a crash is harmless: they
 * describe records already in the log, which recovery replays from the index
 * watermark (written only after a flush).
 *
 * Writes that extend one run of adjacent slots (a new turn's slot follows the
 * last one; a context's head slot is rewritten in place) are copied into one
 * buffer, kept from flush to flush and written with one `write`; any other
 * write is held as its own copy.
 */
export class WriteBehind {
  readonly #run: Uint8Array;
  /** File offset of the run's first byte. */
  #runStart = 0;
  /** Bytes of the run held. */
  #runBytes = 0;
  /** Held writes outside the run, by file offset. */
  #scattered = new Map<number, Uint8Array>();
  #allocated: number;

  constructor(readonly file: Deno.FsFile, readonly slotBytes: number, readonly growth: number) {
    this.#allocated = file.statSync().size;
    this.#run = new Uint8Array(WRITE_BEHIND_SLOTS * slotBytes);
  }

  /**
   * The slot at `offset`: the held write, else the file's bytes. A held slot
   * of the run is a view that the next write may change: read it at once.
   */
  read(offset: number): Uint8Array {
    if (offset >= this.#runStart && offset < this.#runStart + this.#runBytes) {
      const at = offset - this.#runStart;
      return this.#run.subarray(at, at + this.slotBytes);
    }
    return this.#scattered.get(offset) ?? readAt(this.file, offset, this.slotBytes);
  }

  /** Holds a copy of `slot` as the bytes at `offset`; flushes once enough are held. */
  write(offset: number, slot: Uint8Array): void {
    if (this.#runBytes === 0) this.#runStart = offset;
    const at = offset - this.#runStart;
    if (at >= 0 && at < this.#runBytes) {
      this.#run.set(slot, at);
      return;
    }
    if (at === this.#runBytes) {
      this.#run.set(slot, this.#runBytes);
      this.#runBytes += this.slotBytes;
      // An earlier write outside the run is now superseded by the run's copy.
      if (this.#scattered.size > 0) this.#scattered.delete(offset);
    } else {
      this.#scattered.set(offset, slot.slice());
    }
    if (this.#runBytes / this.slotBytes + this.#scattered.size >= WRITE_BEHIND_SLOTS) {
      this.flush();
    }
  }

  /** Writes every held slot: the run in one write, the others in runs of adjacent slots. */
  flush(): void {
    if (this.#runBytes === 0 && this.#scattered.size === 0) return;
    const offsets = [...this.#scattered.keys()].sort((a, b) => a - b);
    const end = Math.max(
      this.#runStart + this.#runBytes,
      offsets.length > 0 ? offsets[offsets.length - 1] + this.slotBytes : 0,
    );
    if (end > this.#allocated) {
      // Zero-filled space past the last entry reads as "no entry".
      this.#allocated = Math.max(end, this.#allocated + this.growth);
      this.file.truncateSync(this.#allocated);
    }
    if (this.#runBytes > 0) {
      writeAt(this.file, this.#runStart, this.#run.subarray(0, this.#runBytes));
    }
    for (let i = 0; i < offsets.length;) {
      let j = i + 1;
      while (j < offsets.length && offsets[j] === offsets[j - 1] + this.slotBytes) j++;
      const run = new Uint8Array((j - i) * this.slotBytes);
      for (let k = i; k < j; k++) {
        run.set(this.#scattered.get(offsets[k])!, (k - i) * this.slotBytes);
      }
      writeAt(this.file, offsets[i], run);
      i = j;
    }
    this.#runBytes = 0;
    this.#scattered.clear();
  }

  /** Drops every held write and empties the file (before a rebuild). */
  clear(): void {
    this.#runBytes = 0;
    this.#scattered.clear();
    this.file.truncateSync(0);
    this.#allocated = 0;
  }
}
