/**
 * The filesystem log backend: every change is a checksummed record appended
 * to `log`; fixed-slot index files (see indexes.ts) answer reads without
 * loading history; appends go through one writer queue that batches them
 * according to the durability policy. See README.md for the format.
 *
 * @module
 */
import { BackendError, NotFoundError, TurnStoreError } from "../core/errors.ts";
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
import { type ValidAppend, validateAppend, validateList } from "../core/validate.ts";
import { validateListContexts } from "../core/list_contexts.ts";
import { listContextSlots } from "./contexts.ts";
import { ConflictError } from "../core/errors.ts";
import {
  foreignCursor,
  foreignParent,
  replayIdempotent,
  staleParent,
  unknownBase,
} from "../core/rules.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { BlobFiles } from "./blobs.ts";
import { type Checkpoint, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import {
  type AttachRecordData,
  type ContextRecordData,
  decodeAttach,
  decodeContext,
  decodeTurn,
  encodeAttach,
  encodeContext,
  encodeTurn,
  type TurnRecordData,
} from "./codec.ts";
import { checkFrame, encodeFrame, FRAME_HEADER_BYTES, RecordKind, sealFrame } from "./frame.ts";
import {
  ancestorAt,
  ContextIndex,
  type ContextSlot,
  jumpFor,
  keyFingerprint,
  KeyIndex,
  RootIndex,
  TurnIndex,
  type TurnMeta,
} from "./indexes.ts";
import { openReadWrite, readAt, sizeOf, writeAt } from "./io.ts";
import { type DirLock, lockDirectory } from "./lock.ts";
import { type Durability, parseFsTarget } from "./options.ts";
import { RegistryLog } from "./registry.ts";
import { scanLog } from "./scan.ts";

/** Log bytes between two checkpoints; bounds the replay after a crash. */
const CHECKPOINT_EVERY_BYTES = 64 * 1024 * 1024;
/** Most requests one group-commit batch takes. */
const MAX_BATCH = 4096;
/** A batch stops taking requests once their payloads pass this many bytes. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** How the store came up: what recovery did. */
export interface RecoveryReport {
  /** "none" (clean), "replay" (from the checkpoint) or "rebuild" (indexes rebuilt from the log). */
  readonly mode: "none" | "replay" | "rebuild";
  /** Bytes of torn tail dropped from the turn log. */
  readonly droppedTailBytes: number;
  /** Why the tail was dropped, when it was. */
  readonly tornReason?: string;
}

type Job =
  | { kind: "append"; req: ValidAppend; contentHash: string; done: Settle<AppendedTurn> }
  | { kind: "context"; baseTurnId: string; done: Settle<ContextHead> }
  | { kind: "attach"; turnId: string; rootHash: string; done: Settle<void> };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A decided request: the record to write (if any) and how to answer. */
interface Plan {
  readonly frame?: Uint8Array;
  readonly apply?: (offset: number) => void;
  readonly settle: () => void;
  readonly fail: (error: unknown) => void;
}

/** A turn planned in the current batch, not yet in the indexes. */
interface PendingTurn {
  readonly meta: Pick<TurnMeta, "turnId" | "parentTurnId" | "depth" | "originContextId">;
  readonly data: TurnRecordData;
}

/** The state a batch builds on top of the committed indexes. */
interface BatchState {
  nextTurnId: number;
  nextContextId: number;
  readonly turns: Map<number, PendingTurn>;
  readonly heads: Map<number, ContextSlot>;
  readonly keys: Map<string, number>;
  readonly roots: Map<number, string>;
}

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

  #lock: DirLock;
  #log: Deno.FsFile;
  #logPath: string;
  #logEnd: number;
  #turns: TurnIndex;
  #contexts: ContextIndex;
  #roots: RootIndex;
  #keys: KeyIndex;
  #registry: RegistryLog;
  #blobs: BlobFiles;
  #nextTurnId: number;
  #nextContextId: number;
  #sinceCheckpoint = 0;
  #queue: Job[] = [];
  #pump: Promise<void> = Promise.resolve();
  #draining = false;
  #closed = false;
  #broken: Error | undefined;

  private constructor(parts: {
    dir: string;
    durability: Durability;
    lock: DirLock;
    log: Deno.FsFile;
    logEnd: number;
    turns: TurnIndex;
    contexts: ContextIndex;
    roots: RootIndex;
    keys: KeyIndex;
    registry: RegistryLog;
    blobs: BlobFiles;
    nextTurnId: number;
    nextContextId: number;
    recovery: RecoveryReport;
  }) {
    this.dir = parts.dir;
    this.durability = parts.durability;
    this.#lock = parts.lock;
    this.#log = parts.log;
    this.#logPath = `${parts.dir}/log`;
    this.#logEnd = parts.logEnd;
    this.#turns = parts.turns;
    this.#contexts = parts.contexts;
    this.#roots = parts.roots;
    this.#keys = parts.keys;
    this.#registry = parts.registry;
    this.#blobs = parts.blobs;
    this.#nextTurnId = parts.nextTurnId;
    this.#nextContextId = parts.nextContextId;
    this.recovery = parts.recovery;
  }

  /** Opens (creating when absent) the store `target` names: `dir?durability=…`. */
  static async open(target: string): Promise<FsStore> {
    const { dir: given, durability } = parseFsTarget(target);
    let dir: string;
    try {
      await Deno.mkdir(given, { recursive: true });
      dir = await Deno.realPath(given);
    } catch (error) {
      throw new BackendError(`fs store: cannot create or open directory ${given}: ${error}`, {
        cause: error,
      });
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
      const turnsFile = track(openReadWrite(`${dir}/turns.idx`));
      const contextsFile = track(openReadWrite(`${dir}/contexts.idx`));
      const rootsFile = track(openReadWrite(`${dir}/roots.idx`));
      const keyOpen = KeyIndex.open(`${dir}/keys.idx`);
      const keysRef = { current: keyOpen.index };
      opened.push({ close: () => keysRef.current.close() });
      const registry = RegistryLog.open(`${dir}/registry.log`, durability !== "none");
      opened.push({ close: () => registry.file.close() });
      const blobs = new BlobFiles(`${dir}/blobs`, durability !== "none");
      const store = new FsStore({
        dir,
        durability,
        lock,
        log,
        logEnd: 0,
        turns: new TurnIndex(turnsFile),
        contexts: new ContextIndex(contextsFile),
        roots: new RootIndex(rootsFile),
        keys: keyOpen.index,
        registry,
        blobs,
        nextTurnId: 1,
        nextContextId: 1,
        recovery: { mode: "none", droppedTailBytes: 0 },
      });
      const recovery = store.#recover(readCheckpoint(`${dir}/checkpoint`), keyOpen.fresh);
      (store as { recovery: RecoveryReport }).recovery = recovery;
      store.#checkpoint(false);
      return store;
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

  // ---- recovery -------------------------------------------------------

  #recover(checkpoint: Checkpoint | undefined, keysFresh: boolean): RecoveryReport {
    const size = sizeOf(this.#log);
    if (checkpoint && checkpoint.logLength > size) {
      throw new BackendError(
        `fs store log ${this.#logPath} is ${size} bytes but the checkpoint covers ` +
          `${checkpoint.logLength}: acknowledged records are missing from the log`,
      );
    }
    if (!checkpoint || (keysFresh && size > 0)) return this.#rebuild(size);
    this.#nextTurnId = checkpoint.nextTurnId;
    this.#nextContextId = checkpoint.nextContextId;
    this.#logEnd = checkpoint.logLength;
    if (checkpoint.clean && checkpoint.logLength === size) {
      return { mode: "none", droppedTailBytes: 0 };
    }
    // Find where the intact log ends before touching anything.
    const scan = scanLog(this.#log, this.#logPath, checkpoint.logLength);
    let end = scan.next();
    while (!end.done) end = scan.next();
    const torn = end.value.validEnd < end.value.fileSize;
    // A torn tail may have left index writes of the dropped records behind
    // (durability=none can also lose log pages under written index pages):
    // then the indexes are rebuilt from the log rather than patched.
    if (torn || (!checkpoint.clean && checkpoint.durability === "none")) {
      return this.#rebuild(size);
    }
    this.#replay(checkpoint.logLength);
    // Whole records lost under index writes that survived (a disk that lost
    // synced data, or a copied directory): heads would point past the log.
    if (this.#contexts.hasHeadBeyond(this.#nextContextId, this.#nextTurnId)) {
      return this.#rebuild(size);
    }
    return { mode: "replay", droppedTailBytes: 0 };
  }

  #rebuild(size: number): RecoveryReport {
    this.#turns.clear();
    this.#contexts.clear();
    this.#roots.file.truncateSync(0);
    this.#keys.close();
    Deno.removeSync(`${this.dir}/keys.idx`);
    this.#keys = KeyIndex.open(`${this.dir}/keys.idx`).index;
    this.#nextTurnId = 1;
    this.#nextContextId = 1;
    const end = this.#replay(0);
    return {
      mode: "rebuild",
      droppedTailBytes: size - end.validEnd,
      tornReason: end.tornReason,
    };
  }

  /** Applies every intact record from `from`, then drops a torn tail. */
  #replay(from: number): { validEnd: number; tornReason?: string } {
    const scan = scanLog(this.#log, this.#logPath, from);
    for (;;) {
      const next = scan.next();
      if (next.done) {
        const { validEnd, fileSize, tornReason } = next.value;
        if (validEnd < fileSize) {
          this.#log.truncateSync(validEnd);
          this.#log.syncDataSync();
        }
        this.#logEnd = validEnd;
        return { validEnd, tornReason };
      }
      const { kind, body, offset, length } = next.value;
      try {
        if (kind === RecordKind.context) this.#applyContext(decodeContext(body));
        else if (kind === RecordKind.turn) this.#applyTurn(decodeTurn(body), offset, length);
        else if (kind === RecordKind.attach) this.#applyAttach(decodeAttach(body));
        else throw new Error(`unknown record kind ${kind}`);
      } catch (error) {
        throw new BackendError(
          `fs store log ${this.#logPath}: record at offset ${offset} cannot be applied: ${error}`,
          { cause: error },
        );
      }
    }
  }

  // ---- index updates (shared by replay and live commits) -----------------

  #applyContext(c: ContextRecordData): void {
    this.#contexts.put({
      contextId: c.contextId,
      baseTurnId: c.baseTurnId,
      baseDepth: c.baseDepth,
      headTurnId: c.baseTurnId,
      headDepth: c.baseDepth,
      createdAt: c.createdAt,
    });
    this.#nextContextId = Math.max(this.#nextContextId, c.contextId + 1);
  }

  #applyTurn(
    t: TurnRecordData,
    offset: number,
    length: number,
    fingerprint?: [number, number],
  ): void {
    const parent = this.#meta(t.parentTurnId);
    const jump = jumpFor(parent, (id) => this.#meta(id));
    this.#turns.put({
      turnId: t.turnId,
      offset,
      length,
      parentTurnId: t.parentTurnId,
      depth: t.depth,
      originContextId: t.contextId,
      ...jump,
    });
    const ctx = this.#contexts.get(t.contextId);
    if (!ctx) throw new Error(`turn ${t.turnId} names unknown context ${t.contextId}`);
    this.#contexts.put({ ...ctx, headTurnId: t.turnId, headDepth: t.depth });
    if (t.fsRootHash) this.#roots.put(t.turnId, t.fsRootHash);
    if (t.idempotencyKey !== undefined) {
      this.#keys.insert(
        fingerprint ?? keyFingerprint(t.contextId, t.idempotencyKey),
        t.turnId,
      );
    }
    this.#nextTurnId = Math.max(this.#nextTurnId, t.turnId + 1);
  }

  #applyAttach(a: AttachRecordData): void {
    this.#roots.put(a.turnId, a.rootHash);
  }

  #checkpoint(clean: boolean): void {
    this.#turns.flush();
    this.#contexts.flush();
    this.#keys.flush();
    this.#log.syncDataSync();
    for (const file of [this.#turns.file, this.#contexts.file, this.#roots.file, this.#keys.file]) {
      file.syncDataSync();
    }
    writeCheckpoint(this.dir, `${this.dir}/checkpoint`, {
      logLength: this.#logEnd,
      nextTurnId: this.#nextTurnId,
      nextContextId: this.#nextContextId,
      clean,
      durability: this.durability,
    });
    this.#sinceCheckpoint = 0;
  }

  // ---- committed-state reads -----------------------------------------------

  #usable(): void {
    if (this.#closed) throw new BackendError(`fs store ${this.dir} is closed`);
    if (this.#broken) {
      throw new BackendError(
        `fs store ${this.dir} stopped after a write failure (${this.#broken.message}); reopen it to recover`,
      );
    }
  }

  /** Index entry of a committed turn; BackendError when the index lacks it. */
  #meta(turnId: number): TurnMeta {
    const meta = this.#turns.get(turnId);
    if (!meta) {
      throw new BackendError(
        `fs store ${this.dir}: turns.idx has no entry for turn ${turnId}`,
      );
    }
    return meta;
  }

  /** The committed turn `id` names, or undefined. */
  #findTurn(id: string): TurnMeta | undefined {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 1 || n >= this.#nextTurnId) return undefined;
    return this.#meta(n);
  }

  #findContext(id: string): ContextSlot | undefined {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 1 || n >= this.#nextContextId) return undefined;
    const slot = this.#contexts.get(n);
    if (!slot) {
      throw new BackendError(`fs store ${this.dir}: contexts.idx has no entry for context ${n}`);
    }
    return slot;
  }

  /**
   * Reads the records of `metas` (in log order), one read per run of
   * adjacent records: a context's turns usually sit next to each other.
   */
  #readTurns(metas: TurnMeta[]): TurnRecordData[] {
    const out: TurnRecordData[] = [];
    for (let i = 0; i < metas.length;) {
      let j = i + 1;
      let end = metas[i].offset + metas[i].length;
      while (j < metas.length && metas[j].offset === end && end - metas[i].offset < 8 << 20) {
        end += metas[j].length;
        j++;
      }
      const run = readAt(this.#log, metas[i].offset, end - metas[i].offset);
      for (let k = i; k < j; k++) {
        const from = metas[k].offset - metas[i].offset;
        out.push(this.#checkTurn(metas[k], run.subarray(from, from + metas[k].length)));
      }
      i = j;
    }
    return out;
  }

  /** Reads and checks a turn's record. */
  #readTurn(meta: TurnMeta): TurnRecordData {
    return this.#checkTurn(meta, readAt(this.#log, meta.offset, meta.length));
  }

  #checkTurn(meta: TurnMeta, frame: Uint8Array): TurnRecordData {
    const checked = checkFrame(frame);
    const problem = typeof checked === "string"
      ? checked
      : checked.kind !== RecordKind.turn
      ? `record kind ${checked.kind} where a turn was expected`
      : undefined;
    if (problem !== undefined || typeof checked === "string") {
      throw new BackendError(
        `fs store log ${this.#logPath} is corrupt at offset ${meta.offset} (turn ${meta.turnId}): ${problem}`,
      );
    }
    let data: TurnRecordData;
    try {
      data = decodeTurn(checked.body);
    } catch (error) {
      throw new BackendError(
        `fs store log ${this.#logPath}: turn record at offset ${meta.offset} does not decode: ${error}`,
      );
    }
    if (data.turnId !== meta.turnId) {
      throw new BackendError(
        `fs store log ${this.#logPath}: offset ${meta.offset} holds turn ${data.turnId}, index says ${meta.turnId}`,
      );
    }
    return data;
  }

  #inHistory(head: ContextSlot, meta: TurnMeta): boolean {
    if (meta.depth > head.headDepth) return false;
    return ancestorAt(this.#meta(head.headTurnId), meta.depth, (id) => this.#meta(id)).turnId ===
      meta.turnId;
  }

  // ---- the writer queue ---------------------------------------------------

  #enqueue<T>(make: (done: Settle<T>) => Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      // The flag is set before #drain runs, which may finish synchronously.
      if (!this.#draining) {
        this.#draining = true;
        this.#pump = this.#drain();
      }
    });
  }

  async #drain(): Promise<void> {
    // Let the caller's synchronous code finish queueing before the first batch.
    if (this.durability !== "fsync") await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        await this.#commit(this.#queue.splice(0, this.#batchSize()));
        if (this.#sinceCheckpoint >= CHECKPOINT_EVERY_BYTES && !this.#broken) {
          try {
            this.#checkpoint(false);
          } catch (error) {
            this.#broken = error as Error;
          }
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** How many queued requests the next batch takes: one in fsync mode, else up to a cap. */
  #batchSize(): number {
    if (this.durability === "fsync") return 1;
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < MAX_BATCH && (n === 0 || bytes < MAX_BATCH_BYTES)) {
      const job = this.#queue[n++];
      if (job.kind === "append") bytes += job.req.payload.length;
    }
    return n;
  }

  async #commit(jobs: Job[]): Promise<void> {
    const state: BatchState = {
      nextTurnId: this.#nextTurnId,
      nextContextId: this.#nextContextId,
      turns: new Map(),
      heads: new Map(),
      keys: new Map(),
      roots: new Map(),
    };
    const plans: Plan[] = [];
    for (const job of jobs) {
      try {
        if (this.#closed || this.#broken) this.#usable();
        plans.push(this.#plan(job, state));
      } catch (error) {
        job.done.reject(error);
      }
    }
    const frames = plans.filter((p) => p.frame !== undefined);
    if (frames.length > 0) {
      const total = frames.reduce((n, p) => n + p.frame!.length, 0);
      let bytes = frames[0].frame!;
      if (frames.length > 1) {
        bytes = new Uint8Array(total);
        let at = 0;
        for (const p of frames) {
          bytes.set(p.frame!, at);
          at += p.frame!.length;
        }
      }
      try {
        writeAt(this.#log, this.#logEnd, bytes);
        if (this.durability === "fsync") this.#log.syncDataSync();
        else if (this.durability === "group") await this.#log.syncData();
      } catch (error) {
        // Nothing of this batch was acknowledged: cut it off again.
        try {
          this.#log.truncateSync(this.#logEnd);
        } catch {
          this.#broken = error as Error;
        }
        const failure = new BackendError(
          `fs store: cannot append to ${this.#logPath}: ${error}`,
          { cause: error },
        );
        for (const p of plans) p.fail(failure);
        return;
      }
      try {
        let offset = this.#logEnd;
        for (const p of frames) {
          p.apply!(offset);
          offset += p.frame!.length;
        }
        this.#logEnd = offset;
        this.#sinceCheckpoint += total;
      } catch (error) {
        // The records are durable in the log; the next open replays them.
        this.#broken = error as Error;
        const failure = new BackendError(
          `fs store ${this.dir}: index update failed after the log write (${error}); reopen to recover`,
          { cause: error },
        );
        for (const p of plans) p.fail(failure);
        return;
      }
    }
    for (const p of plans) p.settle();
  }

  #plan(job: Job, state: BatchState): Plan {
    switch (job.kind) {
      case "context":
        return this.#planContext(job.baseTurnId, state, job.done);
      case "attach":
        return this.#planAttach(job.turnId, job.rootHash, state, job.done);
      case "append":
        return this.#planAppend(job.req, job.contentHash, state, job.done);
    }
  }

  /** A turn's depth and parent, pending in this batch or committed. */
  #anyMeta(state: BatchState, turnId: number): Pick<TurnMeta, "turnId" | "parentTurnId" | "depth"> {
    return state.turns.get(turnId)?.meta ?? this.#meta(turnId);
  }

  #findAnyTurn(state: BatchState, id: string) {
    const n = Number(id);
    const pending = state.turns.get(n);
    return pending ? pending.meta : this.#findTurn(id);
  }

  #headOf(state: BatchState, contextId: string): ContextSlot {
    const n = Number(contextId);
    const head = state.heads.get(n) ?? this.#findContext(contextId);
    if (!head) throw new NotFoundError("context", contextId);
    return head;
  }

  #planContext(baseTurnId: string, state: BatchState, done: Settle<ContextHead>): Plan {
    let baseDepth = 0;
    if (baseTurnId !== ROOT_TURN_ID) {
      const base = this.#findAnyTurn(state, baseTurnId);
      if (!base) throw unknownBase(baseTurnId);
      baseDepth = base.depth;
    }
    const record: ContextRecordData = {
      contextId: state.nextContextId++,
      baseTurnId: Number(baseTurnId),
      baseDepth,
      createdAt: Date.now(),
    };
    state.heads.set(record.contextId, {
      contextId: record.contextId,
      baseTurnId: record.baseTurnId,
      baseDepth,
      headTurnId: record.baseTurnId,
      headDepth: baseDepth,
      createdAt: record.createdAt,
    });
    const head: ContextHead = {
      contextId: String(record.contextId),
      headTurnId: baseTurnId,
      headDepth: baseDepth,
    };
    return {
      frame: encodeFrame(RecordKind.context, encodeContext(record)),
      apply: () => this.#applyContext(record),
      settle: () => done.resolve(head),
      fail: (e) => done.reject(e),
    };
  }

  #planAttach(turnId: string, rootHash: string, state: BatchState, done: Settle<void>): Plan {
    const turn = this.#findAnyTurn(state, turnId);
    if (!turn) throw new NotFoundError("turn", turnId);
    if (!this.#blobs.has(rootHash)) {
      throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
    }
    const existing = state.roots.get(turn.turnId) ??
      state.turns.get(turn.turnId)?.data.fsRootHash ?? this.#roots.get(turn.turnId);
    const settle = () => done.resolve();
    const fail = (e: unknown) => done.reject(e);
    if (existing === rootHash) return { settle, fail };
    if (existing !== undefined) {
      throw new ConflictError(
        `turn ${turnId} already has fs root ${existing}; a turn's snapshot cannot change`,
      );
    }
    state.roots.set(turn.turnId, rootHash);
    const record: AttachRecordData = { turnId: turn.turnId, rootHash };
    return {
      frame: encodeFrame(RecordKind.attach, encodeAttach(record)),
      apply: () => this.#applyAttach(record),
      settle,
      fail,
    };
  }

  #planAppend(
    req: ValidAppend,
    contentHash: string,
    state: BatchState,
    done: Settle<AppendedTurn>,
  ): Plan {
    const head = this.#headOf(state, req.contextId);
    const fail = (e: unknown) => done.reject(e);
    // Hashed once: the lookup here and the insert at apply both need it.
    const fingerprint = req.idempotencyKey === undefined
      ? undefined
      : keyFingerprint(head.contextId, req.idempotencyKey);
    if (req.idempotencyKey !== undefined) {
      const prior = this.#findKeyed(state, head.contextId, req.idempotencyKey, fingerprint);
      if (prior) {
        const result = replayIdempotent(req, contentHash, prior.turn, prior.fsRoot);
        return { settle: () => done.resolve(result), fail };
      }
    }
    if (req.parentTurnId !== undefined && req.parentTurnId !== String(head.headTurnId)) {
      if (req.parentTurnId === ROOT_TURN_ID) {
        throw staleParent(req.contextId, req.parentTurnId, String(head.headTurnId));
      }
      const parent = this.#findAnyTurn(state, req.parentTurnId);
      if (!parent) throw new NotFoundError("turn", req.parentTurnId);
      throw this.#inHistoryAny(state, head, parent)
        ? staleParent(req.contextId, req.parentTurnId, String(head.headTurnId))
        : foreignParent(req.contextId, req.parentTurnId);
    }
    if (req.fsRootHash !== undefined && !this.#blobs.has(req.fsRootHash)) {
      throw new NotFoundError(
        "blob",
        req.fsRootHash,
        `fs root for a turn of context ${req.contextId}`,
      );
    }
    const fields: TurnRecordData = {
      turnId: state.nextTurnId++,
      contextId: head.contextId,
      parentTurnId: head.headTurnId,
      depth: head.headDepth + 1,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      contentHash,
      fsRootHash: req.fsRootHash,
      idempotencyKey: req.idempotencyKey,
      payload: req.payload,
    };
    const frame = sealFrame(encodeTurn(fields, FRAME_HEADER_BYTES), RecordKind.turn);
    // The payload ends the record: keep a view of our copy, not the caller's array.
    const data: TurnRecordData = {
      ...fields,
      payload: frame.subarray(frame.length - req.payload.length),
    };
    state.turns.set(data.turnId, {
      meta: {
        turnId: data.turnId,
        parentTurnId: data.parentTurnId,
        depth: data.depth,
        originContextId: data.contextId,
      },
      data,
    });
    state.heads.set(head.contextId, { ...head, headTurnId: data.turnId, headDepth: data.depth });
    if (req.idempotencyKey !== undefined) {
      state.keys.set(`${head.contextId}\n${req.idempotencyKey}`, data.turnId);
    }
    const result: AppendedTurn = {
      ...storedTurn(data),
      contextId: String(head.contextId),
      deduplicated: false,
    };
    return {
      frame,
      apply: (offset) => this.#applyTurn(data, offset, frame.length, fingerprint),
      settle: () => done.resolve(result),
      fail,
    };
  }

  /** The turn an idempotency key names in a context, pending or committed. */
  #findKeyed(
    state: BatchState,
    contextId: number,
    key: string,
    fingerprint: [number, number] = keyFingerprint(contextId, key),
  ): { turn: StoredTurn; fsRoot: string | undefined } | undefined {
    const pendingId = state.keys.get(`${contextId}\n${key}`);
    if (pendingId !== undefined) {
      const data = state.turns.get(pendingId)!.data;
      return { turn: storedTurn(data), fsRoot: state.roots.get(pendingId) ?? data.fsRootHash };
    }
    for (const turnId of this.#keys.candidates(fingerprint)) {
      if (turnId < 1 || turnId >= this.#nextTurnId) continue; // left by a dropped tail
      const data = this.#readTurn(this.#meta(turnId));
      if (data.contextId === contextId && data.idempotencyKey === key) {
        return {
          turn: storedTurn(data),
          fsRoot: state.roots.get(turnId) ?? this.#roots.get(turnId),
        };
      }
    }
    return undefined;
  }

  #inHistoryAny(
    state: BatchState,
    head: ContextSlot,
    turn: Pick<TurnMeta, "turnId" | "depth">,
  ): boolean {
    if (turn.depth > head.headDepth) return false;
    let at = this.#anyMeta(state, head.headTurnId);
    while (at.depth > turn.depth && state.turns.has(at.turnId)) {
      at = this.#anyMeta(state, at.parentTurnId);
    }
    if (at.depth > turn.depth) {
      at = ancestorAt(this.#meta(at.turnId), turn.depth, (id) => this.#meta(id));
    }
    return at.turnId === turn.turnId;
  }

  // ---- the contract ---------------------------------------------------------

  /** Creates an empty context, or a fork when `baseTurnId` is given. */
  async createContext(options: CreateContextOptions = {}): Promise<ContextHead> {
    this.#usable();
    const base = options.baseTurnId === undefined
      ? ROOT_TURN_ID
      : requireId("baseTurnId", options.baseTurnId);
    return this.#enqueue<ContextHead>((done) => ({ kind: "context", baseTurnId: base, done }));
  }

  /** Creates a context whose head is `turnId`: one small record, nothing copied. */
  async forkContext(turnId: string): Promise<ContextHead> {
    this.#usable();
    const base = requireId("turnId", turnId);
    return this.#enqueue<ContextHead>((done) => ({ kind: "context", baseTurnId: base, done }));
  }

  /** Appends one turn at the head of a context; resolves once durable per the policy. */
  async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    this.#usable();
    const req = validateAppend(input);
    const contentHash = blake3Hex(req.payload);
    return this.#enqueue<AppendedTurn>((done) => ({ kind: "append", req, contentHash, done }));
  }

  /** The context's head: one slot read. */
  async getHead(contextId: string): Promise<ContextHead> {
    this.#usable();
    const slot = this.#findContext(requireId("contextId", contextId));
    if (!slot) throw new NotFoundError("context", contextId);
    return publicHead(slot);
  }

  /** Contexts newest first: O(limit) slot reads down from the cursor. */
  async listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    this.#usable();
    const { beforeContextId, limit } = validateListContexts(options);
    return listContextSlots(
      this.#nextContextId - 1,
      (n) => this.#contexts.get(n),
      beforeContextId,
      limit,
    );
  }

  /** A page of history, oldest → newest: O(limit) slot reads plus O(log depth) for a cursor. */
  async listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    this.#usable();
    const { beforeTurnId, limit } = validateList(contextId, options);
    const head = this.#findContext(contextId);
    if (!head) throw new NotFoundError("context", contextId);
    let next = head.headTurnId;
    if (beforeTurnId !== undefined) {
      if (beforeTurnId === ROOT_TURN_ID) return [];
      const before = this.#findTurn(beforeTurnId);
      if (!before) throw new NotFoundError("turn", beforeTurnId);
      if (!this.#inHistory(head, before)) throw foreignCursor(contextId, beforeTurnId);
      next = before.parentTurnId;
    }
    const metas: TurnMeta[] = [];
    while (next !== 0 && metas.length < limit) {
      const meta = this.#meta(next);
      metas.push(meta);
      next = meta.parentTurnId;
    }
    metas.reverse();
    return this.#readTurns(metas).map(storedTurn);
  }

  /** One turn by id: one slot read and one record read. */
  async getTurn(turnId: string): Promise<StoredTurn> {
    this.#usable();
    const meta = this.#findTurn(requireId("turnId", turnId));
    if (!meta) throw new NotFoundError("turn", turnId);
    return storedTurn(this.#readTurn(meta));
  }

  /** Stores a blob file under its BLAKE3 hash. */
  async putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    this.#usable();
    return this.#blobs.put(bytes);
  }

  /** The blob stored under `hash`. */
  async getBlob(hash: string): Promise<Uint8Array> {
    this.#usable();
    return this.#blobs.get(hash);
  }

  /** True when the blob is stored. */
  async hasBlob(hash: string): Promise<boolean> {
    this.#usable();
    return this.#blobs.has(hash);
  }

  /** Attaches a stored tree root to a turn. */
  async attachFs(turnId: string, rootHash: string): Promise<void> {
    this.#usable();
    const id = requireId("turnId", turnId);
    if (!this.#findTurn(id)) throw new NotFoundError("turn", id);
    const root = requireHash("rootHash", rootHash);
    return this.#enqueue<void>((done) => ({ kind: "attach", turnId: id, rootHash: root, done }));
  }

  /** The turn's own tree root or its nearest ancestor's (walks parents). */
  async getFsRoot(turnId: string): Promise<string | undefined> {
    this.#usable();
    let meta: TurnMeta | undefined = this.#findTurn(requireId("turnId", turnId));
    if (!meta) throw new NotFoundError("turn", turnId);
    while (meta.turnId !== 0) {
      const root = this.#roots.get(meta.turnId);
      if (root !== undefined) return root;
      meta = this.#meta(meta.parentTurnId);
    }
    return undefined;
  }

  /** Publishes a registry bundle durably. */
  async publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    this.#usable();
    return this.#registry.publish(bundle);
  }

  /** A published bundle, or undefined. */
  async getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    this.#usable();
    return this.#registry.get(bundleId);
  }

  /** Finishes queued writes, syncs everything, marks the checkpoint clean and unlocks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#draining) await this.#pump;
    this.#closed = true;
    try {
      if (!this.#broken) this.#checkpoint(true);
    } finally {
      await this.#registry.close().catch(() => {});
      for (const file of [this.#log, this.#turns.file, this.#contexts.file, this.#roots.file]) {
        try {
          file.close();
        } catch { /* already closed */ }
      }
      this.#keys.close();
      this.#lock.release();
    }
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function storedTurn(t: TurnRecordData): StoredTurn {
  return {
    turnId: String(t.turnId),
    parentTurnId: String(t.parentTurnId),
    depth: t.depth,
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    payload: t.payload,
    contentHash: t.contentHash,
  };
}

function publicHead(slot: ContextSlot): ContextHead {
  return {
    contextId: String(slot.contextId),
    headTurnId: String(slot.headTurnId),
    headDepth: slot.headDepth,
  };
}
