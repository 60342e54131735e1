/**
 * The filesystem log backend: every change is a checksummed record appended
 * to `log`; fixed-slot index files (see indexes.ts) answer reads without
 * loading history; appends go through one writer queue (writer.ts) that
 * batches them according to the durability policy; recovery.ts brings the
 * indexes up to the log at open. This module opens the files and answers the
 * {@link ForgeStore} contract. See README.md for the format.
 *
 * @module
 */
import { BackendError, NotFoundError, TurnStoreError } from "../core/errors.ts";
import { requireId, ROOT_TURN_ID } from "../core/ids.ts";
import { requireHash } from "../core/hash.ts";
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
  validateBundleId,
  validateCreateContext,
  validateList,
} from "../core/validate.ts";
import { validateListContexts } from "../core/list_contexts.ts";
import { listContextSlots } from "./contexts.ts";
import { foreignCursor } from "../core/rules.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { BlobFiles } from "./blobs.ts";
import { readWatermark } from "./watermark.ts";
import { ContextIndex, RootIndex, TurnIndex, type TurnMeta } from "./indexes.ts";
import { keyFingerprintOf, KeyIndex } from "./keys.ts";
import { openReadWrite } from "./io.ts";
import { type DirLock, lockDirectory } from "./lock.ts";
import { type Durability, parseFsTarget } from "./options.ts";
import { recover, type RecoveryReport } from "./recovery.ts";
import { assertLogStart } from "./scan.ts";
import { RegistryLog } from "./registry.ts";
import { FsState, publicHead, storedTurn } from "./state.ts";
import { type Job, type Settle, Writer } from "./writer.ts";
import { encodeAppend } from "./codec.ts";
import { recordArena } from "./arena.ts";
import { FRAME_HEADER_BYTES } from "./frame.ts";

export type { RecoveryReport } from "./recovery.ts";

/** A {@link ForgeStore} in a directory of append-only files. */
export class FsStore implements ForgeStore {
  /** Always "fs". */
  readonly backend = "fs";
  /** The store's directory (real path). */
  readonly dir: string;
  /** The durability policy. */
  readonly durability: Durability;
  /** What recovery did when the store was opened. */
  readonly recovery: RecoveryReport;

  readonly #lock: DirLock;
  readonly #state: FsState;
  readonly #writer: Writer;
  /** Where new turn records are encoded (see arena.ts). */
  readonly #arena = recordArena();
  readonly #recordBytes = (size: number): Uint8Array => this.#arena.zeroed(size);

  private constructor(lock: DirLock, state: FsState, recovery: RecoveryReport) {
    this.dir = state.dir;
    this.durability = state.durability;
    this.#lock = lock;
    this.#state = state;
    this.#writer = new Writer(state);
    this.recovery = recovery;
  }

  /** Opens (creating when absent) the store `target` names: `dir?durability=…`. */
  static async open(target: string): Promise<FsStore> {
    const { dir: given, durability } = parseFsTarget(target);
    let dir: string;
    try {
      await Deno.mkdir(given, { recursive: true });
      dir = await Deno.realPath(given);
    } catch (error) {
      // The usual mistake, said plainly: the path names a file.
      const what = error instanceof Deno.errors.AlreadyExists
        ? " (it exists and is not a directory)"
        : "";
      throw new BackendError(
        `fs store: cannot create or open directory ${given}${what}: ${error}`,
        { cause: error },
      );
    }
    const lock = await lockDirectory(dir);
    const opened: { close(): void }[] = [];
    const track = <T extends { close(): void }>(handle: T): T => {
      opened.push(handle);
      return handle;
    };
    try {
      for (const leftover of ["checkpoint.tmp", "keys.idx.tmp"]) {
        await Deno.remove(`${dir}/${leftover}`).catch(() => {});
      }
      const log = track(openReadWrite(`${dir}/log`));
      // Before any file of the store is made beside it.
      assertLogStart(log, `${dir}/log`);
      const turnsFile = track(openReadWrite(`${dir}/turns.idx`));
      const contextsFile = track(openReadWrite(`${dir}/contexts.idx`));
      const rootsFile = track(openReadWrite(`${dir}/roots.idx`));
      const keyOpen = KeyIndex.open(`${dir}/keys.idx`);
      // Recovery may replace the key table: close whichever is current.
      const opening: { state?: FsState } = {};
      opened.push({ close: () => (opening.state?.keys ?? keyOpen.index).close() });
      const registry = RegistryLog.open(`${dir}/registry.log`, durability !== "none");
      opened.push({ close: () => registry.file.close() });
      const state = opening.state = new FsState({
        dir,
        durability,
        log,
        turns: new TurnIndex(turnsFile, `${dir}/turns.idx`),
        contexts: new ContextIndex(contextsFile, `${dir}/contexts.idx`),
        roots: new RootIndex(rootsFile, `${dir}/roots.idx`),
        keys: keyOpen.index,
        registry,
        blobs: new BlobFiles(`${dir}/blobs`, durability !== "none"),
      });
      const recovery = recover(state, readWatermark(`${dir}/checkpoint`), keyOpen.fresh);
      state.watermark(false);
      return new FsStore(lock, state, recovery);
    } catch (error) {
      for (const handle of opened.reverse()) {
        try {
          handle.close();
        } catch { /* already closed */ }
      }
      lock.release();
      if (error instanceof TurnStoreError) throw error;
      throw new BackendError(`fs store ${dir}: cannot open: ${error}`, { cause: error });
    }
  }

  // ---- the contract ---------------------------------------------------------

  /**
   * Runs one call of the contract. Typed errors pass through; anything else
   * (an OS error from a damaged or vanished file, a decoding fault) becomes a
   * BackendError naming the store and the call, so no raw error escapes.
   */
  async #guard<T>(call: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#typed(call, error);
    }
  }

  /**
   * {@link #guard} for synchronous work: no promise of its own, so the write
   * path keeps its timing (group commit batches the appends that arrive
   * within a microtask of each other).
   */
  #sync<T>(call: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw this.#typed(call, error);
    }
  }

  #typed(call: string, error: unknown): Error {
    if (error instanceof TurnStoreError) return error;
    return new BackendError(`fs store ${this.dir}: ${call} failed: ${error}`, { cause: error });
  }

  /** Creates an empty context, or a fork when `baseTurnId` is given. */
  async createContext(options?: CreateContextOptions): Promise<ContextHead> {
    const make = this.#sync("createContext", () => {
      this.#state.usable();
      const base = validateCreateContext(options);
      return (done: Settle<ContextHead>): Job => ({
        kind: "context",
        baseTurnId: base,
        done,
      });
    });
    return this.#writer.enqueue<ContextHead>(make);
  }

  /** Creates a context whose head is `turnId`: one small record, nothing copied. */
  async forkContext(turnId: string): Promise<ContextHead> {
    const make = this.#sync("forkContext", () => {
      this.#state.usable();
      const base = requireId("turnId", turnId);
      return (done: Settle<ContextHead>): Job => ({
        kind: "context",
        baseTurnId: base,
        done,
      });
    });
    return this.#writer.enqueue<ContextHead>(make);
  }

  /** Appends one turn at the head of a context; resolves once durable per the policy. */
  async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    const make = this.#sync("appendTurn", () => {
      this.#state.usable();
      const req = validateAppend(input);
      const contextId = Number(req.contextId);
      // Encoded now, with the payload copied into it: the caller may reuse its
      // buffer as soon as the call returns, and the batch is planned later.
      const { record, contentHash, keyFrom, keyTo } = encodeAppend(
        req,
        contextId,
        FRAME_HEADER_BYTES,
        this.#recordBytes,
      );
      const fingerprint = req.idempotencyKey === undefined
        ? undefined
        : keyFingerprintOf(contextId, record, keyFrom, keyTo);
      return (done: Settle<AppendedTurn>): Job => ({
        kind: "append",
        req,
        contentHash,
        record,
        fingerprint,
        done,
      });
    });
    return this.#writer.enqueue<AppendedTurn>(make);
  }

  /** The context's head: one slot read. */
  async getHead(contextId: string): Promise<ContextHead> {
    return this.#sync("getHead", () => {
      this.#state.usable();
      const slot = this.#state.findContext(requireId("contextId", contextId));
      if (!slot) throw new NotFoundError("context", contextId);
      return publicHead(slot);
    });
  }

  /** Contexts newest first: O(limit) slot reads down from the cursor. */
  async listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    this.#state.usable();
    const { beforeContextId, limit } = validateListContexts(options);
    return listContextSlots(
      this.#state.nextContextId - 1,
      (n) => this.#state.contexts.get(n),
      beforeContextId,
      limit,
    );
  }

  /** A page of history, oldest → newest: O(limit) slot reads plus O(log depth) for a cursor. */
  async listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    return this.#sync("listTurns", () => {
      this.#state.usable();
      const { beforeTurnId, limit } = validateList(contextId, options);
      const head = this.#state.findContext(contextId);
      if (!head) throw new NotFoundError("context", contextId);
      let next = head.headTurnId;
      if (beforeTurnId !== undefined) {
        if (beforeTurnId === ROOT_TURN_ID) return [];
        const before = this.#state.findTurn(beforeTurnId);
        if (!before) throw new NotFoundError("turn", beforeTurnId);
        if (!this.#state.inHistory(head, before)) throw foreignCursor(contextId, beforeTurnId);
        next = before.parentTurnId;
      }
      const metas: TurnMeta[] = [];
      while (next !== 0 && metas.length < limit) {
        const meta = this.#state.meta(next);
        metas.push(meta);
        next = meta.parentTurnId;
      }
      metas.reverse();
      return this.#state.readTurns(metas).map(storedTurn);
    });
  }

  /** One turn by id: one slot read and one record read. */
  async getTurn(turnId: string): Promise<StoredTurn> {
    return this.#sync("getTurn", () => {
      this.#state.usable();
      const meta = this.#state.findTurn(requireId("turnId", turnId));
      if (!meta) throw new NotFoundError("turn", turnId);
      return storedTurn(this.#state.readTurn(meta));
    });
  }

  /** Stores a blob file under its BLAKE3 hash. */
  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    return this.#guard("putBlob", async () => {
      this.#state.usable();
      return this.#state.blobs.put(bytes);
    });
  }

  /** The blob stored under `hash`. */
  async getBlob(hash: string): Promise<Uint8Array> {
    return this.#guard("getBlob", async () => {
      this.#state.usable();
      return this.#state.blobs.get(hash);
    });
  }

  /** True when the blob is stored. */
  async hasBlob(hash: string): Promise<boolean> {
    return this.#guard("hasBlob", async () => {
      this.#state.usable();
      return this.#state.blobs.has(requireHash("hash", hash));
    });
  }

  /** Attaches a stored tree root to a turn. */
  async attachFs(turnId: string, rootHash: string): Promise<void> {
    return this.#guard("attachFs", async () => {
      this.#state.usable();
      const id = requireId("turnId", turnId);
      if (!this.#state.findTurn(id)) throw new NotFoundError("turn", id);
      const root = requireHash("rootHash", rootHash);
      return this.#writer.enqueue<void>((done) => ({
        kind: "attach",
        turnId: id,
        rootHash: root,
        done,
      }));
    });
  }

  /** The turn's own tree root or its nearest ancestor's (walks parents). */
  async getFsRoot(turnId: string): Promise<string | undefined> {
    return this.#sync("getFsRoot", () => {
      this.#state.usable();
      let meta: TurnMeta | undefined = this.#state.findTurn(requireId("turnId", turnId));
      if (!meta) throw new NotFoundError("turn", turnId);
      while (meta.turnId !== 0) {
        const root = this.#state.roots.get(meta.turnId);
        if (root !== undefined) return root;
        meta = this.#state.meta(meta.parentTurnId);
      }
      return undefined;
    });
  }

  /** Publishes a registry bundle durably. */
  async publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    return this.#guard("publishRegistryBundle", async () => {
      this.#state.usable();
      return this.#state.registry.publish(bundle);
    });
  }

  /** A published bundle, or undefined. */
  async getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    return this.#guard("getRegistryBundle", async () => {
      this.#state.usable();
      return this.#state.registry.get(validateBundleId(bundleId));
    });
  }

  /** Finishes queued writes, syncs everything, marks the index watermark clean and unlocks. */
  async close(): Promise<void> {
    if (this.#state.closed) return;
    await this.#writer.idle();
    this.#state.closed = true;
    try {
      if (!this.#state.broken) this.#state.watermark(true);
    } catch (error) {
      throw new BackendError(`fs store ${this.dir}: close failed: ${error}`, { cause: error });
    } finally {
      await this.#state.registry.close().catch(() => {});
      for (
        const file of [
          this.#state.log,
          this.#state.turns.file,
          this.#state.contexts.file,
          this.#state.roots.file,
        ]
      ) {
        try {
          file.close();
        } catch { /* already closed */ }
      }
      this.#state.keys.close();
      try {
        this.#writer.close();
      } catch { /* already closed */ }
      this.#lock.release();
    }
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
