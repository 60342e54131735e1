/**
 * The record writer: appends one runtime's typed records to one context, as
 * one linear chain, in the order they were asked for.
 *
 * Writes are pipelined: up to `pipelineWindow` appends are in flight at once
 * (the contract's call-order rule makes the store apply them in call order),
 * and each stored turn is checked to be the child of the one before (the chain
 * check), so a backend that reorders them is caught, never silently accepted.
 * With a window of 1 each write names its parent (compare-and-set) and waits
 * for the one before.
 *
 * A failing write is retried with the same bytes and the same idempotency
 * key, so a write that landed before its acknowledgement was lost is found
 * again rather than stored twice. What happens when it still fails is the
 * {@link PersistenceMode}'s business.
 *
 * @module
 */
import { ROOT_TURN_ID } from "../core/ids.ts";
import type { ContextId, TurnId } from "../core/ids.ts";
import type { AppendedTurn, ForgeStore } from "../core/types.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import {
  checkMode,
  checkRetry,
  DEFAULT_RETRY,
  delay,
  PersistenceError,
  type PersistenceMode,
  retryable,
  type RetryPolicy,
} from "./policy.ts";
import { Fifo } from "./fifo.ts";
import {
  checkHold,
  DEFAULT_PIPELINE_WINDOW,
  DEFAULT_WRITE_BEHIND_HOLD,
  type ForkWriterOptions,
  NO_HOLD,
  type OpenWriterOptions,
  type RecordWriterOptions,
  type WritableRecord,
  type WriteBehindHold,
  type WriteKey,
} from "./options.ts";

/** Backends whose appendTurn queues a small append synchronously, in call order. */
const ORDERED_BACKENDS: ReadonlySet<string> = new Set(["memory", "kv", "fs"]);

/** Payloads at least this big are written alone (a backend may store them in steps). */
const PIPELINE_MAX_PAYLOAD = 32 * 1024;

const NOTHING: Promise<undefined> = Promise.resolve(undefined);

/** Marks a rejection as handled (one function for every write, not a closure each). */
const IGNORE = (): void => {};

/** How a waiting caller hears about its write. */
interface Waiter {
  readonly resolve: (turn: AppendedTurn | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One queued write. A write-behind record ({@link RecordWriter.enqueue}) has no
 * waiter, so queuing it allocates no promise: its failure goes to the writer.
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

/**
 * Appends typed records to one context: `open`, then `append` (resolves when
 * stored) or `enqueue` (write-behind), `flush` or `settle`, and `close`.
 * `Catalog` is the union of the record types this writer may write.
 *
 * ```ts
 * import { MemoryStore } from "@forge/turnstore";
 * import { defineRecord, f } from "@forge/turnstore/records";
 * import { RecordWriter } from "@forge/turnstore/writer";
 *
 * const Note = defineRecord({ typeId: "example.note", version: 1, fields: { text: f.string(1) } });
 * await using store = new MemoryStore();
 * await using writer = new RecordWriter<typeof Note>({
 *   store,
 *   mode: "required",
 *   key: (sequence, event) => `example|${sequence}|${event}`,
 * });
 * await writer.open();
 * writer.enqueue(Note, { text: "one" });
 * const turn = await writer.append(Note, { text: "two" });
 * await writer.settle(); // every write stored, or the first failure thrown
 * ```
 */
export class RecordWriter<Catalog extends WritableRecord<never> = WritableRecord<never>>
  implements AsyncDisposable {
  readonly #store?: ForgeStore;
  readonly #mode: PersistenceMode;
  readonly #key: WriteKey;
  readonly #label?: string;
  readonly #bundle?: RegistryBundle;
  readonly #onWarning: (message: string, error: unknown) => void;
  readonly #retry: RetryPolicy;
  readonly #window: number;
  /** The write-behind hold; undefined when records are handed over as they come. */
  readonly #hold?: WriteBehindHold;
  #bundlePublished = false;
  #contextId?: ContextId;
  #head: TurnId = ROOT_TURN_ID;
  #sequence = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #start: OpenWriterOptions = {};
  #opened = false;
  #closed = false;
  #failure?: PersistenceError;
  readonly #pending = new Fifo<PipelinedWrite>();
  /** How many writes at the front of #pending may be sent; the rest are held. */
  #released = 0;
  #holdTimer?: ReturnType<typeof setTimeout>;
  readonly #inflight: PipelinedWrite[] = [];
  #driving?: Promise<void>;
  #ready = false;

  /** Creates a writer; throws TypeError for a bad mode, window or retry policy, or a missing store. */
  constructor(options: RecordWriterOptions) {
    checkMode(options.mode);
    if (options.mode !== "off" && !options.store) {
      throw new TypeError(`persistence mode ${options.mode} needs a store`);
    }
    if (typeof options.key !== "function") {
      throw new TypeError(`a record writer needs a key function`);
    }
    const retry = options.retry ?? DEFAULT_RETRY;
    checkRetry(retry);
    this.#store = options.mode === "off" ? undefined : options.store;
    this.#mode = options.mode;
    this.#key = options.key;
    this.#label = options.label;
    this.#bundle = options.bundle;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#retry = retry;
    // In mode off the store is not even looked at.
    const window = options.pipelineWindow ??
      (this.#store && ORDERED_BACKENDS.has(this.#store.backend) ? DEFAULT_PIPELINE_WINDOW : 1);
    if (!Number.isInteger(window) || window < 1) {
      throw new TypeError(`pipelineWindow must be an integer of 1 or more, got ${window}`);
    }
    this.#window = window;
    const hold = options.hold ?? DEFAULT_WRITE_BEHIND_HOLD;
    checkHold(hold);
    // With a window of 1 each write waits for the one before: nothing to gather.
    if (window > 1 && hold.maxMs > 0 && hold.maxRecords > 1) this.#hold = hold;
  }

  /** The mode. */
  get mode(): PersistenceMode {
    return this.#mode;
  }

  /** True unless the mode is `off`. */
  get enabled(): boolean {
    return this.#mode !== "off";
  }

  /** The write-behind hold in force (`NO_HOLD` when records are handed over as they come). */
  get hold(): WriteBehindHold {
    return this.#hold ?? NO_HOLD;
  }

  /** Most writes in flight at once (1: strictly one at a time). */
  get pipelineWindow(): number {
    return this.#window;
  }

  /** The writer's context, once opened; undefined in mode `off` or before {@link open}. */
  get contextId(): ContextId | undefined {
    return this.#contextId;
  }

  /** The last turn this writer stored (the start turn before the first; "0" in mode off). */
  get headTurnId(): TurnId {
    return this.#head;
  }

  /** How many writes were asked for so far, stored or not (counted from open's `sequence`). */
  get sequence(): number {
    return this.#sequence;
  }

  /** The first write that failed for good in mode `required`, if any. */
  get failure(): PersistenceError | undefined {
    return this.#failure;
  }

  /** The label messages name the writer by. */
  get #name(): string {
    return this.#label ?? `context ${this.#contextId ?? "(not created)"}`;
  }

  /**
   * Publishes the bundle, then creates the context (a fork of `forkFrom` when
   * given) or takes up an existing one. Writes asked for before it resolves
   * wait for it. Does nothing in mode `off` or when already opened.
   */
  open(options: OpenWriterOptions = {}): Promise<void> {
    if (options.forkFrom !== undefined && options.contextId !== undefined) {
      throw new TypeError(`open takes forkFrom or contextId, not both`);
    }
    const sequence = options.sequence ?? 0;
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new TypeError(`sequence must be a non-negative integer, got ${sequence}`);
    }
    this.#checkOpen("open");
    if (this.#opened) return Promise.resolve();
    this.#opened = true;
    if (!this.#store) return Promise.resolve();
    this.#start = options;
    this.#sequence = sequence;
    return this.#serialize(async () => {
      if (this.#bundle && !this.#bundlePublished) {
        const bundle = this.#bundle;
        await this.#withPolicy("registry_bundle", async () => {
          await this.#store!.publishRegistryBundle(bundle);
          this.#bundlePublished = true;
        });
      }
      await this.#ensureContext();
      this.#ready = true;
    });
  }

  /**
   * Appends one record after every write asked for before it. Resolves with
   * the stored turn, or undefined in mode `off` or when the write failed in
   * mode `best_effort`; rejects with a {@link PersistenceError} in mode
   * `required`. A value that does not encode throws at once in modes
   * `best_effort` and `required`, and takes no sequence number; mode `off`
   * does not encode (it costs nothing, as if the writer were not there). `event` names the write in its key and in
   * messages; default the type id.
   */
  append<V>(
    type: Catalog & WritableRecord<V>,
    value: V,
    event: string = type.typeId,
  ): Promise<AppendedTurn | undefined> {
    this.#checkWritable(event);
    if (!this.#store) return NOTHING;
    const payload = type.encode(value);
    const idempotencyKey = this.#key(++this.#sequence, event);
    if (this.#window > 1) {
      return new Promise((resolve, reject) => {
        this.#push(type, event, payload, idempotencyKey, { resolve, reject });
      });
    }
    return this.#appendOneByOne(type, event, payload, idempotencyKey);
  }

  /**
   * Queues one record without waiting for it (write-behind). It may be held
   * with the records queued after it, within the writer's `hold`, and handed
   * to the store with them. In mode `required` a failure is kept and thrown
   * by {@link throwIfFailed}, {@link settle} and {@link close}. Like
   * {@link append}, a bad value throws at once.
   */
  enqueue<V>(type: Catalog & WritableRecord<V>, value: V, event: string = type.typeId): void {
    this.#checkWritable(event);
    if (!this.#store) return;
    if (this.#window === 1) {
      this.append(type, value, event).catch((error) => this.#noteFailure(event, error));
      return;
    }
    // The same steps as append, minus the caller's promise: nobody waits for this one.
    const payload = type.encode(value);
    const idempotencyKey = this.#key(++this.#sequence, event);
    this.#push(type, event, payload, idempotencyKey, undefined);
  }

  /** Resolves when every write asked for so far has finished, failed or not. */
  async flush(): Promise<void> {
    this.#release();
    await this.#tail.catch(() => {});
    while (this.#driving) await this.#driving;
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

  /**
   * Waits for this writer's writes, then opens a writer of the same store,
   * mode, bundle, retry policy, window and hold on a new context forked from this
   * writer's head (or from `options.at`). Throws this writer's failure in
   * mode `required`. The parent writer stays usable.
   */
  async fork(options: ForkWriterOptions = {}): Promise<RecordWriter<Catalog>> {
    this.#checkOpen("fork");
    await this.settle();
    const child = new RecordWriter<Catalog>({
      store: this.#store,
      mode: this.#mode,
      key: options.key ?? this.#key,
      label: options.label,
      bundle: this.#bundle,
      onWarning: options.onWarning ?? this.#onWarning,
      retry: this.#retry,
      pipelineWindow: this.#window,
      hold: this.hold,
    });
    child.#bundlePublished = this.#bundlePublished;
    await child.open({ forkFrom: options.at ?? this.#head });
    return child;
  }

  /**
   * Waits for every write, then refuses new ones; throws the first failure
   * in mode `required`. Closing twice is harmless. The store stays open: it
   * is the caller's.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settle();
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- one write at a time (window 1) ---------------------------------------

  /** Each write names its parent and waits for the one before. */
  #appendOneByOne(
    type: WritableRecord<never>,
    event: string,
    payload: Uint8Array,
    idempotencyKey: string,
  ): Promise<AppendedTurn | undefined> {
    return this.#serialize(async () => {
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

  // ---- pipelined writes -------------------------------------------------------

  /** Queues one encoded write and starts the driver if idle. */
  #push(
    type: WritableRecord<never>,
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
    const hold = this.#hold;
    // An awaited write takes the held ones with it; a failed writer holds nothing
    // (what is queued now is refused at once).
    if (waiter || !hold || this.#failure) return this.#release();
    const held = this.#pending.length - this.#released;
    if (held >= hold.maxRecords) return this.#release();
    if (held === 1) this.#holdTimer = setTimeout(this.#releaseOnTimer, hold.maxMs);
  }

  /** Lets every queued write go to the store, in order, in this tick. */
  #release(): void {
    this.#clearHold();
    this.#released = this.#pending.length;
    this.#issue();
    this.#driving ??= this.#drive();
  }

  #clearHold(): void {
    if (this.#holdTimer === undefined) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  readonly #releaseOnTimer = (): void => {
    this.#holdTimer = undefined;
    this.#release();
  };

  /**
   * Sends released writes to the store, in order, while the window has room;
   * they go together. When the window cannot take all of them, none is sent
   * until it can, or until it is empty (then a full window's worth goes):
   * refilled one write per answer, the window handed a group-commit store
   * single writes, each of which it then committed or synced alone.
   */
  #issue(): void {
    const contextId = this.#contextId;
    if (!this.#ready || contextId === undefined) return;
    const inflight = this.#inflight.length;
    // After a failure, released writes are refused, not sent: nothing to keep together.
    if (inflight > 0 && this.#released > this.#window - inflight && !this.#failure) return;
    while (this.#released > 0 && this.#inflight.length < this.#window) {
      const next = this.#pending.peek()!;
      const alone = next.payload.length >= PIPELINE_MAX_PAYLOAD;
      // A big payload waits for the writes before it, and the writes after it wait for it
      // (so a big write in flight is the only one, and looking at the first suffices).
      const first = this.#inflight[0];
      if (first && first.payload.length >= PIPELINE_MAX_PAYLOAD) return;
      if (alone && this.#inflight.length > 0) return;
      this.#pending.shift();
      this.#released--;
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
      next.attempt.catch(IGNORE); // settled in #drive, in order
      this.#inflight.push(next);
    }
  }

  /** Confirms in-flight writes oldest first, checking that each extends the chain. */
  async #drive(): Promise<void> {
    try {
      await this.#tail.catch(() => {}); // open() first: it sets #ready, even when it failed
      this.#ready = true;
      for (;;) {
        if (this.#contextId === undefined) {
          // best_effort without a context: nothing can be stored; the context failure was warned.
          this.#released = 0;
          this.#clearHold();
          for (const write of this.#pending.takeAll()) {
            if (this.#failure) this.#reject(write, this.#failure);
            else write.waiter?.resolve(undefined);
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
          if (this.#failure) {
            // Mode required, already failed: this write is refused, not retried.
            this.#inflight.shift();
            this.#reject(oldest, this.#failure);
            continue;
          }
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
            `persisting ${oldest.event} of ${this.#name}: turn ${turn.turnId} ` +
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
        oldest.waiter?.resolve(turn);
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
   * in order then, and the chain check reports it.
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
      const result = settled[i];
      if (result.status === "rejected") {
        w.attempt = Promise.reject(result.reason);
        w.attempt.catch(() => {});
      }
    });
    return turn;
  }

  // ---- shared steps -------------------------------------------------------------

  /** Fails a write: its caller's promise, or the writer's failure for write-behind. */
  #reject(write: PipelinedWrite, error: unknown): void {
    if (write.waiter) write.waiter.reject(error);
    else this.#noteFailure(write.event, error);
  }

  /** Keeps the first failure of a write-behind record, for throwIfFailed and settle. */
  #noteFailure(event: string, error: unknown): void {
    this.#failure ??= error instanceof PersistenceError
      ? error
      : new PersistenceError(event, String((error as Error)?.message ?? error), {
        cause: error,
      });
  }

  #checkOpen(event: string): void {
    if (this.#closed) {
      throw new PersistenceError(event, `the record writer of ${this.#name} is closed`);
    }
  }

  /** A write needs an opened writer (in every mode, so a caller's bug shows with persistence off too). */
  #checkWritable(event: string): void {
    this.#checkOpen(event);
    if (!this.#opened) {
      throw new PersistenceError(
        event,
        `the record writer of ${this.#name} is not open: call open() before writing ${event}`,
      );
    }
  }

  /** Creates or takes up the context once; undefined when that failed in mode best_effort. */
  async #ensureContext(): Promise<string | undefined> {
    if (this.#contextId !== undefined) return this.#contextId;
    const { forkFrom, contextId } = this.#start;
    const head = await this.#withPolicy("context", () => {
      if (contextId !== undefined) return this.#store!.getHead(contextId);
      return forkFrom !== undefined && forkFrom !== ROOT_TURN_ID
        ? this.#store!.forkContext(forkFrom)
        : this.#store!.createContext();
    });
    if (!head) return undefined;
    this.#contextId = head.contextId;
    this.#head = head.headTurnId;
    return this.#contextId;
  }

  /** Runs `task` after every task queued before it, failed or not. */
  #serialize<R>(task: () => Promise<R>): Promise<R> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Runs one store call under the retry policy and the mode. */
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
    const message = `persisting ${event} of ${this.#name} failed: ${
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
