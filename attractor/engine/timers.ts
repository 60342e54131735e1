/**
 * Timers for the durations a pipeline may name. `setTimeout` (and so
 * `AbortSignal.timeout`) holds at most 2^31 − 1 ms (~24.8 days): a longer
 * delay fires at once, so `timeout="30d"` would fail a stage as it starts.
 * These chain timers of at most that length instead.
 *
 * @module
 */

/** The longest delay one `setTimeout` holds. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` after `ms` milliseconds, whatever their number; returns a function that cancels it. */
export function afterDelay(ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      if (cancelled) return;
      if (left > MAX_TIMER_MS) arm(left - MAX_TIMER_MS);
      else fn();
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
  };
  arm(ms);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}

/** A signal that aborts (with a `TimeoutError`) after `ms`, and `clear()` to stop its timer. */
export function timeoutSignal(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const clear = afterDelay(
    ms,
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError")),
  );
  return { signal: controller.signal, clear };
}
