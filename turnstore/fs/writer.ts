/**
 * The fs store's writer queue: appends, context creations and attachments
 * are queued, taken in batches (one request in fsync mode, many in group and
 * none), decided against the committed state plus the batch's own pending
 * changes, written to the log with one write, synced per the durability
 * policy, applied to the indexes, and only then acknowledged.
 *
 * @module
 */
import { BackendError, ConflictError, NotFoundError, TurnStoreError } from "../core/errors.ts";
import { ROOT_TURN_ID } from "../core/ids.ts";
import type { AppendedTurn, ContextHead, StoredTurn } from "../core/types.ts";
import type { ValidAppend } from "../core/validate.ts";
import { foreignParent, replayIdempotent, staleParent, unknownBase } from "../core/rules.ts";
import {
  type AttachRecordData,
  type ContextRecordData,
  encodeAttach,
  encodeContext,
  setTurnPlace,
  type TurnRecordData,
} from "./codec.ts";
import { encodeFrame, FRAME_HEADER_BYTES, RecordKind, sealFrame } from "./frame.ts";
import { ancestorAt, type ContextSlot, type TurnMeta } from "./indexes.ts";
import { writeAt } from "./io.ts";
import { batchWrites } from "./arena.ts";
import { type FsState, storedTurn } from "./state.ts";

/**
 * Log bytes between two index watermarks: each records how much log was acknowledged, so that a log
 * later found shorter than that is refused at open instead of silently losing appends.
 */
const WATERMARK_EVERY_BYTES = 64 * 1024 * 1024;
/** Most requests one group-commit batch takes. */
const MAX_BATCH = 4096;
/** A batch stops taking requests once their payloads pass this many bytes. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Zero bytes written ahead of the log's end when durability syncs. An append
 * inside written space leaves the file's size and block map alone, so its
 * fdatasync flushes the data alone, without a journal commit for the size
 * change: measured ~20–30% cheaper per sync than an append that grows the
 * file. Recovery reads zeros after the last record as free space.
 *
 * The step grows with the log: as much as the file already holds, from 64 KiB
 * up to 1 MiB. A young store's first sync then flushes 64 KiB of zeros, not
 * 1 MiB (1.5–2.5 ms on this machine, inside a short session's last wait),
 * and a long log still grows the file once per MiB.
 */
const PREALLOCATE_MIN_BYTES = 64 * 1024;
/** The largest preallocation step; see {@link PREALLOCATE_MIN_BYTES}. */
const PREALLOCATE_MAX_BYTES = 1024 * 1024;
/**
 * A batch this big grows the log by its own write instead: for it the size
 * change is a small part of the sync, and zeros ahead would cost bandwidth
 * (64 writers of 10 KB turns measured 20% slower with them).
 */
const PREALLOCATE_BELOW_BATCH_BYTES = 64 * 1024;

/** A queued write request. */
export type Job =
  | {
    kind: "append";
    req: ValidAppend;
    contentHash: string;
    /**
     * The turn's record, encoded when the append was called (so the caller's
     * payload was copied then): frame header space, then the body, whose id,
     * parent and depth are set when the batch is planned.
     */
    record: Uint8Array;
    /** The key's fingerprint, taken from the record's bytes (undefined without a key). */
    fingerprint: [number, number] | undefined;
    done: Settle<AppendedTurn>;
  }
  | { kind: "context"; baseTurnId: string; done: Settle<ContextHead> }
  | { kind: "attach"; turnId: string; rootHash: string; done: Settle<void> };

/** How a queued request is answered. */
export interface Settle<T> {
  /** Acknowledges the request. */
  resolve(value: T): void;
  /** Fails the request. */
  reject(error: unknown): void;
}

/** A decided request: the record to write (if any) and how to answer. */
interface Plan {
  readonly frame?: Uint8Array;
  apply?(offset: number): void;
  settle(): void;
  fail(error: unknown): void;
}

/**
 * A new turn planned in the current batch, not yet in the indexes: its
 * record, what the append answers, and how it is applied. One object per
 * append (methods, not closures), since every append makes one.
 */
class PendingTurn implements Plan {
  constructor(
    readonly data: TurnRecordData,
    readonly frame: Uint8Array,
    readonly fingerprint: [number, number] | undefined,
    readonly done: Settle<AppendedTurn>,
    readonly state: FsState,
  ) {}

  /** The batch's previous keyed turn whose fingerprint has the same low half. */
  sameLow: PendingTurn | undefined;

  apply(offset: number): void {
    // The writer moves each context's head once per batch, after its last turn.
    this.state.applyTurn(this.data, offset, this.frame.length, this.fingerprint, false);
  }

  settle(): void {
    const data = this.data;
    // storedTurn's fields and the append's, built in one object.
    this.done.resolve({
      turnId: String(data.turnId),
      parentTurnId: String(data.parentTurnId),
      depth: data.depth,
      typeId: data.typeId,
      typeVersion: data.typeVersion,
      payload: data.payload,
      contentHash: data.contentHash,
      contextId: String(data.contextId),
      deduplicated: false,
    });
  }

  fail(error: unknown): void {
    this.done.reject(error);
  }
}

/** The state a batch builds on top of the committed indexes. */
interface BatchState {
  nextTurnId: number;
  nextContextId: number;
  readonly turns: Map<number, PendingTurn>;
  readonly heads: Map<number, ContextSlot>;
  /** Contexts whose head a turn of this batch moved. */
  readonly moved: Set<number>;
  /**
   * This batch's keyed turns by the low half of their key's fingerprint
   * (which covers the context), chained through {@link PendingTurn.sameLow}.
   * Not by key string: a key is built by concatenation, and hashing such a
   * string for a map costs ~1 µs (measured), more than the rest of planning.
   */
  readonly keys: Map<number, PendingTurn>;
  readonly roots: Map<number, string>;
}

/** The single writer of an fs store. */
export class Writer {
  readonly #state: FsState;
  #queue: Job[] = [];
  #pump: Promise<void> = Promise.resolve();
  #draining = false;
  /** Log bytes written (records or preallocated zeros); read from the file at the first write. */
  #allocated = -1;
  /**
   * In group mode, a second handle on the log whose writes run on Deno's I/O
   * threads, like the sync after them: the kernel's copy of a batch (and of
   * preallocated zeros) leaves the appending thread, which pays the op's
   * dispatch instead (less there, a little more in all; see the README). Its
   * file position is the writer's alone; reads seek the store's handle, so
   * an await between this handle's seek and write is safe.
   */
  #offThread?: Deno.FsFile;

  constructor(state: FsState) {
    this.#state = state;
  }

  /**
   * The zeros to write past the log's end so that a write up to `end` does
   * not grow the file, unless the batch is big enough to grow it itself.
   */
  #zerosAhead(end: number, batchBytes: number): { at: number; bytes: Uint8Array } | undefined {
    if (this.#allocated < 0) this.#allocated = this.#state.log.statSync().size;
    if (end <= this.#allocated) return undefined;
    if (batchBytes >= PREALLOCATE_BELOW_BATCH_BYTES) {
      this.#allocated = end;
      return undefined;
    }
    const from = Math.max(this.#allocated, this.#state.logEnd);
    const step = Math.min(PREALLOCATE_MAX_BYTES, Math.max(PREALLOCATE_MIN_BYTES, this.#allocated));
    const to = end + step;
    this.#allocated = to;
    return { at: from, bytes: new Uint8Array(to - from) };
  }

  /** Writes `bytes` at `offset` of the log on an I/O thread (group mode). */
  async #writeOffThread(offset: number, bytes: Uint8Array): Promise<void> {
    const file = this.#offThread ??= Deno.openSync(this.#state.logPath, { write: true });
    file.seekSync(offset, Deno.SeekMode.Start);
    for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
  }

  /** Closes the writer's own handle on the log, if it opened one. */
  close(): void {
    this.#offThread?.close();
    this.#offThread = undefined;
  }

  /** Resolves once every queued request has been answered. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#pump;
  }

  /** Queues a request; resolves when it is acknowledged (durable per the policy). */
  enqueue<T>(make: (done: Settle<T>) => Job): Promise<T> {
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
    if (this.#state.durability !== "fsync") await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        await this.#commit(this.#queue.splice(0, this.#batchSize()));
        if (this.#state.sinceWatermark >= WATERMARK_EVERY_BYTES && !this.#state.broken) {
          try {
            this.#state.watermark(false);
          } catch (error) {
            this.#state.broken = error as Error;
          }
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** How many queued requests the next batch takes: one in fsync mode, else up to a cap. */
  #batchSize(): number {
    if (this.#state.durability === "fsync") return 1;
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
      nextTurnId: this.#state.nextTurnId,
      nextContextId: this.#state.nextContextId,
      turns: new Map(),
      heads: new Map(),
      moved: new Set(),
      keys: new Map(),
      roots: new Map(),
    };
    const plans: Plan[] = [];
    for (const job of jobs) {
      try {
        if (this.#state.closed || this.#state.broken) this.#state.usable();
        plans.push(this.#plan(job, state));
      } catch (error) {
        // Typed errors (NotFound, Conflict, …) as they are; anything else
        // (a read of a damaged file) as a BackendError naming the store.
        job.done.reject(
          error instanceof TurnStoreError ? error : new BackendError(
            `fs store ${this.#state.dir}: cannot plan a ${job.kind}: ${error}`,
            { cause: error },
          ),
        );
      }
    }
    const frames: Plan[] = [];
    const records: Uint8Array[] = [];
    let total = 0;
    for (const p of plans) {
      if (p.frame === undefined) continue;
      frames.push(p);
      records.push(p.frame);
      total += p.frame.length;
    }
    if (frames.length > 0) {
      try {
        // The batch's own sync below also makes the preallocated size durable.
        const zeros = this.#state.durability === "none"
          ? undefined
          : this.#zerosAhead(this.#state.logEnd + total, total);
        const offThread = this.#state.durability === "group";
        if (zeros && offThread) await this.#writeOffThread(zeros.at, zeros.bytes);
        else if (zeros) writeAt(this.#state.log, zeros.at, zeros.bytes);
        let at = this.#state.logEnd;
        for (const bytes of batchWrites(records, total)) {
          if (offThread) await this.#writeOffThread(at, bytes);
          else writeAt(this.#state.log, at, bytes);
          at += bytes.length;
        }
        if (this.#state.durability === "fsync") this.#state.log.syncDataSync();
        else if (this.#state.durability === "group") await this.#state.log.syncData();
      } catch (error) {
        // Nothing of this batch was acknowledged: cut it off again.
        try {
          this.#allocated = -1;
          this.#state.log.truncateSync(this.#state.logEnd);
        } catch {
          this.#state.broken = error as Error;
        }
        const failure = new BackendError(
          `fs store: cannot append to ${this.#state.logPath}: ${error}`,
          { cause: error },
        );
        for (const p of plans) p.fail(failure);
        return;
      }
      try {
        let offset = this.#state.logEnd;
        for (const p of frames) {
          p.apply!(offset);
          offset += p.frame!.length;
        }
        // Each context's head once per batch: its last turn's (turns leave it to this).
        for (const contextId of state.moved) this.#state.contexts.put(state.heads.get(contextId)!);
        this.#state.logEnd = offset;
        this.#state.sinceWatermark += total;
      } catch (error) {
        // The records are durable in the log; the next open replays them.
        this.#state.broken = error as Error;
        const failure = new BackendError(
          `fs store ${this.#state.dir}: index update failed after the log write (${error}); reopen to recover`,
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
        return this.#planAppend(job, state);
    }
  }

  /** A turn's depth and parent, pending in this batch or committed. */
  #anyMeta(state: BatchState, turnId: number): Pick<TurnMeta, "turnId" | "parentTurnId" | "depth"> {
    return state.turns.get(turnId)?.data ?? this.#state.meta(turnId);
  }

  #findAnyTurn(state: BatchState, id: string) {
    const n = Number(id);
    const pending = state.turns.get(n);
    return pending ? pending.data : this.#state.findTurn(id);
  }

  #headOf(state: BatchState, contextId: string): ContextSlot {
    const n = Number(contextId);
    const head = state.heads.get(n) ?? this.#state.findContext(contextId);
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
      apply: () => this.#state.applyContext(record),
      settle: () => done.resolve(head),
      fail: (e) => done.reject(e),
    };
  }

  #planAttach(turnId: string, rootHash: string, state: BatchState, done: Settle<void>): Plan {
    const turn = this.#findAnyTurn(state, turnId);
    if (!turn) throw new NotFoundError("turn", turnId);
    if (!this.#state.blobs.has(rootHash)) {
      throw new NotFoundError("blob", rootHash, `fs root for turn ${turnId}`);
    }
    const existing = state.roots.get(turn.turnId) ??
      state.turns.get(turn.turnId)?.data.fsRootHash ?? this.#state.roots.get(turn.turnId);
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
      apply: () => this.#state.applyAttach(record),
      settle,
      fail,
    };
  }

  #planAppend(job: Extract<Job, { kind: "append" }>, state: BatchState): Plan {
    const { req, contentHash, record, fingerprint, done } = job;
    const head = this.#headOf(state, req.contextId);
    // Taken once, at the call: the lookup here and the insert at apply both need it.
    if (fingerprint !== undefined) {
      const prior = this.#findKeyed(state, head.contextId, req.idempotencyKey!, fingerprint);
      if (prior) {
        const result = replayIdempotent(req, contentHash, prior.turn, prior.fsRoot);
        return { settle: () => done.resolve(result), fail: (e: unknown) => done.reject(e) };
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
    if (req.fsRootHash !== undefined && !this.#state.blobs.has(req.fsRootHash)) {
      throw new NotFoundError(
        "blob",
        req.fsRootHash,
        `fs root for a turn of context ${req.contextId}`,
      );
    }
    const turnId = state.nextTurnId++;
    const depth = head.headDepth + 1;
    setTurnPlace(record, FRAME_HEADER_BYTES, turnId, head.headTurnId, depth);
    const frame = sealFrame(record, RecordKind.turn);
    const data: TurnRecordData = {
      turnId,
      contextId: head.contextId,
      parentTurnId: head.headTurnId,
      depth,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      contentHash,
      fsRootHash: req.fsRootHash,
      idempotencyKey: req.idempotencyKey,
      // The payload ends the record: a view of our copy, not the caller's array.
      payload: frame.subarray(frame.length - req.payload.length),
    };
    const pending = new PendingTurn(data, frame, fingerprint, done, this.#state);
    state.turns.set(turnId, pending);
    state.heads.set(head.contextId, { ...head, headTurnId: turnId, headDepth: depth });
    state.moved.add(head.contextId);
    if (fingerprint !== undefined) {
      pending.sameLow = state.keys.get(fingerprint[0]);
      state.keys.set(fingerprint[0], pending);
    }
    return pending;
  }

  /** The turn an idempotency key names in a context, pending or committed. */
  #findKeyed(
    state: BatchState,
    contextId: number,
    key: string,
    fingerprint: [number, number],
  ): { turn: StoredTurn; fsRoot: string | undefined } | undefined {
    for (let p = state.keys.get(fingerprint[0]); p !== undefined; p = p.sameLow) {
      const data = p.data;
      if (
        p.fingerprint![1] === fingerprint[1] && data.contextId === contextId &&
        data.idempotencyKey === key
      ) {
        return { turn: storedTurn(data), fsRoot: state.roots.get(data.turnId) ?? data.fsRootHash };
      }
    }
    let found: TurnRecordData | undefined;
    const turnId = this.#state.keys.find(fingerprint, (turnId) => {
      if (turnId < 1 || turnId >= this.#state.nextTurnId) return false; // left by a dropped tail
      const data = this.#state.readTurn(this.#state.meta(turnId));
      if (data.contextId !== contextId || data.idempotencyKey !== key) return false;
      found = data;
      return true;
    });
    if (turnId === undefined || found === undefined) return undefined;
    return {
      turn: storedTurn(found),
      fsRoot: state.roots.get(turnId) ?? this.#state.roots.get(turnId),
    };
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
      at = ancestorAt(this.#state.meta(at.turnId), turn.depth, (id) => this.#state.meta(id));
    }
    return at.turnId === turn.turnId;
  }
}
