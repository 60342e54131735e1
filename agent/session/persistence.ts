/**
 * Writes a session's records to a turn store, in one of three modes:
 *
 * - `off`: the store is never called.
 * - `best_effort`: a write that still fails after its retries is reported
 *   through `onWarning` and the session goes on; later writes continue from
 *   the last turn that was stored.
 * - `required`: a write that still fails after its retries throws a
 *   {@link PersistenceError}, which fails the session operation.
 *
 * Retries: a write failing with a Backend error (or an error that is not a
 * turn store error, such as a dropped connection) is retried up to
 * `retry.attempts` times in all, with the SAME bytes, the same parent and the
 * same idempotency key, so a write that landed before its acknowledgement was
 * lost is returned deduplicated rather than written twice. Conflict,
 * InvalidInput, NotFound and Unsupported errors are not retried: repeating
 * the request cannot change the answer.
 *
 * Writes are serialized in call order, so parallel tool calls still produce
 * one linear chain. {@link SessionRecorder.append} resolves when its record is
 * stored; {@link SessionRecorder.enqueue} queues a record without waiting
 * (write-behind), and {@link SessionRecorder.settle} waits for the queue and
 * throws the first failure (mode `required`). Once a write has failed in mode
 * `required`, later writes are refused with the same error rather than stored
 * after a gap.
 *
 * @module
 */
import {
  agentIdempotencyKey,
  type AppendedTurn,
  type ForgeStore,
  isTurnStoreError,
  type RecordCodec,
  ROOT_TURN_ID,
  type TurnId,
} from "@forge/turnstore";
import { agentBundle } from "../records.ts";

/** How a session uses its turn store. */
export type PersistenceMode = "off" | "best_effort" | "required";

/** The persistence modes, for validation. */
export const PERSISTENCE_MODES: readonly PersistenceMode[] = ["off", "best_effort", "required"];

/** How failed writes are retried. */
export interface PersistenceRetryPolicy {
  /** Tries per write, 1 or more (1 = no retry). Default 3. */
  readonly attempts: number;
  /** Wait before the first retry, doubled for each later one. Default 10 ms. */
  readonly backoffMs: number;
}

/** The default retry policy: 3 tries, 10 ms then 20 ms apart. */
export const DEFAULT_RETRY: PersistenceRetryPolicy = { attempts: 3, backoffMs: 10 };

/** A write the session needed could not be stored (mode `required`). */
export class PersistenceError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "Persistence" as const;
  /** What was being written, e.g. "assistant_turn". */
  readonly event: string;

  /** Creates the error; `cause` is the store's last error. */
  constructor(event: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PersistenceError";
    this.event = event;
  }
}

/** Options of {@link SessionRecorder}. */
export interface SessionRecorderOptions {
  /** The store; may be absent only in mode `off`. */
  readonly store?: ForgeStore;
  /** The mode. */
  readonly mode: PersistenceMode;
  /** The session whose records these are; part of every idempotency key. */
  readonly sessionId: string;
  /** Receives a failed write in mode `best_effort`. */
  readonly onWarning?: (message: string, error: unknown) => void;
  /** Retry policy; default {@link DEFAULT_RETRY}. */
  readonly retry?: PersistenceRetryPolicy;
  /**
   * Most writes in flight at once. 1 writes one record at a time, each naming
   * its parent (compare-and-set). More lets the backend batch them (group
   * commit); each stored turn is then checked to be the child of the one
   * before. Default: {@link DEFAULT_PIPELINE_WINDOW} for the in-process
   * backends whose appends keep call order ("memory", "kv", "fs"), 1 for others.
   */
  readonly pipelineWindow?: number;
}

/** Default in-flight writes on backends that keep call order. */
export const DEFAULT_PIPELINE_WINDOW = 64;

/** Backends whose appendTurn queues a small append synchronously, in call order. */
const ORDERED_BACKENDS: ReadonlySet<string> = new Set(["memory", "kv", "fs"]);

/** Payloads at least this big are written alone (a backend may store them in steps). */
const PIPELINE_MAX_PAYLOAD = 32 * 1024;

/**
 * One queued write. `waiter` is the caller's promise for {@link SessionRecorder.append};
 * a write-behind record ({@link SessionRecorder.enqueue}) has none, so queuing it
 * allocates no promise or closures: its failure goes straight to the recorder.
 */
interface PipelinedWrite {
  readonly event: string;
  readonly typeId: string;
  readonly typeVersion: number;
  readonly payload: Uint8Array;
  readonly idempotencyKey: string;
  attempt?: Promise<AppendedTurn>;
  readonly waiter?: Waiter;
}

/** What a queued write needs of its record type. */
type RecordType = Pick<RecordCodec<never>, "typeId" | "version">;

interface Waiter {
  readonly resolve: (turn: AppendedTurn | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** Where a recorder starts its context. */
export interface OpenOptions {
  /** Fork the context from this turn (a subagent forks its parent's turn at spawn). */
  readonly forkFrom?: TurnId;
}

/** The fields a caller gives; the recorder adds `sessionId` and `sequenceNo`. */
export type RecordFields<V> = Omit<V, "sessionId" | "sequenceNo">;

/** Appends a session's typed records to its own context. */
export class SessionRecorder {
  readonly #store?: ForgeStore;
  readonly #mode: PersistenceMode;
  readonly #sessionId: string;
  readonly #onWarning: (message: string, error: unknown) => void;
  readonly #retry: PersistenceRetryPolicy;
  #contextId?: string;
  #head: TurnId = ROOT_TURN_ID;
  #sequence = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #pendingFork?: TurnId;
  #opened = false;
  #failure?: PersistenceError;
  readonly #window: number;
  readonly #pending: PipelinedWrite[] = [];
  readonly #inflight: PipelinedWrite[] = [];
  #driving?: Promise<void>;
  #ready = false;

  /** Creates a recorder; throws TypeError for a bad mode or a missing store. */
  constructor(options: SessionRecorderOptions) {
    if (!PERSISTENCE_MODES.includes(options.mode)) {
      throw new TypeError(
        `persistence mode must be one of ${PERSISTENCE_MODES.join(", ")}, got ${
          JSON.stringify(options.mode)
        }`,
      );
    }
    if (options.mode !== "off" && !options.store) {
      throw new TypeError(`persistence mode ${options.mode} needs a store`);
    }
    const retry = options.retry ?? DEFAULT_RETRY;
    if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.backoffMs < 0) {
      throw new TypeError(
        `retry.attempts must be an integer of 1 or more and retry.backoffMs 0 or more`,
      );
    }
    this.#store = options.mode === "off" ? undefined : options.store;
    this.#mode = options.mode;
    this.#sessionId = options.sessionId;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#retry = retry;
    // In mode off the store is not even looked at.
    const window = options.pipelineWindow ??
      (this.#store && ORDERED_BACKENDS.has(this.#store.backend) ? DEFAULT_PIPELINE_WINDOW : 1);
    if (!Number.isInteger(window) || window < 1) {
      throw new TypeError(`pipelineWindow must be an integer of 1 or more, got ${window}`);
    }
    this.#window = window;
  }

  /** Most writes in flight at once (1: strictly one at a time). */
  get pipelineWindow(): number {
    return this.#window;
  }

  /** The mode. */
  get mode(): PersistenceMode {
    return this.#mode;
  }

  /** True unless the mode is `off`. */
  get enabled(): boolean {
    return this.#mode !== "off";
  }

  /** The session's context, once created; undefined in mode `off` or before {@link open}. */
  get contextId(): string | undefined {
    return this.#contextId;
  }

  /** The last turn this recorder stored ("0" before the first). */
  get headTurnId(): TurnId {
    return this.#head;
  }

  /** How many writes were asked for so far (stored or not). */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * Publishes the agent registry bundle and creates the session's context
   * (a fork of `forkFrom` when given). Does nothing in mode `off`.
   */
  open(options: OpenOptions = {}): Promise<void> {
    if (!this.#store || this.#opened) return Promise.resolve();
    this.#opened = true;
    this.#pendingFork = options.forkFrom;
    return this.#enqueue(async () => {
      await this.#withPolicy("registry_bundle", async () => {
        await this.#store!.publishRegistryBundle(agentBundle);
      });
      await this.#ensureContext();
      this.#ready = true;
    });
  }

  /**
   * Appends one record with the next sequence number and its deterministic
   * idempotency key. Resolves with the stored turn, or undefined when
   * persistence is off or the write failed in mode `best_effort`.
   */
  append<V extends { sessionId: string; sequenceNo: number }>(
    type: RecordCodec<V>,
    event: string,
    fields: RecordFields<V>,
  ): Promise<AppendedTurn | undefined> {
    if (!this.#store) return Promise.resolve(undefined);
    const sequenceNo = ++this.#sequence;
    // Encode now: a bad value is the caller's bug and fails at once, in every mode.
    const payload = type.encode({ ...fields, sessionId: this.#sessionId, sequenceNo } as V);
    const idempotencyKey = agentIdempotencyKey(this.#sessionId, sequenceNo, event);
    if (this.#window > 1) {
      return new Promise((resolve, reject) => {
        this.#push(type, event, payload, idempotencyKey, { resolve, reject });
      });
    }
    return this.#appendOneByOne(type, event, payload, idempotencyKey);
  }

  /** Queues one encoded write for the pipeline and starts the driver if idle. */
  #push(
    type: RecordType,
    event: string,
    payload: Uint8Array,
    idempotencyKey: string,
    waiter: Waiter | undefined,
  ): void {
    this.#pending.push({
      event,
      typeId: type.typeId,
      typeVersion: type.version,
      payload,
      idempotencyKey,
      waiter,
    });
    this.#issue();
    this.#driving ??= this.#drive();
  }

  /** Window 1: each write names its parent and waits for the one before. */
  #appendOneByOne(
    type: RecordType,
    event: string,
    payload: Uint8Array,
    idempotencyKey: string,
  ): Promise<AppendedTurn | undefined> {
    return this.#enqueue(async () => {
      if (this.#failure) throw this.#failure;
      const contextId = await this.#ensureContext();
      if (contextId === undefined) return undefined;
      const parentTurnId = this.#head;
      const turn = await this.#withPolicy(event, () =>
        this.#store!.appendTurn({
          contextId,
          parentTurnId,
          typeId: type.typeId,
          typeVersion: type.version,
          payload,
          idempotencyKey,
        }));
      if (turn) this.#head = turn.turnId;
      return turn;
    });
  }

  /**
   * Queues a record without waiting for it (write-behind). A failure in mode
   * `required` is kept and thrown by {@link throwIfFailed} and {@link settle}.
   */
  enqueue<V extends { sessionId: string; sequenceNo: number }>(
    type: RecordCodec<V>,
    event: string,
    fields: RecordFields<V>,
  ): void {
    if (!this.#store) return;
    if (this.#window === 1) {
      this.append(type, event, fields).catch((error) => this.#noteFailure(event, error));
      return;
    }
    // The same steps as append, minus the caller's promise: nobody waits for this one.
    const sequenceNo = ++this.#sequence;
    const payload = type.encode({ ...fields, sessionId: this.#sessionId, sequenceNo } as V);
    const idempotencyKey = agentIdempotencyKey(this.#sessionId, sequenceNo, event);
    this.#push(type, event, payload, idempotencyKey, undefined);
  }

  /** Keeps the first failure of a write-behind record, for throwIfFailed and settle. */
  #noteFailure(event: string, error: unknown): void {
    this.#failure ??= error instanceof PersistenceError
      ? error
      : new PersistenceError(event, String((error as Error)?.message ?? error), {
        cause: error,
      });
  }

  /** Settles a finished write: its caller's promise, or nothing for write-behind. */
  #resolve(write: PipelinedWrite, turn: AppendedTurn | undefined): void {
    write.waiter?.resolve(turn);
  }

  /** Fails a write: its caller's promise, or the recorder's failure for write-behind. */
  #reject(write: PipelinedWrite, error: unknown): void {
    if (write.waiter) write.waiter.reject(error);
    else this.#noteFailure(write.event, error);
  }

  /** The first failed write in mode `required`, if any. */
  get failure(): PersistenceError | undefined {
    return this.#failure;
  }

  /** Throws the first failed write in mode `required`, if any. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Waits for every queued write, then throws the first failure (mode `required`). */
  async settle(): Promise<void> {
    await this.flush();
    this.throwIfFailed();
  }

  /** Resolves when every write asked for so far has finished (failed or not). */
  async flush(): Promise<void> {
    await this.#tail.catch(() => {});
    while (this.#driving) await this.#driving;
  }

  // ---- pipelined writes ---------------------------------------------------

  /** Sends pending writes to the store, in order, while the window has room. */
  #issue(): void {
    const contextId = this.#contextId;
    if (!this.#ready || contextId === undefined) return;
    while (this.#pending.length > 0 && this.#inflight.length < this.#window) {
      const next = this.#pending[0];
      const alone = next.payload.length >= PIPELINE_MAX_PAYLOAD;
      // A big payload waits for the writes before it, and the writes after it wait for it
      // (so a big write in flight is the only one, and looking at the first suffices).
      const first = this.#inflight[0];
      if (first && first.payload.length >= PIPELINE_MAX_PAYLOAD) return;
      if (alone && this.#inflight.length > 0) return;
      this.#pending.shift();
      if (this.#failure) {
        this.#reject(next, this.#failure);
        continue;
      }
      next.attempt = this.#store!.appendTurn({
        contextId,
        typeId: next.typeId,
        typeVersion: next.typeVersion,
        payload: next.payload,
        idempotencyKey: next.idempotencyKey,
      });
      next.attempt.catch(() => {}); // settled in #drive, in order
      this.#inflight.push(next);
    }
  }

  /** Confirms in-flight writes oldest first, checking that each extends the chain. */
  async #drive(): Promise<void> {
    try {
      await this.#tail.catch(() => {}); // open() first
      if (!this.#ready) {
        this.#ready = true;
        if (this.#contextId === undefined) await this.#ensureContext().catch(() => {});
      }
      for (;;) {
        if (this.#contextId === undefined) {
          // best_effort without a context: nothing can be stored; each write was warned.
          for (const w of this.#pending.splice(0)) {
            if (this.#failure) this.#reject(w, this.#failure);
            else this.#resolve(w, undefined);
          }
          return;
        }
        this.#issue();
        const oldest = this.#inflight[0];
        if (!oldest) return;
        let turn: AppendedTurn | undefined | null;
        try {
          turn = await oldest.attempt!;
        } catch (error) {
          turn = await this.#recover(oldest, error).catch((error) => {
            this.#inflight.shift();
            this.#reject(oldest, error);
            return null;
          });
          if (turn === null) continue;
        }
        this.#inflight.shift();
        if (turn && turn.parentTurnId !== this.#head) {
          const error = new PersistenceError(
            oldest.event,
            `persisting ${oldest.event} of session ${this.#sessionId}: turn ${turn.turnId} ` +
              `landed under ${turn.parentTurnId}, not under ${this.#head}; the backend ` +
              `reordered concurrent appends (set pipelineWindow to 1 for this store)`,
          );
          if (this.#mode === "required") {
            this.#failure ??= error;
            this.#reject(oldest, error);
            continue;
          }
          this.#onWarning(error.message, error);
        }
        if (turn) this.#head = turn.turnId;
        this.#resolve(oldest, turn);
      }
    } finally {
      this.#driving = undefined;
    }
  }

  /**
   * The oldest in-flight write failed. Once the writes after it have
   * settled, retry it with its key: as the next link of the chain when none
   * of them landed, and otherwise only to find it if it landed after all
   * (a lost acknowledgement); a genuinely missing write cannot be put back
   * in order then, and is reported.
   */
  async #recover(write: PipelinedWrite, error: unknown): Promise<AppendedTurn | undefined> {
    const later = this.#inflight.slice(1);
    const settled = await Promise.allSettled(later.map((w) => w.attempt!));
    const laterLanded = settled.some((r) => r.status === "fulfilled");
    const contextId = this.#contextId!;
    const turn = await this.#withPolicy(write.event, () =>
      this.#store!.appendTurn({
        contextId,
        parentTurnId: laterLanded ? undefined : this.#head,
        typeId: write.typeId,
        typeVersion: write.typeVersion,
        payload: write.payload,
        idempotencyKey: write.idempotencyKey,
      }), { error });
    // Later writes that failed are retried in their turn, in order.
    later.forEach((w, i) => {
      if (settled[i].status === "rejected") {
        w.attempt = Promise.reject(settled[i].reason);
        w.attempt.catch(() => {});
      }
    });
    return turn;
  }

  async #ensureContext(): Promise<string | undefined> {
    if (this.#contextId !== undefined) return this.#contextId;
    const base = this.#pendingFork;
    const head = await this.#withPolicy(
      "context",
      () =>
        base !== undefined && base !== ROOT_TURN_ID
          ? this.#store!.forkContext(base)
          : this.#store!.createContext(),
    );
    if (!head) return undefined;
    this.#contextId = head.contextId;
    this.#head = head.headTurnId;
    return this.#contextId;
  }

  #enqueue<R>(task: () => Promise<R>): Promise<R> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #withPolicy<R>(
    event: string,
    write: () => Promise<R>,
    firstFailure?: { error: unknown },
  ): Promise<R | undefined> {
    let last: unknown = firstFailure?.error;
    // A pipelined write arrives here after its first try already failed.
    let attempt = firstFailure ? 1 : 0;
    if (firstFailure && (!retryable(last) || this.#retry.attempts === 1)) attempt = Infinity;
    while (attempt < this.#retry.attempts) {
      if (attempt > 0) await delay(this.#retry.backoffMs * 2 ** (attempt - 1));
      attempt++;
      try {
        return await write();
      } catch (error) {
        last = error;
        if (!retryable(error)) break;
      }
    }
    const message = `persisting ${event} of session ${this.#sessionId} failed: ${
      (last as Error)?.message ?? String(last)
    }`;
    if (this.#mode === "required") {
      this.#failure ??= new PersistenceError(event, message, { cause: last });
      throw this.#failure;
    }
    this.#onWarning(message, last);
    return undefined;
  }
}

function retryable(error: unknown): boolean {
  return !isTurnStoreError(error) || error.code === "Backend";
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
