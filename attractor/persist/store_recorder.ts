/**
 * A {@link RunRecorder} over a turn store, in the persistence modes of the
 * agent (`off`, `best_effort`, `required`): records are queued write-behind
 * in call order, each appended as the child of the one before with a
 * deterministic idempotency key, and retried with the same bytes and key on
 * a transient failure. `settle()` waits for the queue and, in mode
 * `required`, throws the first failure; after one, later writes are refused.
 *
 * This is the minimal seam the shared record writer (turnstore/writer) will
 * replace: the engine only sees {@link RunRecorder}.
 *
 * @module
 */
import {
  attractorIdempotencyKey,
  type ForgeStore,
  isTurnStoreError,
  type RecordCodec,
  ROOT_TURN_ID,
} from "@forge/turnstore";
import { attractorBundle } from "../records.ts";
import type { RunRecorder, WriteKey } from "./recorder.ts";

/** How a run uses its store. */
export type PersistenceMode = "off" | "best_effort" | "required";

/** The persistence modes, for validation. */
export const PERSISTENCE_MODES: readonly PersistenceMode[] = ["off", "best_effort", "required"];

/** A write the run needed could not be stored (mode `required`). */
export class RunPersistenceError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "Persistence" as const;
  /** Creates the error; `cause` is the store's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunPersistenceError";
  }
}

/** Options of {@link StoreRecorder.open}. */
export interface StoreRecorderOptions {
  /** The store. */
  readonly store: ForgeStore;
  /** `best_effort` or `required`. */
  readonly mode: Exclude<PersistenceMode, "off">;
  /** Part of every idempotency key (the run id and attempt). */
  readonly keyPrefix: string;
  /** Continue this existing context (a resumed run) instead of creating one. */
  readonly contextId?: string;
  /** Create the context as a fork of this turn. */
  readonly forkFrom?: string;
  /** Receives failed writes in mode `best_effort`. */
  readonly onWarning?: (message: string) => void;
  /** Tries per write (default 3). */
  readonly attempts?: number;
}

/** Appends a run attempt's records to one context of a store. */
export class StoreRecorder implements RunRecorder {
  readonly #store: ForgeStore;
  readonly #mode: Exclude<PersistenceMode, "off">;
  readonly #prefix: string;
  readonly #onWarning: (message: string) => void;
  readonly #attempts: number;
  #contextId: string;
  #head: string;
  #sequence = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #failure?: RunPersistenceError;
  /** True: this recorder stores records. */
  readonly enabled = true;

  private constructor(options: StoreRecorderOptions, contextId: string, head: string) {
    this.#store = options.store;
    this.#mode = options.mode;
    this.#prefix = options.keyPrefix;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#attempts = options.attempts ?? 3;
    this.#contextId = contextId;
    this.#head = head;
  }

  /**
   * Publishes the pipeline bundle and opens the context (new, forked, or an
   * existing one continued at its head). In mode `best_effort` a store that
   * cannot be reached gives a recorder that stores nothing.
   */
  static async open(options: StoreRecorderOptions): Promise<StoreRecorder> {
    try {
      await options.store.publishRegistryBundle(attractorBundle);
      const head = options.contextId !== undefined
        ? await options.store.getHead(options.contextId)
        : options.forkFrom !== undefined
        ? await options.store.forkContext(options.forkFrom)
        : await options.store.createContext();
      return new StoreRecorder(options, head.contextId, head.headTurnId);
    } catch (error) {
      if (options.mode === "required") {
        throw new RunPersistenceError(
          `cannot open the run's context: ${(error as Error).message}`,
          { cause: error },
        );
      }
      options.onWarning?.(`persistence disabled: ${(error as Error).message}`);
      const dead = new StoreRecorder(options, "", ROOT_TURN_ID);
      dead.#failure = new RunPersistenceError("store unavailable", { cause: error });
      return dead;
    }
  }

  /** The context. */
  get contextId(): string | undefined {
    return this.#contextId || undefined;
  }

  /** The last turn appended (or the context's head when opened). */
  get headTurnId(): string {
    return this.#head;
  }

  /** Queues a record; resolves with its turn id once stored. */
  write<V>(type: RecordCodec<V>, key: WriteKey, value: V): Promise<string | undefined> {
    // Encode now: a bad value is the engine's bug and fails at once, in every mode.
    const payload = type.encode(value);
    const sequence = ++this.#sequence;
    const idempotencyKey = attractorIdempotencyKey(
      this.#prefix,
      key.nodeId,
      key.attempt,
      key.kind,
      sequence,
    );
    const run = this.#tail.then(async () => {
      if (this.#failure) {
        if (this.#mode === "required") throw this.#failure;
        if (!this.#contextId) return undefined;
      }
      for (let attempt = 1;; attempt++) {
        try {
          const turn = await this.#store.appendTurn({
            contextId: this.#contextId,
            parentTurnId: this.#head,
            typeId: type.typeId,
            typeVersion: type.version,
            payload,
            idempotencyKey,
          });
          this.#head = turn.turnId;
          return turn.turnId;
        } catch (error) {
          const transient = !isTurnStoreError(error) || error.code === "Backend";
          if (transient && attempt < this.#attempts) {
            await new Promise((r) => setTimeout(r, 10 * 2 ** (attempt - 1)));
            continue;
          }
          const failure = new RunPersistenceError(
            `storing ${key.kind} of ${key.nodeId || "the run"} failed: ${(error as Error).message}`,
            { cause: error },
          );
          if (this.#mode === "required") {
            this.#failure ??= failure;
            throw failure;
          }
          this.#onWarning(failure.message);
          return undefined;
        }
      }
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Stores a blob (not queued: blobs have no parent). */
  async putBlob(bytes: Uint8Array): Promise<string | undefined> {
    try {
      return (await this.#store.putBlob(bytes)).hash;
    } catch (error) {
      const failure = new RunPersistenceError(
        `storing a blob failed: ${(error as Error).message}`,
        { cause: error },
      );
      if (this.#mode === "required") throw failure;
      this.#onWarning(failure.message);
      return undefined;
    }
  }

  /** A recorder on a new context forked from `turnId`. */
  async fork(turnId: string, label: string): Promise<RunRecorder> {
    await this.#tail;
    return await StoreRecorder.open({
      store: this.#store,
      mode: this.#mode,
      keyPrefix: `${this.#prefix}/${label}`,
      forkFrom: turnId,
      onWarning: this.#onWarning,
      attempts: this.#attempts,
    });
  }

  /** Waits for every queued write; throws the first failure in mode `required`. */
  async settle(): Promise<void> {
    await this.#tail;
    if (this.#failure && this.#mode === "required") throw this.#failure;
  }
}
