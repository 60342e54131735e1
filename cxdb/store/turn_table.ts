/**
 * Compact storage for what the CXDB store knows of turns: per turn, its
 * metadata; per context, which turn sits at which depth.
 *
 * Both grow by one entry per append for the life of the store, so they hold
 * numbers in typed arrays instead of an object, strings and a hash-table
 * entry per turn: the collector has nothing per turn to copy out of the young
 * generation and to trace again at every full collection, which measured
 * most of the store's garbage-collection time on a long run of appends.
 * A turn's metadata object is rebuilt when it is looked up, which only reads
 * (getTurn, paging cursors, fs roots, parent checks) do.
 *
 * @module
 */
import { toHex } from "@forge/turnstore";

/** A turn's metadata, in contract terms. */
export interface TurnMeta {
  /** The turn's id. */
  readonly turnId: string;
  /** Its parent's id; "0" for a context's first turn. */
  readonly parentTurnId: string;
  /** Contract depth (first turn 1). */
  readonly depth: number;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** BLAKE3 of the payload, hex. */
  readonly contentHash: string;
  /** A context whose history holds the turn. */
  readonly contextId: string;
}

/** Ids below this are exact as numbers (the rare larger ones are kept as strings). */
const EXACT = 2 ** 53;

/** The number `id` stands for when it is exact and written canonically, else NaN. */
function exactId(id: string): number {
  const len = id.length;
  if (len === 0 || len > 16 || (len > 1 && id.charCodeAt(0) === 48)) return NaN;
  for (let i = 0; i < len; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  const n = Number(id);
  return n < EXACT ? n : NaN;
}

/** Strings numbered in the order first seen (type ids, context ids: few, often repeated). */
class Interned {
  readonly values: string[] = [];
  readonly #index = new Map<string, number>();
  #last = "";
  #lastIndex = -1;
  /** The number of `value`. */
  of(value: string): number {
    if (value === this.#last) return this.#lastIndex; // runs of one type, one context
    let i = this.#index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.#index.set(value, i);
    }
    this.#last = value;
    this.#lastIndex = i;
    return i;
  }
}

const HEX = "0123456789abcdef";
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[HEX.charCodeAt(i)] = i;

/**
 * Turn id → metadata. Turn ids are a server-wide counter, so the turns this
 * store appends arrive in increasing id order: those go to the end of a
 * sorted log of columns (found again by binary search); ids out of order
 * (reads, recoveries), beyond 2^53, or with a hash that is not 64 lowercase
 * hex digits go to a map of objects.
 */
export class TurnTable {
  #n = 0;
  #ids = new Float64Array(1024);
  #parents = new Float64Array(1024);
  #depths = new Float64Array(1024);
  #versions = new Float64Array(1024);
  #types = new Uint32Array(1024);
  #contexts = new Uint32Array(1024);
  #hashes = new Uint8Array(1024 * 32);
  readonly #typeIds = new Interned();
  readonly #contextIds = new Interned();
  readonly #others = new Map<string, TurnMeta>();

  /** The metadata of turn `turnId`, or undefined. */
  get(turnId: string): TurnMeta | undefined {
    const other = this.#others.get(turnId);
    if (other) return other;
    const at = this.#find(exactId(turnId));
    if (at < 0) return undefined;
    return {
      turnId,
      parentTurnId: String(this.#parents[at]),
      depth: this.#depths[at],
      typeId: this.#typeIds.values[this.#types[at]],
      typeVersion: this.#versions[at],
      contentHash: this.#hex(at),
      contextId: this.#contextIds.values[this.#contexts[at]],
    };
  }

  /**
   * Notes (or replaces) the metadata of turn `turnId`; `hash`, when given,
   * is `meta.contentHash` as bytes (saves parsing the hex).
   */
  set(turnId: string, meta: TurnMeta, hash?: Uint8Array): void {
    this.add(
      turnId,
      meta.parentTurnId,
      meta.depth,
      meta.typeId,
      meta.typeVersion,
      meta.contentHash,
      meta.contextId,
      hash,
      meta,
    );
  }

  /**
   * {@link TurnTable.set} from the fields themselves: the append path notes
   * each new turn without building a metadata object (`meta`, when the
   * caller has one, is kept as is if the turn cannot go in the columns).
   */
  add(
    turnId: string,
    parentTurnId: string,
    depth: number,
    typeId: string,
    typeVersion: number,
    contentHash: string,
    contextId: string,
    hash?: Uint8Array,
    meta?: TurnMeta,
  ): void {
    const id = exactId(turnId);
    const parent = exactId(parentTurnId);
    const n = this.#n;
    // Above the newest logged id: a new entry at the end; else one noted
    // again (e.g. read through another context) is overwritten in place.
    const at = n > 0 && id <= this.#ids[n - 1] ? this.#find(id) : n;
    const hashed = hash?.length === 32;
    if (!(id > 0) || at < 0 || !(parent >= 0) || !(hashed || this.#fits(contentHash))) {
      // Looked up first, so it also shadows a logged entry.
      this.#others.set(
        turnId,
        meta ?? { turnId, parentTurnId, depth, typeId, typeVersion, contentHash, contextId },
      );
      return;
    }
    if (at === n) {
      if (n === this.#ids.length) this.#grow();
      this.#n++;
    }
    this.#ids[at] = id;
    this.#parents[at] = parent;
    this.#depths[at] = depth;
    this.#versions[at] = typeVersion;
    this.#types[at] = this.#typeIds.of(typeId);
    this.#contexts[at] = this.#contextIds.of(contextId);
    const base = at * 32;
    if (hashed) {
      this.#hashes.set(hash!, base);
      return;
    }
    const h = contentHash;
    for (let i = 0; i < 32; i++) {
      this.#hashes[base + i] = (NIBBLE[h.charCodeAt(2 * i)] << 4) | NIBBLE[h.charCodeAt(2 * i + 1)];
    }
  }

  /** True when `hash` is 64 lowercase hex digits (what the columns can hold). */
  #fits(hash: string): boolean {
    if (hash.length !== 64) return false;
    for (let i = 0; i < 64; i++) {
      const c = hash.charCodeAt(i);
      if (c >= 128 || NIBBLE[c] < 0) return false;
    }
    return true;
  }

  #hex(at: number): string {
    return toHex(this.#hashes.subarray(at * 32, at * 32 + 32));
  }

  #grow(): void {
    const size = this.#ids.length * 2;
    const f64 = (a: Float64Array) => {
      const next = new Float64Array(size);
      next.set(a);
      return next;
    };
    const u32 = (a: Uint32Array) => {
      const next = new Uint32Array(size);
      next.set(a);
      return next;
    };
    this.#ids = f64(this.#ids);
    this.#parents = f64(this.#parents);
    this.#depths = f64(this.#depths);
    this.#versions = f64(this.#versions);
    this.#types = u32(this.#types);
    this.#contexts = u32(this.#contexts);
    const hashes = new Uint8Array(size * 32);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
  }

  /** Index of `id` in the log, or -1 (NaN is never found). */
  #find(id: number): number {
    let lo = 0;
    let hi = this.#n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.#ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/**
 * Which turn sits at which contract depth of one context's history, as
 * numbers in an array from the lowest depth known: a context's depths are
 * filled in runs (appends one above the other, pages of history).
 */
export class Chain {
  /** The depth of slot 0. */
  #base = 0;
  /** Turn ids by depth - base; 0 = not known (no turn has id 0). */
  #ids = new Float64Array(0);
  /** Highest slot in use + 1. */
  #used = 0;
  /** Turn ids a number cannot hold exactly (2^53 and above), by depth. */
  #large?: Map<number, string>;
  /**
   * The last turn noted, as its string: the next append's parent, asked for
   * once per append (saves turning the number back into a new string).
   */
  #lastDepth = -1;
  #lastId = "";

  /** The turn at `depth`, or undefined when not known. */
  get(depth: number): string | undefined {
    if (depth === this.#lastDepth) return this.#lastId;
    const large = this.#large?.get(depth);
    if (large !== undefined) return large;
    const i = depth - this.#base;
    const id = i >= 0 && i < this.#used ? this.#ids[i] : 0;
    return id === 0 ? undefined : String(id);
  }

  /** Notes the turn at `depth`. */
  set(depth: number, turnId: string): void {
    const id = exactId(turnId);
    if (!(id > 0)) {
      if (depth === this.#lastDepth) this.#lastDepth = -1;
      (this.#large ??= new Map()).set(depth, turnId);
      return;
    }
    this.#lastDepth = depth;
    this.#lastId = turnId;
    this.#large?.delete(depth);
    if (this.#used === 0) this.#base = depth;
    let i = depth - this.#base;
    if (i < 0) {
      // A page below what is known: the slots now start there (once per page).
      const next = new Float64Array(Math.max(this.#ids.length, 16) - i);
      next.set(this.#ids.subarray(0, this.#used), -i);
      this.#ids = next;
      this.#used -= i;
      this.#base = depth;
      i = 0;
    } else if (i >= this.#ids.length) {
      const next = new Float64Array(Math.max(16, this.#ids.length * 2, i + 1));
      next.set(this.#ids.subarray(0, this.#used));
      this.#ids = next;
    }
    this.#ids[i] = id;
    if (i >= this.#used) this.#used = i + 1;
  }
}
