/**
 * The one retry policy of the CXDB clients: the binary transport reconnects
 * with it and the HTTP read client retries with it. A failed attempt waits
 * `initialDelayMs`, then twice that, and so on up to `maxDelayMs`, for at
 * most `attempts` attempts in all.
 *
 * @module
 */
import type { ReconnectOptions } from "./options.ts";

/** A retry policy with every field filled in. */
export interface RetryPolicy {
  /** Attempts in all (the first included). */
  readonly attempts: number;
  /** Delay before the second attempt, in ms. */
  readonly initialDelayMs: number;
  /** Largest delay between attempts, in ms. */
  readonly maxDelayMs: number;
}

/** Defaults: 8 attempts, 10 ms doubling to at most 2 s (seven waits, 10 + 20 + … + 640 ms: about 1.3 s in all). */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 10, maxDelayMs: 2000 };

/** The policy `options` describe, defaults for what they leave out. */
export function retryPolicy(options: ReconnectOptions = {}): RetryPolicy {
  return {
    attempts: options.attempts ?? DEFAULT_RETRY.attempts,
    initialDelayMs: options.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
  };
}

/** The wait before attempt `step` + 1 (step 0 is the first attempt: no wait). */
export function backoffDelay(policy: RetryPolicy, step: number): number {
  if (step <= 0) return 0;
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (step - 1));
}

/**
 * Runs `attempt` until it succeeds, fails with an error `retryable` rejects,
 * or the policy's attempts are used up (then the last error is thrown).
 * `signal` stops the waiting between attempts.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  signal?: AbortSignal,
): Promise<T> {
  let last: unknown;
  for (let n = 0; n < policy.attempts; n++) {
    const wait = backoffDelay(policy, n);
    if (wait > 0) await sleep(wait, signal);
    try {
      return await attempt(n);
    } catch (error) {
      last = error;
      if (!retryable(error) || signal?.aborted) throw error;
    }
  }
  throw last;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
