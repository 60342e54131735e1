/**
 * Retry with exponential backoff and jitter for transient model-call
 * failures (429, 5xx, broken connections), honouring the provider's
 * Retry-After, and cancellable through an AbortSignal.
 *
 * @module
 */

import { AbortedError, LlmError } from "./errors.ts";

/** What a retry is about to do; handed to `onRetry`. */
export interface RetryAttempt {
  /** The failure being retried. */
  readonly error: LlmError;
  /** 0 for the first retry. */
  readonly attempt: number;
  /** How long we wait before sending again. */
  readonly delayMs: number;
}

/** How failed calls are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  readonly maxRetries: number;
  /** Delay before the first retry. */
  readonly baseDelayMs: number;
  /** Cap on any single delay; a Retry-After beyond it is not waited for. */
  readonly maxDelayMs: number;
  /** Growth factor per attempt. */
  readonly backoffMultiplier: number;
  /** Spread each delay over ×0.5..×1.5 so clients do not retry in lockstep. */
  readonly jitter: boolean;
  /** Called before each retry (logging, metrics). */
  readonly onRetry?: (attempt: RetryAttempt) => void;
}

/** The spec's defaults: 2 retries, 1 s base, ×2, 60 s cap, jitter on. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  backoffMultiplier: 2,
  jitter: true,
};

/** The backoff delay before retry number `attempt` (0-based), jitter included. */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    policy.baseDelayMs * Math.pow(policy.backoffMultiplier, attempt),
    policy.maxDelayMs,
  );
  return policy.jitter ? base * (0.5 + random()) : base;
}

/**
 * How long to wait before retrying `error` at `attempt`, or undefined when it
 * must not be retried: not retryable, out of retries, or the provider asked
 * for a wait longer than `maxDelayMs` (better to surface it than to stall).
 */
export function retryDelayFor(
  error: LlmError,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!error.retryable || attempt >= policy.maxRetries) return undefined;
  if (error.retryAfterSeconds !== undefined) {
    const asked = error.retryAfterSeconds * 1000;
    return asked > policy.maxDelayMs ? undefined : asked;
  }
  return backoffDelayMs(attempt, policy, random);
}

/** Waits `ms`, rejecting with AbortedError as soon as `signal` aborts. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The AbortedError for an aborted signal, keeping its reason as the cause. */
export function abortedError(signal: AbortSignal, provider?: string): AbortedError {
  return new AbortedError("the request was aborted by the caller", {
    provider,
    cause: signal.reason,
  });
}

/**
 * Runs `call`, retrying LlmErrors the policy allows. Other errors pass
 * through at once. The last failure is rethrown unchanged.
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    if (signal?.aborted) throw abortedError(signal);
    try {
      return await call(attempt);
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      if (signal?.aborted) throw abortedError(signal, error.provider);
      const delayMs = retryDelayFor(error, attempt, policy, random);
      if (delayMs === undefined) throw error;
      policy.onRetry?.({ error, attempt, delayMs });
      await abortableDelay(delayMs, signal);
    }
  }
}
