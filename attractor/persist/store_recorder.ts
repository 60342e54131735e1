/**
 * A {@link RunRecorder} over the shared record writer
 * (`@forge/turnstore/writer`): modes `off` / `best_effort` / `required`,
 * appends pipelined in call order, retried with the same bytes and
 * idempotency key, the pipeline's registry bundle published first. Every
 * key is `forge-attractor:v1|run|node|attempt|kind|seq`, the run part
 * naming the run, its lineage attempt and (after a resume) the resume, so
 * no two writes of a run share a key.
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore";
import type { RecordType } from "@forge/turnstore/records";
import { PersistenceError, type PersistenceMode, RecordWriter } from "@forge/turnstore/writer";
import { attractorBundle } from "../records.ts";
import { attractorIdempotencyKey } from "../keys.ts";
import { HOLD_LIMIT_MS, type RunRecorder, type WriteKey } from "./recorder.ts";

export { PersistenceError, type PersistenceMode };

/** The persistence modes, for validation. */
export const PERSISTENCE_MODES: readonly PersistenceMode[] = ["off", "best_effort", "required"];

/** Options of {@link StoreRecorder.open}. */
export interface StoreRecorderOptions {
  /** The store. */
  readonly store: ForgeStore;
  /** `best_effort` or `required`. */
  readonly mode: Exclude<PersistenceMode, "off">;
  /** The run part of every idempotency key (run id, attempt, resume). */
  readonly keyPrefix: string;
  /** Continue this existing context (a resumed run) instead of creating one. */
  readonly contextId?: string;
  /** Create the context as a fork of this turn. */
  readonly forkFrom?: string;
  /** Receives failed writes in mode `best_effort`. */
  readonly onWarning?: (message: string) => void;
}

/**
 * The writer's event name of a record: what a `required` failure's
 * PersistenceError (`event`, message) and a `best_effort` warning name, e.g.
 * `checkpoint_saved of stage b (attempt 1)`; parsed back for the key.
 */
function eventOf(key: WriteKey): string {
  return key.nodeId === "" && key.attempt === 0
    ? key.kind
    : `${key.kind} of stage ${key.nodeId} (attempt ${key.attempt})`;
}

const EVENT = /^(\S+) of stage (.*) \(attempt (\d+)\)$/s;

function keyOf(prefix: string): (sequence: number, event: string) => string {
  return (sequence, event) => {
    const m = EVENT.exec(event);
    return m
      ? attractorIdempotencyKey(prefix, m[2], Number(m[3]), m[1], sequence)
      : attractorIdempotencyKey(prefix, "", 0, event, sequence);
  };
}

/** A record held for the next release. */
interface Held {
  readonly type: RecordType<unknown>;
  readonly value: unknown;
  readonly event: string;
  /** Its turn id, once released. */
  turn?: Promise<string | undefined>;
}

/** Appends a run attempt's records to one context of a store. */
export class StoreRecorder implements RunRecorder {
  readonly #writer: RecordWriter;
  readonly #options: StoreRecorderOptions;
  #held: Held[] = [];
  /** When the oldest held record was held (performance.now()). */
  #heldSince = 0;
  /**
   * Releases held records at the latest {@link HOLD_LIMIT_MS} after the
   * oldest was held. Armed once and re-armed only when it fires with records
   * still held, never cleared per release: a stage's records are held and
   * released within a few milliseconds, and a timer set and cleared per
   * stage cost 1.5 µs alone and ~10 µs of the runner's thread in a
   * 200-stage run's profile (timer list upkeep, its closure).
   */
  #holdTimer?: ReturnType<typeof setTimeout>;
  /** A held record that could not be handed to the writer (it did not encode). */
  #failure?: Error;
  /** True: this recorder stores records. */
  readonly enabled = true;

  private constructor(writer: RecordWriter, options: StoreRecorderOptions) {
    this.#writer = writer;
    this.#options = options;
  }

  /** Opens the context (new, forked, or an existing one continued at its head). */
  static async open(options: StoreRecorderOptions): Promise<StoreRecorder> {
    const writer = new RecordWriter({
      store: options.store,
      mode: options.mode,
      key: keyOf(options.keyPrefix),
      label: `run ${options.keyPrefix}`,
      bundle: attractorBundle,
      onWarning: options.onWarning ? (m) => options.onWarning!(m) : undefined,
    });
    await writer.open(
      options.contextId !== undefined
        ? { contextId: options.contextId }
        : options.forkFrom !== undefined
        ? { forkFrom: options.forkFrom }
        : {},
    );
    return new StoreRecorder(writer, options);
  }

  /** The context. */
  get contextId(): string | undefined {
    return this.#writer.contextId;
  }

  /** The last turn appended (or the context's head when opened). */
  get headTurnId(): string {
    return this.#writer.headTurnId;
  }

  /**
   * Queues a record; resolves with its turn id once stored, or undefined when
   * it was not (the writer keeps a `required` failure for
   * {@link throwIfFailed} and {@link settle}, so callers may fire and forget).
   */
  async write<V>(type: RecordType<V>, key: WriteKey, value: V): Promise<string | undefined> {
    this.release();
    const pending = this.#writer.append(type as never, value as never, eventOf(key));
    try {
      return (await pending)?.turnId;
    } catch {
      return undefined;
    }
  }

  /**
   * Holds a record until the next release (write-behind); the returned
   * function releases it and resolves with its turn id.
   */
  enqueue<V>(type: RecordType<V>, key: WriteKey, value: V): () => Promise<string | undefined> {
    const held: Held = {
      type: type as RecordType<unknown>,
      value,
      event: eventOf(key),
    };
    if (this.#held.length === 0) this.#heldSince = performance.now();
    this.#held.push(held);
    this.#holdTimer ??= this.#armHoldTimer(HOLD_LIMIT_MS);
    return () => {
      // Still held: release it (with every record held before and after it). Released
      // already: releasing again would send the next stage's records early, alone.
      if (held.turn === undefined) this.release();
      return held.turn!;
    };
  }

  /**
   * Hands every held record to the writer, in order and in one tick, so the
   * store's group commit takes them in one round (one KV commit).
   */
  release(): void {
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    for (const item of held) {
      try {
        const pending = this.#writer.append(item.type as never, item.value as never, item.event);
        item.turn = pending.then((turn) => turn?.turnId, () => undefined);
      } catch (error) {
        // A value that does not encode (a bug): kept, thrown at the next checkpoint.
        this.#failure ??= error as Error;
        item.turn = Promise.resolve(undefined);
      }
    }
  }

  #armHoldTimer(ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#holdTimer = undefined;
      if (this.#held.length === 0) return;
      const left = HOLD_LIMIT_MS - (performance.now() - this.#heldSince);
      // Held since after the timer was armed: wait out the rest of its limit.
      if (left > 1) this.#holdTimer = this.#armHoldTimer(left);
      else this.release();
    }, ms);
    Deno.unrefTimer(timer as unknown as number);
    return timer;
  }

  #disarmHoldTimer(): void {
    if (this.#holdTimer === undefined) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  /** Resolves when every released record has been stored or has failed. */
  async drained(): Promise<void> {
    await this.#writer.flush();
  }

  /** Throws the first failed write in mode `required`. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
    this.#writer.throwIfFailed();
  }

  /** Stores a blob. */
  async putBlob(bytes: Uint8Array): Promise<string | undefined> {
    try {
      return (await this.#options.store.putBlob(bytes)).hash;
    } catch (error) {
      if (this.#options.mode === "required") {
        throw new PersistenceError("blob", `storing a blob failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.#options.onWarning?.(`storing a blob failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A recorder on a new context forked from `turnId`. */
  async fork(turnId: string, label: string): Promise<RunRecorder> {
    this.release();
    this.#disarmHoldTimer();
    await this.#writer.flush();
    return await StoreRecorder.open({
      ...this.#options,
      keyPrefix: `${this.#options.keyPrefix}/${label}`,
      contextId: undefined,
      forkFrom: turnId,
    });
  }

  /** Waits for every queued write; throws the first failure in mode `required`. */
  async settle(): Promise<void> {
    this.release();
    // Nothing is held once settled: no timer outlives the run.
    this.#disarmHoldTimer();
    await this.#writer.settle();
    if (this.#failure) throw this.#failure;
  }
}
