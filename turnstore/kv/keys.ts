/**
 * The key layout of the KV backend, in one place. Ids are stored as bigint
 * key parts (decimal u64 strings at the API) and depths as numbers, so that
 * Deno KV orders them numerically and a depth range is one range read.
 *
 * | key | value |
 * | --- | --- |
 * | `["ctx", ctx]` | {@link ContextValue}: base turn, its depth and context (immutable) |
 * | `["turn", ctx, depth]` | {@link TurnValue} (as bytes, see turn_value.ts): a turn appended to `ctx` at `depth`; or a pack of the turns one commit appended at `depth`, `depth + 1`, … (turn_pack.ts) |
 * | `["body", turnId]` | the payload of a turn above `BODY_ROW_ABOVE` (4 KiB) and up to `INLINE_BYTES` (48 KiB), as bytes; its turn row holds no payload (limits.ts) |
 * | `["keys", ctx, firstDepth]` | the idempotency keys one commit wrote to `ctx`, as bytes (see key_blocks.ts) |
 * | `["idem", ctx, key]` | the turn id an idempotency key created (a `Deno.KvU64`; a bigint in older stores), for keys past a context's first 4,096 |
 * | `["fs", ctx, depth]` | the tree root attached to the turn at `depth` of `ctx` |
 * | `["chunk", hash]` | up to 60 KiB of a larger payload, blob or bundle |
 * | `["blob", hash]` | {@link StoredBytes} of a blob |
 * | `["bundle", id]` | {@link StoredBytes} of a registry bundle's canonical JSON |
 * | `["registry"]` | a counter bumped by every publication (serializes publishers) |
 * | `["run", firstTurn]` | `{ ctx, depth }`: a run of consecutive turn ids at consecutive depths of `ctx`, starting with `firstTurn` at `depth` |
 * | `["seq", "turn" or "context"]` | the next unreserved id of each kind |
 * | `["tok", token]` | an empty value that expires: a token one commit of an overlapping chain deletes and the next one checks is gone (commit_chain.ts; KV Connect only) |
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
  /** Creation time, ms since the Unix epoch; absent in records written before it was kept. */
  readonly createdAt?: number;
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

/**
 * A turn record. Its context and depth are in its key. Its payload is
 * {@link StoredBytes.inline}, chunks, or, when {@link TurnValue.bodyRow} is
 * set, the value of {@link bodyKey}`(id)`.
 */
export interface TurnValue extends StoredBytes {
  /** The payload is the value of `["body", id]` (neither inline nor chunks). */
  readonly bodyRow?: boolean;
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

/**
 * Where a run of turn ids lives: turn `first + k` (the run's key) is at
 * depth `depth + k` of `ctx`, for as long as the run goes. A handle that
 * appends to one context again and again gets consecutive ids for
 * consecutive depths, so it writes one run per 1024-id block instead of one
 * location row per turn; interleaved writers simply start more runs. A
 * lookup checks the turn it lands on, so an id past a run's end is unknown.
 */
export type RunValue = TurnLocation;

/** Where a turn record lives. */
export interface TurnLocation {
  /** The context it was appended to. */
  readonly ctx: bigint;
  /** Its depth. */
  readonly depth: number;
}

/** Prefix of every context record (listContexts reads it newest first). */
export const CONTEXT_PREFIX: Deno.KvKey = ["ctx"];
/** Key of a context record. */
export const contextKey = (ctx: bigint): Deno.KvKey => ["ctx", ctx];
/** Prefix of `ctx`'s own turns. */
export const turnPrefix = (ctx: bigint): Deno.KvKey => ["turn", ctx];
/** Key of the turn at `depth` of `ctx`'s own segment. */
export const turnKey = (ctx: bigint, depth: number): Deno.KvKey => ["turn", ctx, depth];
/** Key of the body row of a turn whose payload is stored apart from its turn row. */
export const bodyKey = (turn: bigint): Deno.KvKey => ["body", turn];
/** Key of a run of turn ids (see {@link RunValue}). */
export const runKey = (firstTurn: bigint): Deno.KvKey => ["run", firstTurn];
/** Prefix of every run. */
export const RUN_PREFIX: Deno.KvKey = ["run"];
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
export const seqKey = (kind: "turn" | "context"): Deno.KvKey => ["seq", kind];
/** Key of a commit-chain token (commit_chain.ts): random, short-lived, empty. */
export const tokenKey = (token: bigint): Deno.KvKey => ["tok", token];

/**
 * An upper bound of the encoded size of a key, for commit budgets. A string
 * part is a type byte, its UTF-8 bytes with 0x00 escaped as two bytes, and a
 * terminator: a UTF-16 unit is at most 3 bytes either way (a surrogate pair
 * is 4 bytes for two units, an escaped 0x00 is 2). A byte-string part escapes
 * 0x00 the same way. A number is 9 bytes and a bigint of up to 64 bits 9 or
 * fewer; 12 covers both.
 */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") n += part.length * 3 + 2;
    else if (part instanceof Uint8Array) n += part.length * 2 + 2;
    else n += 12;
  }
  return n;
}
