/**
 * Key blocks: the idempotency keys of one context's turns, many per row.
 *
 * A keyed append used to write two rows, the turn and `["idem", ctx, key]`.
 * Deno KV's commit costs about the same per mutation whatever its size (the
 * op converts each mutation from JavaScript on the caller's thread, then
 * SQLite inserts one row on its own), so the key row was about half the
 * price of every keyed append. Now the keys a commit writes to a context go
 * into ONE row, `["keys", ctx, firstDepth]`, where `firstDepth` is the depth
 * of the first keyed turn it holds: one mutation per context per commit
 * instead of one per turn.
 *
 * Blocks never change once written, and a context's blocks partition its
 * depths in order (each is written by the commit that writes its turns,
 * behind that commit's head check), so a reader that has read every block
 * up to some `firstDepth` completes its view by reading only the blocks
 * after it.
 *
 * Layout (integers big-endian):
 *
 * | bytes | field                                  |
 * | ----- | -------------------------------------- |
 * | 1     | format: 1                              |
 * | then, per key:                                 |
 * | 8     | the turn id the key created (u64)      |
 * | 2     | key length k (UTF-8 bytes)             |
 * | k     | the key                                |
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { keyBytes } from "./keys.ts";

const FORMAT = 1;
/** Bytes of a block before its entries. */
export const KEY_BLOCK_HEADER = 1;
/** Most bytes of one block (under Deno KV's 64 KiB per value, with room to spare). */
export const KEY_BLOCK_MAX_BYTES = 60 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Prefix of `ctx`'s key blocks. */
export const keyBlockPrefix = (ctx: bigint): Deno.KvKey => ["keys", ctx];
/** Key of `ctx`'s key block whose first key belongs to the turn at `firstDepth`. */
export const keyBlockKey = (ctx: bigint, firstDepth: number): Deno.KvKey => [
  "keys",
  ctx,
  firstDepth,
];

/** Encoded bytes of one entry whose key is `keyBytes` UTF-8 bytes long. */
export function keyEntryBytes(keyBytes: number): number {
  return 8 + 2 + keyBytes;
}

/** One key and the turn it created. */
export interface KeyEntry {
  /** The idempotency key. */
  readonly key: string;
  /** The turn id. */
  readonly id: bigint;
}

/**
 * Collects the entries of one block; {@link KeyBlockBuilder.bytes} is its
 * exact encoded size so far, for the commit's budget.
 */
export class KeyBlockBuilder {
  /** Depth of the first keyed turn of the block. */
  readonly firstDepth: number;
  readonly #entries: KeyEntry[] = [];
  readonly #lengths: number[] = [];
  #bytes = KEY_BLOCK_HEADER;

  /** Starts an empty block at `firstDepth`. */
  constructor(firstDepth: number) {
    this.firstDepth = firstDepth;
  }

  /** Encoded size so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries so far. */
  get size(): number {
    return this.#entries.length;
  }

  /** Adds `key` → `id`; `keyBytes` is its UTF-8 length (core/utf8.ts). */
  add(key: string, id: bigint, keyBytes: number): void {
    this.#entries.push({ key, id });
    this.#lengths.push(keyBytes);
    this.#bytes += keyEntryBytes(keyBytes);
  }

  /** The block's stored form. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#bytes);
    const view = new DataView(out.buffer);
    out[0] = FORMAT;
    let at = KEY_BLOCK_HEADER;
    for (let i = 0; i < this.#entries.length; i++) {
      const { key, id } = this.#entries[i];
      const length = this.#lengths[i];
      view.setBigUint64(at, id);
      view.setUint16(at + 8, length);
      at += 10;
      if (length === key.length) {
        for (let j = 0; j < length; j++) out[at + j] = key.charCodeAt(j); // ASCII
      } else encoder.encodeInto(key, out.subarray(at, at + length));
      at += length;
    }
    return out;
  }
}

/** The entries of a stored block, in the order they were written. */
export function readKeyBlock(bytes: unknown): KeyEntry[] {
  if (!(bytes instanceof Uint8Array) || bytes.length < KEY_BLOCK_HEADER) {
    throw new BackendError(`a key block is not a byte string of the expected form`);
  }
  if (bytes[0] !== FORMAT) {
    throw new BackendError(`a key block has format ${bytes[0]}, which this version cannot read`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: KeyEntry[] = [];
  let at = KEY_BLOCK_HEADER;
  while (at < bytes.length) {
    if (at + 10 > bytes.length) throw new BackendError(`a key block is truncated`);
    const id = view.getBigUint64(at);
    const length = view.getUint16(at + 8);
    at += 10;
    if (at + length > bytes.length) throw new BackendError(`a key block is truncated`);
    entries.push({ key: decoder.decode(bytes.subarray(at, at + length)), id });
    at += length;
  }
  return entries;
}

/** Estimated bytes of a key block's key in a commit's budget (the same for every block). */
const BLOCK_KEY_BYTES = keyBytes(keyBlockKey(0n, 0));
/** What a block's value adds to the budget beyond its bytes (as budget.ts counts a byte string). */
const BLOCK_VALUE_OVERHEAD = 8;

/**
 * The key blocks one commit writes to one context. For each keyed turn the
 * planner asks {@link ContextKeyBlocks.price} (does the key go into a block, and what does it
 * add to the commit's budget), then, if the budget allows, {@link add}; at the
 * end {@link blocks} are the rows to set. Keys go into blocks while the
 * context has room (`room`: its keys in blocks stay under a cap); the others
 * get a row each.
 */
export class ContextKeyBlocks {
  readonly #blocks: KeyBlockBuilder[] = [];
  #room: number;
  #blockRoom: number;
  #keyLength = 0;
  #newBlock = false;
  /** Mutations the priced key adds (1 when it starts a block, else 0). */
  mutations = 0;
  /** Bytes of keys and values the priced key adds. */
  bytes = 0;
  /** Bytes of keys the priced key adds. */
  keys = 0;

  /**
   * Plans blocks for a context that may hold `room` more keys in blocks and
   * `blockRoom` more blocks.
   */
  constructor(room: number, blockRoom: number) {
    this.#room = room;
    this.#blockRoom = blockRoom;
  }

  /**
   * Prices the next turn's key, `keyLength` UTF-8 bytes: true when it goes
   * into a block, with {@link mutations}, {@link bytes} and {@link keys} set
   * to what it adds; false when it needs a row of its own (no room for the
   * key, or it would start a block and the context has no room for one).
   */
  price(keyLength: number): boolean {
    if (this.#room <= 0) return false;
    const entry = keyEntryBytes(keyLength);
    const last = this.#blocks.at(-1);
    this.#keyLength = keyLength;
    this.#newBlock = !last || last.bytes + entry > KEY_BLOCK_MAX_BYTES;
    if (this.#newBlock && this.#blockRoom <= 0) return false;
    this.mutations = this.#newBlock ? 1 : 0;
    this.keys = this.#newBlock ? BLOCK_KEY_BYTES : 0;
    this.bytes = entry +
      (this.#newBlock ? BLOCK_KEY_BYTES + BLOCK_VALUE_OVERHEAD + KEY_BLOCK_HEADER : 0);
    return true;
  }

  /** Adds the key just priced, for the turn `id` at `depth`. */
  add(key: string, id: bigint, depth: number): void {
    if (this.#newBlock) this.#blocks.push(new KeyBlockBuilder(depth)), this.#blockRoom--;
    this.#blocks.at(-1)!.add(key, id, this.#keyLength);
    this.#room--;
  }

  /** The blocks planned, in depth order. */
  get blocks(): readonly KeyBlockBuilder[] {
    return this.#blocks;
  }
}
