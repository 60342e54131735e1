/**
 * The key layout of the KV backend, in one place. Ids are stored as bigint
 * key parts (decimal u64 strings at the API) and depths as numbers, so that
 * Deno KV orders them numerically and a depth range is one range read.
 *
 * | key | value |
 * | --- | --- |
 * | `["ctx", ctx]` | {@link ContextValue}: base turn, its depth and context (immutable) |
 * | `["turn", ctx, depth]` | {@link TurnValue}: a turn appended to `ctx` at `depth` |
 * | `["idem", ctx, key]` | the turn id an idempotency key created |
 * | `["fs", ctx, depth]` | the tree root attached to the turn at `depth` of `ctx` |
 * | `["chunk", hash]` | up to 60 KiB of a larger payload, blob or bundle |
 * | `["blob", hash]` | {@link StoredBytes} of a blob |
 * | `["bundle", id]` | {@link StoredBytes} of a registry bundle's canonical JSON |
 * | `["registry"]` | a counter bumped by every publication (serializes publishers) |
 * | `["seq", "context"]` | the next unreserved context id |
 *
 * A turn id is its place: `depth << 36 | ctx` (see {@link turnIdAt}). Every
 * (context, depth) slot holds at most one turn, so ids never collide; a
 * child is one deeper than its parent, so its id is greater; and getTurn is
 * one point read, with no id index to write on append.
 *
 * @module
 */

/**
 * A context record. It never changes: a context's head is its deepest own
 * turn (one reverse range read), or its base while it has none.
 */
export interface ContextValue {
  /** Base turn of a fork; 0n for an empty start. */
  readonly base: bigint;
  /** Depth of the base turn. */
  readonly baseDepth: number;
  /** Context the base turn was appended to; 0n when there is no base. */
  readonly baseCtx: bigint;
}

/** Bytes stored inline or as a list of content-addressed chunks. */
export interface StoredBytes {
  /** Total length. */
  readonly size: number;
  /** The bytes, when they fit in the record. */
  readonly inline?: Uint8Array;
  /** BLAKE3-256 of each chunk, 32 bytes each, concatenated. */
  readonly chunks?: Uint8Array;
}

/** A turn record. Its context and depth are in its key. */
export interface TurnValue extends StoredBytes {
  /** Turn id. */
  readonly id: bigint;
  /** Parent turn id; 0n for a first turn. */
  readonly parent: bigint;
  /** Record type id. */
  readonly type: string;
  /** Record type version. */
  readonly version: number;
  /** BLAKE3-256 of the payload, hex. */
  readonly hash: string;
}

/** Bits of a turn id that hold its context id. */
export const CONTEXT_ID_BITS = 36n;
/** Largest context id: 2^36 - 1 (68.7 billion contexts). */
export const MAX_CONTEXT_ID: bigint = (1n << CONTEXT_ID_BITS) - 1n;
/** Largest depth: 2^28 - 1 (268 million turns in one history). */
export const MAX_DEPTH: number = 2 ** 28 - 1;

/** The id of the turn at `depth` of `ctx`'s own segment. */
export function turnIdAt(ctx: bigint, depth: number): bigint {
  return (BigInt(depth) << CONTEXT_ID_BITS) | ctx;
}

/** Where the turn with this id lives; undefined for ids no turn can have. */
export function locationOfTurn(id: bigint): TurnLocation | undefined {
  const ctx = id & MAX_CONTEXT_ID;
  const depth = id >> CONTEXT_ID_BITS;
  if (ctx === 0n || depth === 0n || depth > BigInt(MAX_DEPTH)) return undefined;
  return { ctx, depth: Number(depth) };
}

/** Where a turn record lives. */
export interface TurnLocation {
  /** The context it was appended to. */
  readonly ctx: bigint;
  /** Its depth. */
  readonly depth: number;
}

/** Key of a context record. */
export const contextKey = (ctx: bigint): Deno.KvKey => ["ctx", ctx];
/** Prefix of `ctx`'s own turns. */
export const turnPrefix = (ctx: bigint): Deno.KvKey => ["turn", ctx];
/** Key of the turn at `depth` of `ctx`'s own segment. */
export const turnKey = (ctx: bigint, depth: number): Deno.KvKey => ["turn", ctx, depth];
/** Key of an idempotency entry. */
export const idemKey = (ctx: bigint, key: string): Deno.KvKey => ["idem", ctx, key];
/** Key of a tree-root attachment. */
export const fsKey = (ctx: bigint, depth: number): Deno.KvKey => ["fs", ctx, depth];
/** Key of a chunk. */
export const chunkKey = (hash: string): Deno.KvKey => ["chunk", hash];
/** Key of a blob record. */
export const blobKey = (hash: string): Deno.KvKey => ["blob", hash];
/** Key of a bundle record. */
export const bundleKey = (id: string): Deno.KvKey => ["bundle", id];
/** Prefix of every bundle record. */
export const BUNDLE_PREFIX: Deno.KvKey = ["bundle"];
/** Key bumped by every bundle publication. */
export const REGISTRY_KEY: Deno.KvKey = ["registry"];
/** Key of an id counter. */
export const seqKey = (kind: "context"): Deno.KvKey => ["seq", kind];

/** An upper bound of the encoded size of a key, for commit budgets. */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    // A UTF-16 unit is at most 3 UTF-8 bytes; 0x00 bytes are escaped (×2).
    n += typeof part === "string" ? part.length * 6 + 2 : 12;
  }
  return n;
}
