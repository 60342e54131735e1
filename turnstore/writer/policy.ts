/**
 * What a record writer does when a write fails: its persistence modes, its
 * retry policy and the error it throws in mode `required`.
 *
 * @module
 */
import { isTurnStoreError } from "../core/errors.ts";

/**
 * How a writer uses its store:
 *
 * - `off`: the store is never called; every write resolves with undefined.
 * - `best_effort`: a write that still fails after its retries is reported
 *   through `onWarning` and the writer goes on; later writes chain on from the
 *   last turn that was stored.
 * - `required`: a write that still fails after its retries throws a
 *   {@link PersistenceError}, and every later write is refused with it rather
 *   than stored after a gap.
 */
export type PersistenceMode = "off" | "best_effort" | "required";

/** The persistence modes, for validation. */
export const PERSISTENCE_MODES: readonly PersistenceMode[] = ["off", "best_effort", "required"];

/** How failed writes are retried. */
export interface RetryPolicy {
  /** Tries per write, 1 or more (1 = no retry). Default 3. */
  readonly attempts: number;
  /** Wait before the first retry, doubled for each later one. Default 10 ms. */
  readonly backoffMs: number;
}

/** The default retry policy: 3 tries, 10 ms then 20 ms apart. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 10 };

/** A write could not be stored (mode `required`), or the writer was used after close. */
export class PersistenceError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "Persistence" as const;
  /** What was being written: the write's event name, e.g. "assistant_turn". */
  readonly event: string;

  /** Creates the error; `cause` is the store's last error. */
  constructor(event: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PersistenceError";
    this.event = event;
  }
}

/** Throws TypeError unless `mode` is a persistence mode. */
export function checkMode(mode: unknown): asserts mode is PersistenceMode {
  if (!PERSISTENCE_MODES.includes(mode as PersistenceMode)) {
    throw new TypeError(
      `persistence mode must be one of ${PERSISTENCE_MODES.join(", ")}, got ${
        JSON.stringify(mode)
      }`,
    );
  }
}

/** Throws TypeError unless `retry` is a usable policy. */
export function checkRetry(retry: RetryPolicy): void {
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || !(retry.backoffMs >= 0)) {
    throw new TypeError(
      `retry.attempts must be an integer of 1 or more and retry.backoffMs 0 or more`,
    );
  }
}

/**
 * True when repeating the request could change the answer: a Backend error,
 * or an error that is not a turn store error (a dropped connection). Conflict,
 * InvalidInput, NotFound and Unsupported are final.
 */
export function retryable(error: unknown): boolean {
  return !isTurnStoreError(error) || error.code === "Backend";
}

/** Resolves after `ms` milliseconds (at once for 0). */
export function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
