/**
 * The turn store contract: a DAG of immutable turns, grouped into contexts
 * whose heads move forward as turns are appended, plus content-addressed blobs
 * and registry bundles. The rules are written out in spec/turnstore.md and
 * pinned by the shared conformance suite.
 *
 * @module
 */
import type { ContextId, TurnId } from "./ids.ts";
import type { RegistryBundle } from "../registry/bundle.ts";

/** Where a context stands: its id, its head turn and that turn's depth. */
export interface ContextHead {
  /** The context. */
  readonly contextId: ContextId;
  /** The newest turn of the context's history; "0" when it is empty. */
  readonly headTurnId: TurnId;
  /** Depth of the head: 0 for an empty context, 1 for a first turn. */
  readonly headDepth: number;
}

/** Options of {@link TurnStore.createContext}. */
export interface CreateContextOptions {
  /** Start the context at this turn (a fork); "0" or absent for an empty context. */
  readonly baseTurnId?: TurnId;
}

/** One append request. */
export interface AppendTurnInput {
  /** The context to extend. */
  readonly contextId: ContextId;
  /**
   * The turn the caller believes is the head. When given, the append happens
   * only if it still is (compare-and-set); otherwise the current head is the
   * parent.
   */
  readonly parentTurnId?: TurnId;
  /** Record type id, e.g. "forge.agent.user_turn". */
  readonly typeId: string;
  /** Record type version, 1 or more. */
  readonly typeVersion: number;
  /** The record's bytes (msgpack with numeric tags for typed records). */
  readonly payload: Uint8Array;
  /**
   * A key that makes the append idempotent within the context: the same key
   * returns the turn it first created.
   */
  readonly idempotencyKey?: string;
  /** Attach this filesystem tree root (a stored blob) to the new turn. */
  readonly fsRootHash?: string;
}

/** A stored turn, as every backend returns it. */
export interface StoredTurn {
  /** The turn's id. */
  readonly turnId: TurnId;
  /** Its parent; "0" for a context's first turn. */
  readonly parentTurnId: TurnId;
  /** Parent's depth + 1; a first turn has depth 1. */
  readonly depth: number;
  /** Record type id. */
  readonly typeId: string;
  /** Record type version. */
  readonly typeVersion: number;
  /** The payload bytes, exactly as appended. */
  readonly payload: Uint8Array;
  /** BLAKE3-256 of the payload, lowercase hex. */
  readonly contentHash: string;
}

/** What {@link TurnStore.appendTurn} returns. */
export interface AppendedTurn extends StoredTurn {
  /** The context the turn was appended to. */
  readonly contextId: ContextId;
  /** True when an earlier append with the same idempotency key is returned. */
  readonly deduplicated: boolean;
}

/** Options of {@link TurnStore.listTurns}. */
export interface ListTurnsOptions {
  /** Page before this turn (exclusive); absent: end at the head (inclusive). */
  readonly beforeTurnId?: TurnId;
  /** Most turns to return, 1 to {@link MAX_LIST_LIMIT}; default 100. */
  readonly limit?: number;
}

/** Options of {@link TurnStore.listContexts}. */
export interface ListContextsOptions {
  /** Page after this context in newest-first order (exclusive); absent: start at the newest. */
  readonly beforeContextId?: ContextId;
  /** Most contexts to return, 1 to {@link MAX_LIST_LIMIT}; default 100. */
  readonly limit?: number;
}

/** One context of a {@link TurnStore.listContexts} page. */
export interface ContextSummary extends ContextHead {
  /**
   * When the context was created, in milliseconds since the Unix epoch;
   * undefined when the backend does not know (a context written before the
   * backend recorded creation times).
   */
  readonly createdAt?: number;
  /**
   * The turn the context was created at: "0" for an empty start, else the
   * turn it forks from. Undefined when the backend cannot tell (CXDB).
   */
  readonly baseTurnId?: TurnId;
}

/** Largest page {@link TurnStore.listTurns} returns. */
export const MAX_LIST_LIMIT = 10_000;
/** Default page size of {@link TurnStore.listTurns}. */
export const DEFAULT_LIST_LIMIT = 100;
/** Largest payload a turn may carry, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Largest blob, in bytes. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** The turn DAG. */
export interface TurnStore {
  /** Creates an empty context, or one whose head is `baseTurnId` (a fork). */
  createContext(options?: CreateContextOptions): Promise<ContextHead>;
  /** Creates a context whose head is `turnId`, sharing its history; copies nothing. */
  forkContext(turnId: TurnId): Promise<ContextHead>;
  /** Appends one turn at the context's head, atomically. */
  appendTurn(input: AppendTurnInput): Promise<AppendedTurn>;
  /** The context's current head. */
  getHead(contextId: ContextId): Promise<ContextHead>;
  /**
   * Up to `limit` turns of the context's history, oldest → newest, ending at
   * the head or just before `beforeTurnId`.
   */
  listTurns(contextId: ContextId, options?: ListTurnsOptions): Promise<StoredTurn[]>;
  /** One turn by id. */
  getTurn(turnId: TurnId): Promise<StoredTurn>;
  /**
   * Up to `limit` contexts, newest first (by context id, which the store
   * allocates in increasing order), each with its head and creation time,
   * starting just after `beforeContextId` when given. A page costs O(limit),
   * never O(contexts in the store).
   */
  listContexts(options?: ListContextsOptions): Promise<ContextSummary[]>;
  /** Releases the backend; later calls fail with a Backend error. */
  close(): Promise<void>;
}

/** What {@link BlobStore.putBlob} returns. */
export interface PutBlobResult {
  /** BLAKE3-256 of the bytes, lowercase hex. */
  readonly hash: string;
  /** False when the blob was already stored. */
  readonly wasNew: boolean;
}

/** Content-addressed blobs and filesystem-tree attachments. */
export interface BlobStore {
  /** Stores `bytes` under their BLAKE3-256 hash; storing twice is harmless. */
  putBlob(bytes: Uint8Array): Promise<PutBlobResult>;
  /** The bytes stored under `hash`; NotFound when absent. */
  getBlob(hash: string): Promise<Uint8Array>;
  /** True when a blob with this hash is stored. */
  hasBlob(hash: string): Promise<boolean>;
  /** Attaches a stored tree root to a turn; attaching the same root again is harmless. */
  attachFs(turnId: TurnId, rootHash: string): Promise<void>;
  /** The tree root of a turn: its own, or its nearest ancestor's; undefined when none. */
  getFsRoot(turnId: TurnId): Promise<string | undefined>;
}

/** What {@link TypedTurnStore.publishRegistryBundle} returns. */
export interface PublishBundleResult {
  /** False when an identical bundle was already published under this id. */
  readonly created: boolean;
}

/** Registry bundles that describe the typed records of a store. */
export interface TypedTurnStore {
  /** Publishes a bundle; identical re-publication is harmless, a changed one is a Conflict. */
  publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult>;
  /** A published bundle, or undefined. */
  getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined>;
}

/** A complete store: turns, blobs and registry bundles. Every backend implements it. */
export interface ForgeStore extends TurnStore, BlobStore, TypedTurnStore, AsyncDisposable {
  /** The backend's name: "memory", "kv", "fs", "cxdb", ... */
  readonly backend: string;
}
