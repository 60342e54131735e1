/**
 * The CXDB-backed turn store: the turn store contract over a CXDB server,
 * with the rules the server does not enforce kept on the client side.
 *
 * - Depths: CXDB numbers a first turn 0, the contract 1 (an empty context is
 *   head "0", depth 0 in both).
 * - Compare-and-set parents: appends to one context from this store pass a
 *   gate; an append with an explicit parent waits for the context's earlier
 *   appends, reads the head and only then appends.
 * - Idempotency keys: the server ignores them, so this store keeps, per
 *   context, the turn each key created; concurrent appends with one key share
 *   one request. A lost acknowledgment is settled by the client (see
 *   client/client.ts), so the key's turn is never created twice.
 * - NotFound: the server closes the connection for an unknown context, turn
 *   or blob; the client isolates the request that caused it, and this store
 *   turns that into NotFound naming the id.
 * - getTurn and beforeTurnId paging have no binary route: they use the HTTP
 *   read API when configured, a local index of what this store has seen, and
 *   otherwise a throwaway fork (CTX_FORK of the turn, then GET_LAST).
 *
 * Each rule has its module: depths and the index in turn_index.ts, the gate
 * in gate.ts, the emulated reads in reads.ts, error mapping in failures.ts,
 * registry bundles in registry.ts, the server's fs roots in fs_roots.ts;
 * this one holds the contract's methods.
 *
 * @module
 */
import {
  BackendError,
  ConflictError,
  NotFoundError,
  ROOT_TURN_ID,
  UnsupportedError,
} from "@forge/turnstore";
import { blake3Hex, requireHash, requireId, toHex } from "@forge/turnstore";
import { hashInto } from "blake3-jit";
import type {
  AppendedTurn,
  AppendTurnInput,
  ContextHead,
  ContextSummary,
  CreateContextOptions,
  ForgeStore,
  ListContextsOptions,
  ListTurnsOptions,
  PublishBundleResult,
  PutBlobResult,
  StoredTurn,
} from "@forge/turnstore";
import {
  type ValidAppend,
  validateAppend,
  validateBlob,
  validateCreateContext,
  validateList,
  validateListContexts,
} from "@forge/turnstore/backend";
import {
  foreignParent,
  PooledBytes,
  replayIdempotent,
  staleParent,
} from "@forge/turnstore/backend";
import type { RegistryBundle } from "@forge/turnstore";
import { CxdbClient, type CxdbClientOptions } from "../client/client.ts";
import { CxdbError } from "../client/errors.ts";
import { CxdbHttpClient } from "../http/client.ts";
import type { WireAppended } from "../protocol/wire.ts";
import { parseCxdbUrl } from "./url.ts";
import { type CxdbCall, mapCxdbError, type Missing } from "./failures.ts";
import { ContextGates } from "./gate.ts";
import { AppendCall, type AppendFinisher } from "./append_call.ts";
import { contextHead, TurnIndex } from "./turn_index.ts";
import { serverOwnRoot } from "./fs_roots.ts";
import { listTurnsPage, type ReadRoutes, readTurn } from "./reads.ts";
import { CxdbRegistry } from "./registry.ts";
import { listCxdbContexts } from "./contexts.ts";

/** Options of {@link CxdbStore}. */
export interface CxdbStoreOptions {
  /** The binary client's options (host, port, TLS, timeouts, ...). */
  readonly client?: CxdbClientOptions;
  /** The HTTP read API base URL; without it, registry bundles are Unsupported. */
  readonly httpUrl?: string;
}

/** A {@link ForgeStore} on a CXDB server. */
export class CxdbStore implements ForgeStore {
  /** Always "cxdb". */
  readonly backend = "cxdb";
  /** The binary-protocol client (for stats and direct use). */
  readonly client: CxdbClient;
  /** The HTTP read client, when configured. */
  readonly http?: CxdbHttpClient;
  #closed = false;
  readonly #index: TurnIndex;
  readonly #reads: ReadRoutes;
  #keys = new Map<string, Map<string, Promise<AppendedTurn>>>();
  /** "context|key" → watermark, for keyed appends whose outcome is unknown. */
  #uncertain = new Map<string, string>();
  #gates = new ContextGates();
  #knownBlobs = new Set<string>();
  #ownFsRoots = new Map<string, string>();
  readonly #registry: CxdbRegistry;
  /** Per-append payload copies and hashes, pooled. */
  readonly #bytes = new PooledBytes();
  /** How a plain append's sink finishes it (one object for every append). */
  readonly #finisher: AppendFinisher;

  /** Creates a store over a client; nothing connects until the first call. */
  constructor(options: CxdbStoreOptions = {}) {
    this.client = new CxdbClient(options.client);
    // One retry policy for both: the HTTP reads retry as the binary calls reconnect.
    this.http = options.httpUrl
      ? new CxdbHttpClient(options.httpUrl, {
        timeoutMs: options.client?.timeoutMs,
        retry: options.client?.reconnect,
      })
      : undefined;
    this.#finisher = {
      appended: (req, contentHash, answer, hash) =>
        this.#appended(req, contentHash, undefined, answer, hash),
      failure: (req, error) => this.#map(error, { resource: "context", id: req.contextId }),
    };
    const call: CxdbCall = (fn, missing) => this.#call(fn, missing);
    this.#index = new TurnIndex(this.client, call);
    this.#reads = { index: this.#index, client: this.client, http: this.http, call };
    this.#registry = new CxdbRegistry(this.http, call, (error) => this.#map(error));
  }

  // ------------------------------------------------------------- helpers

  #open(): void {
    if (this.#closed) throw new BackendError("cxdb store is closed");
  }

  /** Runs a client call, mapping a dropped connection to NotFound of `missing`. */
  async #call<T>(fn: () => Promise<T>, missing?: Missing): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#map(error, missing);
    }
  }

  #map(error: unknown, missing?: Missing): Error {
    return mapCxdbError(error, this.client.address, missing);
  }

  async #blobExists(hash: string): Promise<boolean> {
    if (this.#knownBlobs.has(hash)) return true;
    try {
      await this.client.getBlob(hash);
      this.#knownBlobs.add(hash);
      return true;
    } catch (error) {
      if (error instanceof CxdbError && error.code === "ConnectionDropped") return false;
      throw this.#map(error);
    }
  }

  // ----------------------------------------------------------- contexts

  /** Creates an empty context, or one headed at `baseTurnId`. */
  async createContext(options?: CreateContextOptions): Promise<ContextHead> {
    this.#open();
    const base = validateCreateContext(options);
    const wire = await this.#call(() => this.client.createContext(base), {
      resource: "turn",
      id: base,
      base: true,
    });
    return this.#index.noteHead(contextHead(wire));
  }

  /** Creates a context headed at `turnId` (CTX_FORK); O(1) on the server. */
  async forkContext(turnId: string): Promise<ContextHead> {
    this.#open();
    requireId("turnId", turnId);
    const wire = await this.#call(() => this.client.forkContext(turnId), {
      resource: "turn",
      id: turnId,
      base: true,
    });
    return this.#index.noteHead(contextHead(wire));
  }

  /** The context's head (GET_HEAD). */
  async getHead(contextId: string): Promise<ContextHead> {
    this.#open();
    requireId("contextId", contextId);
    return await this.#index.getHead(contextId);
  }

  /**
   * Contexts newest first, from the HTTP context list (the binary protocol
   * has no listing): Unsupported when the store was opened without `?http=`.
   */
  async listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    this.#open();
    const { beforeContextId, limit } = validateListContexts(options);
    if (!this.http) {
      throw new UnsupportedError(
        "listContexts on a CXDB store needs its HTTP API: open it with ?http=http://host:9010",
      );
    }
    const before = beforeContextId === undefined ? undefined : BigInt(beforeContextId);
    return await this.#call(() => listCxdbContexts(this.http!, before, limit));
  }

  // ------------------------------------------------------------- appends

  /** Appends a turn; see the module notes for how the contract's rules are kept. */
  appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    try {
      this.#open();
      const req = validateAppend(input);
      // The bytes as they are now: the caller may reuse its buffer before the
      // append settles (and a parent or fs-root check sends it only later).
      // This copy is sent, hashed and returned as the turn's payload; the
      // checked request is this call's own object.
      (req as { payload: Uint8Array }).payload = this.#bytes.copy(req.payload);
      const hashBytes = this.#bytes.zeroed(32);
      hashInto(req.payload, hashBytes); // BLAKE3, as blake3Bytes, into the pool

      const contentHash = toHex(hashBytes);
      return req.idempotencyKey === undefined
        ? this.#append(req, contentHash, hashBytes)
        : this.#appendKeyed(req, req.idempotencyKey, contentHash, hashBytes);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * An append with an idempotency key. Apart from the plain path, so that the
   * closures here do not cost every plain append a context object (V8 makes
   * one on entry to a function whose closures capture its variables).
   */
  #appendKeyed(
    req: ValidAppend,
    key: string,
    contentHash: string,
    hashBytes: Uint8Array,
  ): Promise<AppendedTurn> {
    let keys = this.#keys.get(req.contextId);
    if (!keys) this.#keys.set(req.contextId, keys = new Map());
    const prior = keys.get(key);
    if (prior) {
      return prior.then((first) =>
        replayIdempotent(req, contentHash, first, this.#ownFsRoots.get(first.turnId))
      );
    }
    // Registered before any await, so concurrent appends with this key share it.
    const uncertain = this.#uncertain.get(`${req.contextId}|${key}`);
    const attempt = uncertain
      ? this.#settleUncertain(req, contentHash, hashBytes, uncertain)
      : this.#append(req, contentHash, hashBytes);
    keys.set(key, attempt);
    const watermark = this.client.maxTurnIdSeen;
    attempt.then(
      () => this.#uncertain.delete(`${req.contextId}|${key}`),
      (error) => {
        keys.delete(key);
        // A keyed append that timed out after it was sent may exist: the
        // next append with this key first looks for it.
        if (
          (error as { cause?: unknown })?.cause instanceof CxdbError &&
          (error.cause as CxdbError).outcomeUnknown
        ) {
          this.#uncertain.set(`${req.contextId}|${key}`, uncertain ?? watermark);
        }
      },
    );
    return attempt;
  }

  /** An earlier attempt with this key may have happened: find it, or append. */
  async #settleUncertain(
    req: ValidAppend,
    contentHash: string,
    hashBytes: Uint8Array,
    since: string,
  ): Promise<AppendedTurn> {
    const found = await this.#call(() =>
      this.client.findAppended({
        contextId: req.contextId,
        parentTurnId: req.parentTurnId,
        typeId: req.typeId,
        typeVersion: req.typeVersion,
        payload: req.payload,
        contentHash: hashBytes,
      }, since), { resource: "context", id: req.contextId });
    if (!found) return this.#append(req, contentHash, hashBytes);
    const depth = found.depth + 1;
    this.#index.chain(req.contextId).set(depth, found.turnId);
    const parentTurnId = depth === 1
      ? ROOT_TURN_ID
      : (await this.#index.chainAt(req.contextId, depth - 1)) ?? ROOT_TURN_ID;
    return {
      ...this.#record(req, contentHash, found.turnId, depth, parentTurnId),
      deduplicated: true,
    };
  }

  #append(
    req: ValidAppend,
    contentHash: string,
    hashBytes: Uint8Array,
  ): Promise<AppendedTurn> {
    if (req.parentTurnId !== undefined || req.fsRootHash !== undefined) {
      return this.#appendChecked(req, contentHash, hashBytes);
    }
    // The common case, kept free of async layers: each one costs a promise
    // and a microtask hop per append.
    const g = this.#gates.gate(req.contextId);
    if (g.barrier) return this.#appendShared(req, contentHash, hashBytes);
    g.active++;
    const call = new AppendCall(this.#finisher, req, contentHash, hashBytes, g);
    // The checked request goes as is (no parent, no fs root on this path);
    // the client takes the hash from the call.
    this.client.appendTurnTo(req, call);
    return call.promise;
  }

  /** A plain append that goes through the gate's slow path (its closure kept off the fast one). */
  #appendShared(req: ValidAppend, hex: string, hash: Uint8Array): Promise<AppendedTurn> {
    return this.#gates.shared(req.contextId, () => this.#send(req, hex, hash, undefined));
  }

  /** An append with an fs root or an explicit (compare-and-set) parent. */
  async #appendChecked(
    req: ValidAppend,
    contentHash: string,
    hashBytes: Uint8Array,
  ): Promise<AppendedTurn> {
    if (req.fsRootHash !== undefined && !(await this.#blobExists(req.fsRootHash))) {
      throw new NotFoundError(
        "blob",
        req.fsRootHash,
        `fs root for a turn of context ${req.contextId}`,
      );
    }
    if (req.parentTurnId === undefined) return this.#appendShared(req, contentHash, hashBytes);
    const parent = req.parentTurnId;
    return this.#gates.exclusive(req.contextId, async () => {
      const head = await this.#index.getHead(req.contextId);
      if (parent === head.headTurnId) {
        return this.#send(
          req,
          contentHash,
          hashBytes,
          parent === ROOT_TURN_ID ? undefined : parent,
        );
      }
      if (parent === ROOT_TURN_ID) throw staleParent(req.contextId, parent, head.headTurnId);
      const meta = await this.#index.meta(parent);
      throw (await this.#index.inHistory(req.contextId, meta))
        ? staleParent(req.contextId, parent, head.headTurnId)
        : foreignParent(req.contextId, parent);
    });
  }

  /** Sends one append (at the head, or after `parent`) and records the turn it made. */
  #send(
    req: ValidAppend,
    contentHash: string,
    hashBytes: Uint8Array,
    parent: string | undefined,
  ): Promise<AppendedTurn> {
    return this.client.appendTurn({
      contextId: req.contextId,
      parentTurnId: parent,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      payload: req.payload,
      idempotencyKey: req.idempotencyKey,
      fsRootHash: req.fsRootHash,
      contentHash: hashBytes,
    }).then(
      (answer) => this.#appended(req, contentHash, parent, answer),
      (error) => {
        throw this.#map(error, { resource: "context", id: req.contextId });
      },
    );
  }

  /** Checks the server's answer to an append and records the new turn. */
  #appended(
    req: ValidAppend,
    contentHash: string,
    parent: string | undefined,
    answer: WireAppended,
    hash?: Uint8Array,
  ): AppendedTurn | Promise<AppendedTurn> {
    if (answer.contentHash !== contentHash) {
      throw new BackendError(
        `CXDB stored turn ${answer.turnId} of context ${req.contextId} with hash ${answer.contentHash}, expected ${contentHash}`,
      );
    }
    if (answer.contextId !== req.contextId || answer.turnId === ROOT_TURN_ID) {
      // Not an answer to this append (a server that lost track of req_ids):
      // recording it would put a turn into the wrong context's chain.
      throw new BackendError(
        `CXDB answered an append to context ${req.contextId} with turn ${answer.turnId} of context ${answer.contextId}`,
      );
    }
    const depth = answer.depth + 1;
    const chain = this.#index.chain(req.contextId);
    chain.set(depth, answer.turnId);
    const parentId = parent ?? (depth === 1 ? ROOT_TURN_ID : chain.get(depth - 1));
    return parentId !== undefined
      ? this.#record(req, contentHash, answer.turnId, depth, parentId, hash)
      : this.#recordAfterRead(req, contentHash, answer.turnId, depth, hash);
  }

  /** {@link #record} once a read has found the parent (closure kept off the common path). */
  async #recordAfterRead(
    req: ValidAppend,
    contentHash: string,
    turnId: string,
    depth: number,
    hash?: Uint8Array,
  ): Promise<AppendedTurn> {
    const parentId = await this.#index.chainAt(req.contextId, depth - 1);
    return this.#record(req, contentHash, turnId, depth, parentId ?? ROOT_TURN_ID, hash);
  }

  #record(
    req: ValidAppend,
    contentHash: string,
    turnId: string,
    depth: number,
    parentTurnId: string,
    hash?: Uint8Array,
  ): AppendedTurn {
    this.#index.turns.add(
      turnId,
      parentTurnId,
      depth,
      req.typeId,
      req.typeVersion,
      contentHash,
      req.contextId,
      hash,
    );
    if (req.fsRootHash !== undefined) {
      this.#ownFsRoots.set(turnId, req.fsRootHash);
      this.#knownBlobs.add(req.fsRootHash);
    }
    return {
      turnId,
      parentTurnId,
      depth,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      payload: req.payload, // the store's copy, taken at the call
      contentHash,
      contextId: req.contextId,
      deduplicated: false,
    };
  }

  // ------------------------------------------------------------- reading

  /** A page of a context's history, oldest → newest. */
  async listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    this.#open();
    const { beforeTurnId, limit } = validateList(contextId, options);
    return await listTurnsPage(this.#reads, contextId, beforeTurnId, limit);
  }

  /** One turn by id. */
  async getTurn(turnId: string): Promise<StoredTurn> {
    this.#open();
    requireId("turnId", turnId);
    if (turnId === ROOT_TURN_ID) {
      throw new NotFoundError("turn", turnId);
    }
    return await readTurn(this.#reads, turnId);
  }

  // --------------------------------------------------------------- blobs

  /** PUT_BLOB. */
  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    this.#open();
    validateBlob(bytes);
    const put = await this.#call(() => this.client.putBlob(bytes));
    this.#knownBlobs.add(put.hash);
    return { hash: put.hash, wasNew: put.wasNew };
  }

  /** GET_BLOB; NotFound when the server lacks it. */
  async getBlob(hash: string): Promise<Uint8Array> {
    this.#open();
    requireHash("hash", hash);
    const bytes = await this.#call(() => this.client.getBlob(hash), { resource: "blob", id: hash });
    // Content-addressed: bytes of another hash are the server's fault, not a blob.
    const got = blake3Hex(bytes);
    if (got !== hash) {
      throw new BackendError(
        `CXDB at ${this.client.address} returned ${bytes.length} bytes of hash ${got} for blob ${hash}`,
      );
    }
    this.#knownBlobs.add(hash);
    return bytes;
  }

  /**
   * True when the server has the blob. CXDB has no "has blob" message: an
   * unknown hash costs a GET_BLOB (the whole blob when present, a dropped
   * connection when absent); hashes this store has seen are answered locally.
   */
  async hasBlob(hash: string): Promise<boolean> {
    this.#open();
    requireHash("hash", hash);
    return await this.#blobExists(hash);
  }

  /** ATTACH_FS, refusing to replace a turn's own different root (Conflict). */
  async attachFs(turnId: string, rootHash: string): Promise<void> {
    this.#open();
    requireId("turnId", turnId);
    requireHash("rootHash", rootHash);
    const meta = await this.#index.meta(turnId);
    if (!(await this.#blobExists(rootHash))) {
      throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
    }
    const own = this.#ownFsRoots.get(turnId) ?? (await serverOwnRoot(this.http, meta));
    if (own !== undefined && own !== rootHash) {
      throw new ConflictError(
        `turn ${turnId} already has fs root ${own}; a turn's snapshot cannot change`,
      );
    }
    if (own === rootHash) return;
    await this.#call(() => this.client.attachFs(turnId, rootHash), {
      resource: "turn",
      id: turnId,
    });
    this.#ownFsRoots.set(turnId, rootHash);
  }

  /** The turn's tree root, its own or its nearest ancestor's. */
  async getFsRoot(turnId: string): Promise<string | undefined> {
    this.#open();
    requireId("turnId", turnId);
    await this.#index.meta(turnId);
    // Local knowledge first: what this store attached along the known ancestry.
    for (let t = this.#index.turns.get(turnId); t;) {
      const own = this.#ownFsRoots.get(t.turnId);
      if (own !== undefined) return own;
      if (t.parentTurnId === ROOT_TURN_ID) {
        if (!this.http) return undefined;
        break;
      }
      t = this.#index.turns.get(t.parentTurnId);
    }
    if (!this.http) return undefined;
    try {
      return (await this.http.listFs(turnId))?.fs_root_hash;
    } catch (error) {
      throw this.#map(error);
    }
  }

  // ------------------------------------------------------------ registry

  /** PUT /v1/registry/bundles/{id}; the server's 422 becomes Conflict. */
  async publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    this.#open();
    return await this.#registry.publish(bundle);
  }

  /** GET /v1/registry/bundles/{id}, revalidated with its ETag. */
  async getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    this.#open();
    return await this.#registry.get(bundleId);
  }

  // ------------------------------------------------------------ lifecycle

  /** Closes the connection; later calls fail with a Backend error. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.client.close();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Opens a store from `cxdb://host:port?http=...` (or `cxdbs://` for TLS). */
export async function openCxdbStore(url: string): Promise<CxdbStore> {
  const config = parseCxdbUrl(url);
  const caCerts = config.caFile ? [await readCaFile(config.caFile)] : undefined;
  const store = new CxdbStore({
    httpUrl: config.httpUrl,
    client: {
      hostname: config.hostname,
      port: config.port,
      tls: config.tls ? { caCerts } : false,
      clientTag: config.clientTag,
      timeoutMs: config.timeoutMs,
      reconnect: config.attempts ? { attempts: config.attempts } : undefined,
    },
  });
  try {
    await store.client.connect();
  } catch (error) {
    await store.close();
    throw new BackendError(
      `cannot reach CXDB at ${config.hostname}:${config.port}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return store;
}

/** The CA file a URL's `ca` parameter names; a BackendError naming it when it cannot be read. */
async function readCaFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new BackendError(
      `cannot read the CA file ${path} named by the cxdb URL's ca parameter: ${error}`,
      { cause: error },
    );
  }
}
