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
 * @module
 */
import {
  BackendError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type NotFoundResource,
  TurnStoreError,
  UnsupportedError,
} from "@forge/turnstore";
import { requireId, ROOT_TURN_ID } from "@forge/turnstore";
import { blake3Bytes, blake3Hex, requireHash } from "@forge/turnstore";
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
  validateList,
  validateListContexts,
} from "@forge/turnstore/backend";
import {
  foreignCursor,
  foreignParent,
  replayIdempotent,
  staleParent,
  unknownBase,
} from "@forge/turnstore/backend";
import { type RegistryBundle, RegistryIndex, validateBundleShape } from "@forge/turnstore";
import { CxdbClient, type CxdbClientOptions } from "../client/client.ts";
import { CxdbError, HttpError } from "../client/errors.ts";
import { CxdbHttpClient, type HttpTurn } from "../http/client.ts";
import { hexOf, type WireAppended, type WireHead, type WireTurn } from "../protocol/wire.ts";
import { parseCxdbUrl } from "./url.ts";
import { listCxdbContexts } from "./contexts.ts";

/** Options of {@link CxdbStore}. */
export interface CxdbStoreOptions {
  /** The binary client's options (host, port, TLS, timeouts, ...). */
  readonly client?: CxdbClientOptions;
  /** The HTTP read API base URL; without it, registry bundles are Unsupported. */
  readonly httpUrl?: string;
}

interface TurnMeta {
  readonly turnId: string;
  readonly parentTurnId: string;
  /** Contract depth (first turn 1). */
  readonly depth: number;
  readonly typeId: string;
  readonly typeVersion: number;
  readonly contentHash: string;
  /** A context whose history holds the turn. */
  readonly contextId: string;
}

interface Gate {
  /** Plain appends of the context under way. */
  active: number;
  /** Resolves when `active` drops to 0, while someone waits for that. */
  drained?: { promise: Promise<void>; resolve: () => void };
  barrier?: Promise<void>;
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
  #turns = new Map<string, TurnMeta>();
  /** Per context: contract depth → turn id. Valid because a context only grows at its head. */
  #chains = new Map<string, Map<number, string>>();
  #keys = new Map<string, Map<string, Promise<AppendedTurn>>>();
  /** "context|key" → watermark, for keyed appends whose outcome is unknown. */
  #uncertain = new Map<string, string>();
  #gates = new Map<string, Gate>();
  #knownBlobs = new Set<string>();
  #ownFsRoots = new Map<string, string>();
  #registry = new RegistryIndex();
  #bundleCache = new Map<string, { etag: string; bundle: RegistryBundle }>();

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
  }

  // ------------------------------------------------------------- helpers

  #open(): void {
    if (this.#closed) throw new BackendError("cxdb store is closed");
  }

  /** Runs a client call, mapping a dropped connection to NotFound of `missing`. */
  async #call<T>(
    fn: () => Promise<T>,
    missing?: { resource: NotFoundResource; id: string; base?: boolean },
  ): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#map(error, missing);
    }
  }

  #map(
    error: unknown,
    missing?: { resource: NotFoundResource; id: string; base?: boolean },
  ): Error {
    if (error instanceof TurnStoreError) return error;
    if (error instanceof CxdbError) {
      if (error.code === "Closed") {
        return new BackendError("cxdb store is closed", { cause: error });
      }
      // The contract's words first, as every backend says them; then how
      // CXDB told us (the operation it dropped the connection on, or a 404).
      if (
        missing &&
        (error.code === "ConnectionDropped" || (error instanceof HttpError && error.status === 404))
      ) {
        const how = error instanceof HttpError
          ? error.message
          : `the CXDB server closed the connection on ${error.operation}`;
        return missing.base
          ? unknownBase(missing.id, how, { cause: error })
          : new NotFoundError(missing.resource, missing.id, how, { cause: error });
      }
      return new BackendError(`CXDB at ${this.client.address}: ${error.message}`, { cause: error });
    }
    return new BackendError(`CXDB at ${this.client.address}: ${(error as Error)?.message}`, {
      cause: error,
    });
  }

  #head(h: WireHead): ContextHead {
    return {
      contextId: h.contextId,
      headTurnId: h.headTurnId,
      headDepth: h.headTurnId === ROOT_TURN_ID ? 0 : h.headDepth + 1,
    };
  }

  #chain(contextId: string): Map<number, string> {
    let c = this.#chains.get(contextId);
    if (!c) this.#chains.set(contextId, c = new Map());
    return c;
  }

  #noteHead(head: ContextHead): ContextHead {
    if (head.headTurnId !== ROOT_TURN_ID) {
      this.#chain(head.contextId).set(head.headDepth, head.headTurnId);
    }
    return head;
  }

  #noteWire(contextId: string, t: WireTurn): TurnMeta {
    const meta: TurnMeta = {
      turnId: t.turnId,
      parentTurnId: t.parentTurnId,
      depth: t.depth + 1,
      typeId: t.typeId,
      typeVersion: t.typeVersion,
      contentHash: t.contentHash,
      contextId,
    };
    this.#turns.set(meta.turnId, meta);
    this.#chain(contextId).set(meta.depth, meta.turnId);
    return meta;
  }

  #stored(meta: TurnMeta, payload: Uint8Array): StoredTurn {
    return {
      turnId: meta.turnId,
      parentTurnId: meta.parentTurnId,
      depth: meta.depth,
      typeId: meta.typeId,
      typeVersion: meta.typeVersion,
      payload,
      contentHash: meta.contentHash,
    };
  }

  #gate(contextId: string): Gate {
    let g = this.#gates.get(contextId);
    if (!g) this.#gates.set(contextId, g = { active: 0 });
    return g;
  }

  /** Runs `fn` alongside the context's other plain appends. */
  async #shared<T>(contextId: string, fn: () => Promise<T>): Promise<T> {
    const g = this.#gate(contextId);
    while (g.barrier) await g.barrier;
    g.active++;
    try {
      return await fn();
    } finally {
      if (--g.active === 0 && g.drained) {
        g.drained.resolve();
        g.drained = undefined;
      }
    }
  }

  /** Runs `fn` alone: after the context's earlier appends, before its later ones. */
  async #exclusive<T>(contextId: string, fn: () => Promise<T>): Promise<T> {
    const g = this.#gate(contextId);
    while (g.barrier) await g.barrier;
    let release!: () => void;
    g.barrier = new Promise<void>((r) => release = r);
    try {
      if (g.active > 0) {
        g.drained ??= Promise.withResolvers<void>();
        await g.drained.promise;
      }
      return await fn();
    } finally {
      g.barrier = undefined;
      release();
    }
  }

  /** Fetches a context's head; NotFound when the server does not know it. */
  async #getHead(contextId: string): Promise<ContextHead> {
    const wire = await this.#call(() => this.client.getHead(contextId), {
      resource: "context",
      id: contextId,
    });
    return this.#noteHead(this.#head(wire));
  }

  /** The turn at contract depth `depth` of a context's history, or undefined past the head. */
  async #chainAt(contextId: string, depth: number): Promise<string | undefined> {
    if (depth === 0) return ROOT_TURN_ID;
    const known = this.#chains.get(contextId)?.get(depth);
    if (known !== undefined) return known;
    const head = await this.#getHead(contextId);
    if (depth > head.headDepth) return undefined;
    const turns = await this.#call(
      () => this.client.getLast(contextId, head.headDepth - depth + 1, false),
      { resource: "context", id: contextId },
    );
    for (const t of turns) this.#noteWire(contextId, t);
    return this.#chains.get(contextId)?.get(depth);
  }

  /** Reads one turn (with payload) through a throwaway fork: CTX_FORK(turn), GET_LAST(fork, 1). */
  async #readByFork(turnId: string): Promise<{ meta: TurnMeta; payload: Uint8Array }> {
    const fork = await this.#call(() => this.client.forkContext(turnId), {
      resource: "turn",
      id: turnId,
    });
    const [t] = await this.#call(() => this.client.getLast(fork.contextId, 1, true));
    if (!t || t.turnId !== turnId) {
      throw new BackendError(
        `CXDB fork of turn ${turnId} (context ${fork.contextId}) did not head at it`,
      );
    }
    const prior = this.#turns.get(turnId);
    const meta = prior ?? this.#noteWire(fork.contextId, t);
    return { meta, payload: t.payload ?? new Uint8Array() };
  }

  /** A turn's metadata: from the index, else from the server. */
  async #meta(turnId: string): Promise<TurnMeta> {
    if (turnId === ROOT_TURN_ID) {
      throw new NotFoundError("turn", turnId);
    }
    return this.#turns.get(turnId) ?? (await this.#readByFork(turnId)).meta;
  }

  async #inHistory(contextId: string, meta: TurnMeta): Promise<boolean> {
    return (await this.#chainAt(contextId, meta.depth)) === meta.turnId;
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
  async createContext(options: CreateContextOptions = {}): Promise<ContextHead> {
    this.#open();
    const base = options.baseTurnId === undefined
      ? ROOT_TURN_ID
      : requireId("baseTurnId", options.baseTurnId);
    const wire = await this.#call(() => this.client.createContext(base), {
      resource: "turn",
      id: base,
      base: true,
    });
    return this.#noteHead(this.#head(wire));
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
    return this.#noteHead(this.#head(wire));
  }

  /** The context's head (GET_HEAD). */
  async getHead(contextId: string): Promise<ContextHead> {
    this.#open();
    requireId("contextId", contextId);
    return await this.#getHead(contextId);
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
      const hashBytes = blake3Bytes(req.payload);
      const contentHash = hexOf(hashBytes);
      if (req.idempotencyKey === undefined) return this.#append(req, contentHash, hashBytes);
      let keys = this.#keys.get(req.contextId);
      if (!keys) this.#keys.set(req.contextId, keys = new Map());
      const key = req.idempotencyKey;
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
    } catch (error) {
      return Promise.reject(error);
    }
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
    this.#chain(req.contextId).set(depth, found.turnId);
    const parentTurnId = depth === 1
      ? ROOT_TURN_ID
      : (await this.#chainAt(req.contextId, depth - 1)) ?? ROOT_TURN_ID;
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
    const g = this.#gate(req.contextId);
    if (g.barrier) {
      return this.#shared(req.contextId, () => this.#send(req, contentHash, hashBytes, undefined));
    }
    g.active++;
    const release = () => {
      if (--g.active === 0 && g.drained) {
        g.drained.resolve();
        g.drained = undefined;
      }
    };
    return this.#send(req, contentHash, hashBytes, undefined).then((turn) => {
      release();
      return turn;
    }, (error) => {
      release();
      throw error;
    });
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
    if (req.parentTurnId === undefined) {
      return this.#shared(req.contextId, () => this.#send(req, contentHash, hashBytes, undefined));
    }
    const parent = req.parentTurnId;
    return this.#exclusive(req.contextId, async () => {
      const head = await this.#getHead(req.contextId);
      if (parent === head.headTurnId) {
        return this.#send(
          req,
          contentHash,
          hashBytes,
          parent === ROOT_TURN_ID ? undefined : parent,
        );
      }
      if (parent === ROOT_TURN_ID) throw staleParent(req.contextId, parent, head.headTurnId);
      const meta = await this.#meta(parent);
      throw (await this.#inHistory(req.contextId, meta))
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
  ): AppendedTurn | Promise<AppendedTurn> {
    if (answer.contentHash !== contentHash) {
      throw new BackendError(
        `CXDB stored turn ${answer.turnId} of context ${req.contextId} with hash ${answer.contentHash}, expected ${contentHash}`,
      );
    }
    const depth = answer.depth + 1;
    const chain = this.#chain(req.contextId);
    chain.set(depth, answer.turnId);
    const parentId = parent ?? (depth === 1 ? ROOT_TURN_ID : chain.get(depth - 1));
    if (parentId !== undefined) {
      return this.#record(req, contentHash, answer.turnId, depth, parentId);
    }
    return this.#chainAt(req.contextId, depth - 1).then((id) =>
      this.#record(req, contentHash, answer.turnId, depth, id ?? ROOT_TURN_ID)
    );
  }

  #record(
    req: ValidAppend,
    contentHash: string,
    turnId: string,
    depth: number,
    parentTurnId: string,
  ): AppendedTurn {
    this.#turns.set(turnId, {
      turnId,
      parentTurnId,
      depth,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      contentHash,
      contextId: req.contextId,
    });
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
      payload: req.payload.slice(),
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
    if (beforeTurnId === undefined) {
      const turns = await this.#call(() => this.client.getLast(contextId, limit, true), {
        resource: "context",
        id: contextId,
      });
      return turns.map((t) => this.#stored(this.#noteWire(contextId, t), t.payload!));
    }
    if (beforeTurnId === ROOT_TURN_ID) {
      await this.#getHead(contextId);
      return [];
    }
    await this.#getHead(contextId);
    const before = await this.#meta(beforeTurnId);
    if (!(await this.#inHistory(contextId, before))) throw foreignCursor(contextId, beforeTurnId);
    if (before.parentTurnId === ROOT_TURN_ID) return [];
    if (this.http) {
      const page = await this.#call(
        () =>
          this.http!.turns(contextId, {
            beforeTurnId,
            limit,
            view: "raw",
            bytesRender: "base64",
          }),
        { resource: "turn", id: beforeTurnId },
      );
      return page.turns.map((t) => this.#fromHttp(contextId, t));
    }
    // No HTTP: the history before a turn is its parent's history.
    const fork = await this.#call(() => this.client.forkContext(before.parentTurnId));
    const turns = await this.#call(() => this.client.getLast(fork.contextId, limit, true));
    return turns.map((t) => this.#stored(this.#noteWire(contextId, t), t.payload!));
  }

  #fromHttp(contextId: string, t: HttpTurn): StoredTurn {
    const payload = t.bytes_b64 !== undefined ? fromBase64(t.bytes_b64) : new Uint8Array();
    const meta = this.#noteWire(contextId, {
      turnId: t.turn_id,
      parentTurnId: t.parent_turn_id,
      depth: t.depth,
      typeId: t.declared_type.type_id,
      typeVersion: t.declared_type.type_version,
      encoding: 1,
      compression: 0,
      uncompressedLength: payload.length,
      contentHash: t.content_hash_b3 ?? blake3Hex(payload),
    });
    return this.#stored(meta, payload);
  }

  /** One turn by id. */
  async getTurn(turnId: string): Promise<StoredTurn> {
    this.#open();
    requireId("turnId", turnId);
    if (turnId === ROOT_TURN_ID) {
      throw new NotFoundError("turn", turnId);
    }
    const meta = this.#turns.get(turnId);
    if (meta) {
      // Cheapest routes first: the turn heads its context, or its child is known (HTTP page before it).
      let child = this.#chains.get(meta.contextId)?.get(meta.depth + 1);
      if (!child) {
        const head = await this.#getHead(meta.contextId).catch(() => undefined);
        if (head?.headTurnId === turnId) {
          const [newest] = await this.#call(() => this.client.getLast(meta.contextId, 1, true));
          if (newest?.turnId === turnId) return this.#stored(meta, newest.payload!);
        } else if (head && this.http && head.headDepth > meta.depth) {
          child = await this.#chainAt(meta.contextId, meta.depth + 1).catch(() => undefined);
        }
      }
      if (child && this.http) {
        const page = await this.http.turns(meta.contextId, {
          beforeTurnId: child,
          limit: 1,
          view: "raw",
          bytesRender: "base64",
        }).catch(() => undefined);
        const t = page?.turns[0];
        if (t?.turn_id === turnId) return this.#fromHttp(meta.contextId, t);
      }
    }
    const { meta: m, payload } = await this.#readByFork(turnId);
    return this.#stored(m, payload);
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
    const meta = await this.#meta(turnId);
    if (!(await this.#blobExists(rootHash))) {
      throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
    }
    const own = this.#ownFsRoots.get(turnId) ?? (await this.#serverOwnRoot(meta));
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

  /** The root the server shows for a turn when it differs from its parent's (so it is the turn's own). */
  async #serverOwnRoot(meta: TurnMeta): Promise<string | undefined> {
    if (!this.http) return undefined;
    const mine = await this.#serverRoot(meta.turnId);
    if (mine === undefined) return undefined;
    const parents = meta.parentTurnId === ROOT_TURN_ID
      ? undefined
      : await this.#serverRoot(meta.parentTurnId);
    return mine !== parents ? mine : undefined;
  }

  async #serverRoot(turnId: string): Promise<string | undefined> {
    try {
      return (await this.http!.listFs(turnId))?.fs_root_hash;
    } catch {
      return undefined; // the root is not a tree the server can list
    }
  }

  /** The turn's tree root, its own or its nearest ancestor's. */
  async getFsRoot(turnId: string): Promise<string | undefined> {
    this.#open();
    requireId("turnId", turnId);
    await this.#meta(turnId);
    // Local knowledge first: what this store attached along the known ancestry.
    for (let t = this.#turns.get(turnId); t;) {
      const own = this.#ownFsRoots.get(t.turnId);
      if (own !== undefined) return own;
      if (t.parentTurnId === ROOT_TURN_ID) {
        if (!this.http) return undefined;
        break;
      }
      t = this.#turns.get(t.parentTurnId);
    }
    if (!this.http) return undefined;
    try {
      return (await this.http.listFs(turnId))?.fs_root_hash;
    } catch (error) {
      throw this.#map(error);
    }
  }

  // ------------------------------------------------------------ registry

  #requireHttp(what: string): CxdbHttpClient {
    if (!this.http) {
      throw new UnsupportedError(
        `${what} needs the CXDB HTTP API; add ?http=http://host:9010 to the cxdb URL`,
      );
    }
    return this.http;
  }

  /** PUT /v1/registry/bundles/{id}; the server's 422 becomes Conflict. */
  async publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    this.#open();
    const valid = validateBundleShape(bundle);
    const http = this.#requireHttp(`publishing registry bundle ${valid.bundle_id}`);
    // The same rules the other backends apply, with the same messages, before the server sees it.
    const local = this.#registry.check(valid);
    try {
      const put = await http.putBundle(valid);
      if (local === "new") this.#registry.admit(structuredClone(valid));
      return { created: put.status === 201 };
    } catch (error) {
      if (error instanceof HttpError && error.status === 422) {
        throw new ConflictError(
          `registry bundle ${valid.bundle_id} was refused by the CXDB server: ${
            error.body.slice(0, 300)
          }`,
        );
      }
      throw this.#map(error);
    }
  }

  /** GET /v1/registry/bundles/{id}, revalidated with its ETag. */
  async getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    this.#open();
    if (typeof bundleId !== "string" || bundleId.length === 0) {
      throw new InvalidInputError(`bundleId must be a non-empty string, got ${String(bundleId)}`);
    }
    const http = this.#requireHttp(`reading registry bundle ${bundleId}`);
    const cached = this.#bundleCache.get(bundleId);
    const got = await this.#call(() => http.getBundle(bundleId, cached?.etag));
    if (got.status === 404) return undefined;
    if (got.status === 304) return structuredClone(cached!.bundle);
    if (got.etag) this.#bundleCache.set(bundleId, { etag: got.etag, bundle: got.bundle });
    return got.bundle;
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

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Opens a store from `cxdb://host:port?http=...` (or `cxdbs://` for TLS). */
export async function openCxdbStore(url: string): Promise<CxdbStore> {
  const config = parseCxdbUrl(url);
  const caCerts = config.caFile ? [await Deno.readTextFile(config.caFile)] : undefined;
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
