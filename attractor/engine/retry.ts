/**
 * Retry policies (spec §3.5–3.6): how many times a stage runs and how long
 * the engine waits between attempts.
 *
 * @module
 */

/** How delays between attempts grow. */
export interface BackoffConfig {
  /** First delay, in milliseconds. */
  readonly initialDelayMs: number;
  /** Multiplier for each later delay. */
  readonly factor: number;
  /** Upper bound of a delay, in milliseconds. */
  readonly maxDelayMs: number;
  /** Multiply each delay by a random factor in [0.5, 1.5]. */
  readonly jitter: boolean;
}

/** How a node is retried. */
export interface RetryPolicy {
  /** Executions in all, 1 or more (1: no retries). */
  readonly maxAttempts: number;
  /** Delays between attempts. */
  readonly backoff: BackoffConfig;
}

/** The default backoff: 200 ms, doubling, capped at 60 s, with jitter. */
export const DEFAULT_BACKOFF: BackoffConfig = {
  initialDelayMs: 200,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: true,
};

/** Names of the spec's preset policies. */
export type RetryPresetName = "none" | "standard" | "aggressive" | "linear" | "patient";

/** The spec's preset policies. */
export const RETRY_PRESETS: Readonly<Record<RetryPresetName, RetryPolicy>> = {
  none: { maxAttempts: 1, backoff: DEFAULT_BACKOFF },
  standard: { maxAttempts: 5, backoff: { ...DEFAULT_BACKOFF, initialDelayMs: 200, factor: 2 } },
  aggressive: { maxAttempts: 5, backoff: { ...DEFAULT_BACKOFF, initialDelayMs: 500, factor: 2 } },
  linear: { maxAttempts: 3, backoff: { ...DEFAULT_BACKOFF, initialDelayMs: 500, factor: 1 } },
  patient: { maxAttempts: 3, backoff: { ...DEFAULT_BACKOFF, initialDelayMs: 2000, factor: 3 } },
};

/**
 * The delay before retry number `attempt` (1 = the first retry):
 * `initial × factor^(attempt−1)`, capped, then jittered.
 */
export function delayForAttempt(
  attempt: number,
  backoff: BackoffConfig,
  random: () => number = Math.random,
): number {
  const raw = backoff.initialDelayMs * backoff.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(raw, backoff.maxDelayMs);
  return Math.round(backoff.jitter ? capped * (0.5 + random()) : capped);
}
