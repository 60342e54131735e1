/**
 * The Deno KV backend of the turn store. Appends go through group commit
 * (appender.ts), reads through the context chain (history.ts); this module
 * ties them to the {@link ForgeStore} contract, its argument checks and its
 * errors.
 *
 * @module
 */
import {
  BackendError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  TurnStoreError,
} from "../core/errors.ts";
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
import { foreignCursor, unknownBase } from "../core/rules.ts";
import { validateListContexts } from "../core/list_contexts.ts";
import { listContextPage } from "./contexts.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { loadBytes, storeBytes } from "./chunks.ts";
import { GroupCommitAppender, type Prepared, type PreparedAppend } from "./appender.ts";
import { type ContextInfo, type HeadState, History, type LocatedTurn } from "./history.ts";
import { IdBlocks } from "./id_blocks.ts";
import { blobKey, contextKey, type ContextValue, fsKey, seqKey, type StoredBytes } from "./keys.ts";
import { BundleShelf } from "./bundles.ts";
import { withBusyRetry } from "./busy.ts";
import { BODY_ROW_ABOVE, type KvLimits } from "./limits.ts";
import { encodeInlineTurnRow } from "./turn_value.ts";

/** Rounds a new context may lose to other handles reserving ids before it fails. */
const MAX_CREATE_ATTEMPTS = 1000;

/** Options of {@link KvStore}. */
export interface KvStoreOptions {
  /** Called after every atomic commit with what it carried (for tests and tuning). */
  readonly onCommit?: CommitObserver;
  /** Turn ids reserved per counter commit; default 1024. */
  readonly turnIdBlock?: number;
  /** Context ids reserved per counter commit; default 64. */
  readonly contextIdBlock?: number;
  /** What to call the store in error messages (its target). */
  readonly label?: string;
  /**
   * What one atomic commit may carry. The default, `KV_CONNECT_LIMITS`,
   * works on every target; pass `LOCAL_KV_LIMITS` for a local file or
   * `:memory:` KV (as `openKvStore` does), so one group commit covers up to
   * 100 contexts instead of 10.
   */
  readonly limits?: KvLimits;
}

/** A {@link ForgeStore} over one Deno KV database. */
export class KvStore implements ForgeStore {
  /** Always "kv". */
  readonly backend = "kv";
  readonly #kv: Deno.Kv;
  readonly #label: string;
  readonly #observer?: CommitObserver;
  readonly #history: History;
  readonly #appender: GroupCommitAppender;
  readonly #contextIds: IdBlocks;
  readonly #turnIds: IdBlocks;
  readonly #bundles: BundleShelf;
  #closed = false;
  /** The context of the last append, as the API names it and as a key part. */
  #lastContextId?: string;
  #lastContext = 0n;

  /** Wraps an open Deno KV; {@link close} closes it. */
  constructor(kv: Deno.Kv, options: KvStoreOptions = {}) {
    kv = withBusyRetry(kv);
    this.#kv = kv;
    this.#label = options.label ?? "kv store";
    this.#observer = options.onCommit;
    this.#history = new History(kv);
    const turnIds = new IdBlocks(kv, "turn", options.turnIdBlock ?? 1024, this.#observer);
    this.#turnIds = turnIds;
    this.#contextIds = new IdBlocks(kv, "context", options.contextIdBlock ?? 64, this.#observer);
    this.#appender = new GroupCommitAppender(
      kv,
      this.#history,
      turnIds,
      this.#observer,
      options.limits,
    );
    this.#bundles = new BundleShelf(kv, this.#observer);
  }

  /** Runs `fn`, turning anything that is not a contract error into a Backend error. */
  async #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new BackendError(`${this.#label} is closed (${what})`);
    try {
      return await fn();
    } catch (error) {
      if (error instanceof TurnStoreError) throw error;
      throw new BackendError(
        `${this.#label}: ${what} failed: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
  }

  /** The context and its head, read now; NotFound when it does not exist. */
  async #requireContext(contextId: string): Promise<{ info: ContextInfo; head: HeadState }> {
    const info = await this.#history.context(BigInt(contextId));
    if (!info) throw new NotFoundError("context", contextId);
    const head = await this.#history.head(info);
    this.#appender.noteHead(info.id, head);
    return { info, head };
  }

  async #newContext(baseTurnId: string): Promise<ContextHead> {
    let value: ContextValue = { base: 0n, baseDepth: 0, baseCtx: 0n, createdAt: Date.now() };
    if (baseTurnId !== ROOT_TURN_ID) {
      const base = BigInt(baseTurnId);
      const loc = await this.#history.locate(base);
      if (!loc) throw unknownBase(baseTurnId);
      value = { base, baseDepth: loc.depth, baseCtx: loc.ctx, createdAt: value.createdAt };
    }
    for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt++) {
      const op = new BudgetedAtomic(this.#kv);
      let id = this.#contextIds.tryNext();
      const landed: (() => void)[] = [];
      if (id === undefined || this.#turnIds.needsBlock) {
        // A handle's first context: the id blocks it needs are reserved in the context's own
        // commit, one read of both counters and no commit (and sync) of their own.
        const [contexts, turns] = await this.#kv.getMany([seqKey("context"), seqKey("turn")]);
        if (id === undefined) {
          const block = this.#contextIds.reserveIn(op, contexts, 1);
          id = block.first;
          landed.push(block.landed);
        }
        if (this.#turnIds.needsBlock) landed.push(this.#turnIds.reserveIn(op, turns, 0).landed);
      }
      const key = contextKey(id);
      const result = await op.check(key, null).set(key, value).commit(this.#observer);
      // Another handle reserved ids meanwhile (or a damaged counter handed out a used id): again.
      if (!result.ok) continue;
      for (const apply of landed) apply();
      this.#history.remember(id, value);
      this.#appender.noteCreated(id, { head: value.base, depth: value.baseDepth });
      return { contextId: String(id), headTurnId: baseTurnId, headDepth: value.baseDepth };
    }
    throw new BackendError(`creating a context kept conflicting (${MAX_CREATE_ATTEMPTS} attempts)`);
  }

  /** Creates an empty context, or a fork when `baseTurnId` is given. */
  createContext(options?: CreateContextOptions): Promise<ContextHead> {
    return this.#guard("createContext", () => this.#newContext(validateCreateContext(options)));
  }

  /** Creates a context whose head is `turnId`: one commit, nothing copied. */
  forkContext(turnId: string): Promise<ContextHead> {
    return this.#guard(
      "forkContext",
      () => this.#newContext(requireId("turnId", turnId)),
    );
  }

  /** Appends one turn at the head of a context, in one atomic commit (shared with concurrent appends). */
  appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    // Not async, and not through #guard: this is the hot path (one promise per
    // append, not three), and the appender already turns KV failures into
    // Backend errors. Every throw below still becomes a rejection.
    try {
      if (this.#closed) throw new BackendError(`${this.#label} is closed (appendTurn)`);
      const req = validateAppend(input);
      const contentHash = blake3Hex(req.payload);
      // Everything up to submit() runs synchronously in the call, so appends
      // to a context are queued, and committed, in call order. Large payloads
      // write their chunks (own commits, before the turn commit) while queued.
      let payload: Uint8Array;
      let prepared: Prepared | Promise<PreparedAppend>;
      if (req.payload.length <= BODY_ROW_ABOVE && req.fsRootHash === undefined) {
        // The common case: the turn's row is built now, and the payload copied
        // once, into it (our own copy: the caller may reuse its buffer).
        const row = encodeInlineTurnRow(req.typeId, req.typeVersion, contentHash, req.payload);
        payload = row.subarray(row.length - req.payload.length); // the payload, in the row
        prepared = row;
      } else {
        // Up to INLINE_BYTES the payload goes into a body row in the turn's
        // commit (appender.ts), above it into chunks written now.
        payload = req.payload.slice(); // our own copy: the caller may reuse its buffer
        const stored = storeBytes(this.#kv, payload, this.#observer);
        prepared = stored instanceof Promise || req.fsRootHash !== undefined
          ? this.#prepare(req.contextId, stored, req.fsRootHash)
          : { bytes: stored, fsRootMissing: false };
      }
      // A writer appends to one context again and again: its key part is parsed once.
      if (req.contextId !== this.#lastContextId) {
        this.#lastContext = BigInt(req.contextId);
        this.#lastContextId = req.contextId;
      }
      const ctx = this.#lastContext;
      // The checked request is ours (validateAppend built it): it takes our copy of the payload.
      (req as { payload: Uint8Array }).payload = payload;
      return new Promise<AppendedTurn>((resolve, reject) =>
        this.#appender.submit(req, ctx, contentHash, prepared, resolve, reject)
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #prepare(
    contextId: string,
    stored: StoredBytes | Promise<StoredBytes>,
    fsRootHash: string | undefined,
  ): Promise<PreparedAppend> {
    try {
      const [bytes, fsRoot] = await Promise.all([
        stored,
        fsRootHash === undefined ? undefined : this.#kv.get(blobKey(fsRootHash)),
      ]);
      return { bytes, fsRootMissing: fsRoot !== undefined && fsRoot.versionstamp === null };
    } catch (error) {
      throw new BackendError(
        `${this.#label}: appendTurn to context ${contextId} failed: ${(error as Error)?.message}`,
        { cause: error },
      );
    }
  }

  /** The context's head, read now. */
  getHead(contextId: string): Promise<ContextHead> {
    return this.#guard("getHead", async () => {
      const id = requireId("contextId", contextId);
      const { head } = await this.#requireContext(id);
      return { contextId: id, headTurnId: String(head.head), headDepth: head.depth };
    });
  }

  /** Contexts newest first: one reverse range read over the context records, then their heads. */
  listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    return this.#guard("listContexts", () => {
      const { beforeContextId, limit } = validateListContexts(options);
      const before = beforeContextId === undefined ? undefined : BigInt(beforeContextId);
      return listContextPage(this.#kv, this.#history, before, limit);
    });
  }

  /** A page of the context's history, oldest → newest: range reads over the depth index. */
  listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    return this.#guard("listTurns", async () => {
      const { contextId: id, beforeTurnId, limit } = validateList(contextId, options);
      if (beforeTurnId !== undefined) return await this.#pageBefore(id, beforeTurnId, limit);
      const { info, head } = await this.#requireContext(id);
      const lo = Math.max(1, head.depth - limit + 1);
      if (head.depth < lo) return [];
      return await this.#history.toStoredAll(await this.#history.range(info, lo, head.depth));
    });
  }

  /**
   * The page below a cursor turn. The head is not read: whether the cursor
   * is in the history follows from the fork chain (`History.inHistory`). The
   * turn's run gives its place; the check that the turn is there and the
   * page's own reads then go out together.
   */
  async #pageBefore(id: string, beforeTurnId: string, limit: number): Promise<StoredTurn[]> {
    const info = await this.#history.context(BigInt(id));
    if (!info) throw new NotFoundError("context", id);
    if (beforeTurnId === ROOT_TURN_ID) return [];
    const turn = BigInt(beforeTurnId);
    const place = await this.#history.placeOf(turn);
    if (!place) throw new NotFoundError("turn", beforeTurnId);
    const inHistory = await this.#history.inHistory(info, place);
    const end = place.depth - 1;
    const lo = Math.max(1, end - limit + 1);
    const page = inHistory && end >= lo
      ? this.#history.range(info, lo, end)
      : Promise.resolve<LocatedTurn[]>([]);
    page.catch(() => {}); // judged below, after the cursor: a bad cursor's page may fail too
    if (!(await this.#history.turnAt(place, turn))) throw new NotFoundError("turn", beforeTurnId);
    if (!inHistory) throw foreignCursor(id, beforeTurnId);
    return await this.#history.toStoredAll(await page);
  }

  /** One turn by id: two key reads. */
  getTurn(turnId: string): Promise<StoredTurn> {
    return this.#guard("getTurn", async () => {
      requireId("turnId", turnId);
      const loc = await this.#history.locate(BigInt(turnId));
      if (!loc) throw new NotFoundError("turn", turnId);
      return await this.#history.toStored(loc);
    });
  }

  /** Stores a blob under its BLAKE3 hash. */
  putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    return this.#guard("putBlob", async () => {
      const data = validateBlob(bytes).slice();
      const hash = blake3Hex(data);
      const key = blobKey(hash);
      if ((await this.#kv.get(key)).versionstamp !== null) return { hash, wasNew: false };
      const stored = await storeBytes(this.#kv, data, this.#observer);
      const result = await new BudgetedAtomic(this.#kv).check(key, null).set(key, stored)
        .commit(this.#observer);
      return { hash, wasNew: result.ok };
    });
  }

  /** The blob stored under `hash`. */
  getBlob(hash: string): Promise<Uint8Array> {
    return this.#guard("getBlob", async () => {
      const entry = await this.#kv.get<StoredBytes>(blobKey(requireHash("hash", hash)));
      if (entry.versionstamp === null) throw new NotFoundError("blob", hash);
      const bytes = await loadBytes(this.#kv, entry.value, `blob ${hash}`);
      // SQLite keeps no checksum of a value: a blob is its hash, so a damaged one must not pass.
      if (blake3Hex(bytes) !== hash) {
        throw new BackendError(`kv blob ${hash} is damaged: its bytes do not match its hash`);
      }
      return bytes;
    });
  }

  /** True when the blob is stored. */
  hasBlob(hash: string): Promise<boolean> {
    return this.#guard("hasBlob", async () => {
      const entry = await this.#kv.get(blobKey(requireHash("hash", hash)));
      return entry.versionstamp !== null;
    });
  }

  /** Attaches a stored tree root to a turn; a different root for the same turn is a Conflict. */
  attachFs(turnId: string, rootHash: string): Promise<void> {
    return this.#guard("attachFs", async () => {
      requireId("turnId", turnId);
      const loc = await this.#history.locate(BigInt(turnId));
      if (!loc) throw new NotFoundError("turn", turnId);
      requireHash("rootHash", rootHash);
      if ((await this.#kv.get(blobKey(rootHash))).versionstamp === null) {
        throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
      }
      const key = fsKey(loc.ctx, loc.depth);
      for (;;) {
        const current = await this.#kv.get<string>(key);
        if (current.versionstamp !== null) {
          if (current.value === rootHash) return;
          throw new ConflictError(
            `turn ${turnId} already has fs root ${current.value}; a turn's snapshot cannot change`,
          );
        }
        const op = new BudgetedAtomic(this.#kv).check(key, null).set(key, rootHash);
        if ((await op.commit(this.#observer)).ok) return;
      }
    });
  }

  /** The turn's own tree root or its nearest ancestor's: one range read per context of the chain. */
  getFsRoot(turnId: string): Promise<string | undefined> {
    return this.#guard("getFsRoot", async () => {
      requireId("turnId", turnId);
      const loc = await this.#history.locate(BigInt(turnId));
      if (!loc) throw new NotFoundError("turn", turnId);
      return await this.#history.nearestFsRoot(loc);
    });
  }

  /** Publishes a registry bundle (any size: large ones are chunked). */
  publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    return this.#guard("publishRegistryBundle", () => this.#bundles.publish(bundle));
  }

  /** A published bundle, or undefined. */
  getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    return this.#guard(
      "getRegistryBundle",
      () => this.#bundles.get(validateBundleId(bundleId)),
    );
  }

  /** Waits for queued appends to commit, then closes the database; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#appender.close();
    try {
      this.#kv.close();
    } catch {
      // already closed by its owner
    }
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Rejects a target that cannot name a KV database. */
export function checkTarget(target: unknown): string {
  if (typeof target !== "string" || target.trim() === "") {
    throw new InvalidInputError(
      `a kv target must be a file path, ":memory:" or an http(s) URL, got ${
        JSON.stringify(target)
      }`,
    );
  }
  return target;
}
