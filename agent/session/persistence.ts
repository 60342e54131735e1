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
 * one linear chain.
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
    return this.#enqueue(async () => {
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

  /** Resolves when every write asked for so far has finished. */
  async flush(): Promise<void> {
    await this.#tail.catch(() => {});
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

  async #withPolicy<R>(event: string, write: () => Promise<R>): Promise<R | undefined> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      try {
        return await write();
      } catch (error) {
        last = error;
        if (!retryable(error) || attempt === this.#retry.attempts) break;
        await delay(this.#retry.backoffMs * 2 ** (attempt - 1));
      }
    }
    const message = `persisting ${event} of session ${this.#sessionId} failed: ${
      (last as Error)?.message ?? String(last)
    }`;
    if (this.#mode === "required") throw new PersistenceError(event, message, { cause: last });
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
