/**
 * The memory backend: the whole DAG in maps, for tests and embedding. It
 * follows the contract to the letter, so it doubles as the reference the
 * other backends are compared with.
 *
 * @module
 */
import { BackendError, ConflictError, NotFoundError } from "../core/errors.ts";
import { requireId, ROOT_TURN_ID } from "../core/ids.ts";
import { blake3Hex, requireHash } from "../core/hash.ts";
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
} from "../core/types.ts";
import {
  validateAppend,
  validateBlob,
  validateBundleId,
  validateCreateContext,
  validateList,
} from "../core/validate.ts";
import { validateListContexts } from "../core/list_contexts.ts";
import {
  foreignCursor,
  foreignParent,
  replayIdempotent,
  staleParent,
  unknownBase,
} from "../core/rules.ts";
import {
  canonicalBundleJson,
  type RegistryBundle,
  RegistryIndex,
  validateBundleShape,
} from "../registry/bundle.ts";

interface TurnRecord extends StoredTurn {
  /** The context the turn was appended to (a fork's own turns live in it). */
  readonly originContextId: string;
  fsRoot?: string;
}

interface ContextRecord {
  readonly id: string;
  readonly baseTurnId: string;
  readonly baseDepth: number;
  /** Turns appended to this context, at depths baseDepth + 1, baseDepth + 2, ... */
  readonly own: string[];
  readonly keys: Map<string, string>;
  readonly createdAt: number;
}

/** A {@link ForgeStore} held in memory. */
export class MemoryStore implements ForgeStore {
  /** Always "memory". */
  readonly backend = "memory";
  #turns = new Map<string, TurnRecord>();
  #contexts = new Map<string, ContextRecord>();
  #blobs = new Map<string, Uint8Array>();
  #registry = new RegistryIndex();
  #nextTurn = 1;
  #nextContext = 1;
  #closed = false;

  #open(): void {
    if (this.#closed) throw new BackendError("memory store is closed");
  }

  #context(id: string): ContextRecord {
    const ctx = this.#contexts.get(requireId("contextId", id));
    if (!ctx) throw new NotFoundError("context", id);
    return ctx;
  }

  #turn(id: string, label = "turnId"): TurnRecord {
    requireId(label, id);
    const turn = this.#turns.get(id);
    if (!turn) throw new NotFoundError("turn", id);
    return turn;
  }

  #head(ctx: ContextRecord): ContextHead {
    const n = ctx.own.length;
    return {
      contextId: ctx.id,
      headTurnId: n ? ctx.own[n - 1] : ctx.baseTurnId,
      headDepth: ctx.baseDepth + n,
    };
  }

  /** The turn at `depth` in `ctx`'s history (depth ≤ head depth). */
  #ancestorAt(ctx: ContextRecord, depth: number): string {
    let c = ctx;
    for (;;) {
      if (depth === 0) return ROOT_TURN_ID;
      if (depth > c.baseDepth) return c.own[depth - c.baseDepth - 1];
      c = this.#contexts.get(this.#turns.get(c.baseTurnId)!.originContextId)!;
    }
  }

  #inHistory(ctx: ContextRecord, turn: StoredTurn): boolean {
    return turn.depth <= this.#head(ctx).headDepth &&
      this.#ancestorAt(ctx, turn.depth) === turn.turnId;
  }

  #newContext(baseTurnId: string): ContextHead {
    const base = baseTurnId === ROOT_TURN_ID ? undefined : this.#turns.get(baseTurnId);
    if (baseTurnId !== ROOT_TURN_ID && !base) throw unknownBase(baseTurnId);
    const ctx: ContextRecord = {
      id: String(this.#nextContext++),
      baseTurnId,
      baseDepth: base?.depth ?? 0,
      own: [],
      keys: new Map(),
      createdAt: Date.now(),
    };
    this.#contexts.set(ctx.id, ctx);
    return this.#head(ctx);
  }

  /** Creates an empty context, or a fork when `baseTurnId` is given. */
  async createContext(options?: CreateContextOptions): Promise<ContextHead> {
    this.#open();
    return this.#newContext(validateCreateContext(options));
  }

  /** Creates a context whose head is `turnId`; O(1), nothing is copied. */
  async forkContext(turnId: string): Promise<ContextHead> {
    this.#open();
    return this.#newContext(requireId("turnId", turnId));
  }

  /** Appends one turn at the head of a context. */
  async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    this.#open();
    const req = validateAppend(input);
    const ctx = this.#context(req.contextId);
    const contentHash = blake3Hex(req.payload);
    if (req.idempotencyKey !== undefined) {
      const prior = ctx.keys.get(req.idempotencyKey);
      if (prior !== undefined) {
        const turn = this.#turns.get(prior)!;
        return replayIdempotent(req, contentHash, publicTurn(turn), turn.fsRoot);
      }
    }
    const head = this.#head(ctx);
    if (req.parentTurnId !== undefined && req.parentTurnId !== head.headTurnId) {
      if (req.parentTurnId === ROOT_TURN_ID) {
        throw staleParent(ctx.id, req.parentTurnId, head.headTurnId);
      }
      const parent = this.#turn(req.parentTurnId, "parentTurnId");
      throw this.#inHistory(ctx, parent)
        ? staleParent(ctx.id, parent.turnId, head.headTurnId)
        : foreignParent(ctx.id, parent.turnId);
    }
    if (req.fsRootHash !== undefined && !this.#blobs.has(req.fsRootHash)) {
      throw new NotFoundError("blob", req.fsRootHash, `fs root for a turn of context ${ctx.id}`);
    }
    const turn: TurnRecord = {
      turnId: String(this.#nextTurn++),
      parentTurnId: head.headTurnId,
      depth: head.headDepth + 1,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      payload: req.payload.slice(),
      contentHash,
      originContextId: ctx.id,
      fsRoot: req.fsRootHash,
    };
    this.#turns.set(turn.turnId, turn);
    ctx.own.push(turn.turnId);
    if (req.idempotencyKey !== undefined) ctx.keys.set(req.idempotencyKey, turn.turnId);
    return { ...publicTurn(turn), contextId: ctx.id, deduplicated: false };
  }

  /** The context's head. */
  async getHead(contextId: string): Promise<ContextHead> {
    this.#open();
    return this.#head(this.#context(contextId));
  }

  /** A page of the context's history, oldest → newest. */
  async listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    this.#open();
    const { beforeTurnId, limit } = validateList(contextId, options);
    const ctx = this.#context(contextId);
    let end = this.#head(ctx).headDepth;
    if (beforeTurnId !== undefined) {
      if (beforeTurnId === ROOT_TURN_ID) return [];
      const before = this.#turn(beforeTurnId, "beforeTurnId");
      if (!this.#inHistory(ctx, before)) throw foreignCursor(ctx.id, beforeTurnId);
      end = before.depth - 1;
    }
    const out: StoredTurn[] = [];
    for (let d = Math.max(1, end - limit + 1); d <= end; d++) {
      out.push(publicTurn(this.#turns.get(this.#ancestorAt(ctx, d))!));
    }
    return out;
  }

  /** One turn by id. */
  async getTurn(turnId: string): Promise<StoredTurn> {
    this.#open();
    return publicTurn(this.#turn(turnId));
  }

  /** Contexts newest first: a walk down from the cursor over the dense id range. */
  async listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    this.#open();
    const { beforeContextId, limit } = validateListContexts(options);
    const newest = this.#nextContext - 1;
    let id = beforeContextId === undefined ? newest : Math.min(newest, Number(beforeContextId) - 1);
    const out: ContextSummary[] = [];
    for (; id >= 1 && out.length < limit; id--) {
      const ctx = this.#contexts.get(String(id));
      if (ctx) {
        out.push({ ...this.#head(ctx), createdAt: ctx.createdAt, baseTurnId: ctx.baseTurnId });
      }
    }
    return out;
  }

  /** Stores a blob under its BLAKE3 hash. */
  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    this.#open();
    const hash = blake3Hex(validateBlob(bytes));
    const wasNew = !this.#blobs.has(hash);
    if (wasNew) this.#blobs.set(hash, bytes.slice());
    return { hash, wasNew };
  }

  /** The blob stored under `hash`. */
  async getBlob(hash: string): Promise<Uint8Array> {
    this.#open();
    const bytes = this.#blobs.get(requireHash("hash", hash));
    if (!bytes) throw new NotFoundError("blob", hash);
    return bytes.slice();
  }

  /** True when the blob is stored. */
  async hasBlob(hash: string): Promise<boolean> {
    this.#open();
    return this.#blobs.has(requireHash("hash", hash));
  }

  /** Attaches a stored tree root to a turn. */
  async attachFs(turnId: string, rootHash: string): Promise<void> {
    this.#open();
    const turn = this.#turn(turnId);
    requireHash("rootHash", rootHash);
    if (!this.#blobs.has(rootHash)) {
      throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
    }
    if (turn.fsRoot !== undefined && turn.fsRoot !== rootHash) {
      throw new ConflictError(
        `turn ${turnId} already has fs root ${turn.fsRoot}; a turn's snapshot cannot change`,
      );
    }
    turn.fsRoot = rootHash;
    return;
  }

  /** The turn's own tree root or its nearest ancestor's. */
  async getFsRoot(turnId: string): Promise<string | undefined> {
    this.#open();
    let turn: TurnRecord | undefined = this.#turn(turnId);
    while (turn) {
      if (turn.fsRoot !== undefined) return turn.fsRoot;
      turn = this.#turns.get(turn.parentTurnId);
    }
    return undefined;
  }

  /** Publishes a registry bundle. */
  async publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    this.#open();
    const valid = validateBundleShape(bundle);
    if (this.#registry.check(valid) === "identical") return { created: false };
    this.#registry.admit(JSON.parse(canonicalBundleJson(valid)));
    return { created: true };
  }

  /** A published bundle, or undefined. */
  async getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    this.#open();
    const json = this.#registry.get(validateBundleId(bundleId));
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Drops everything; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#turns.clear();
    this.#contexts.clear();
    this.#blobs.clear();
    return;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function publicTurn(t: TurnRecord): StoredTurn {
  return {
    turnId: t.turnId,
    parentTurnId: t.parentTurnId,
    depth: t.depth,
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    payload: t.payload.slice(),
    contentHash: t.contentHash,
  };
}

/**
 * Opens an empty in-memory store (the same as `new MemoryStore()`), for the
 * one pattern every backend opens with: `await openXStore(...)`.
 */
export function openMemoryStore(): Promise<MemoryStore> {
  return Promise.resolve(new MemoryStore());
}
