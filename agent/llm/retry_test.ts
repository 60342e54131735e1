import assert from "node:assert/strict";
import { AuthenticationError, RateLimitError, ServerError } from "./errors.ts";
import {
  abortableDelay,
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  type RetryAttempt,
  retryDelayFor,
  type RetryPolicy,
  withRetry,
} from "./retry.ts";

const noJitter: RetryPolicy = { ...DEFAULT_RETRY_POLICY, jitter: false };

Deno.test("retry: backoff doubles from the base delay and is capped", () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelayMs(n, noJitter)), [1000, 2000, 4000, 8000]);
  assert.equal(backoffDelayMs(10, noJitter), 60_000);
});

Deno.test("retry: jitter spreads the delay over x0.5..x1.5", () => {
  assert.equal(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0), 1000);
  assert.equal(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0.999999) < 3000, true);
  assert.equal(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0.5), 2000);
});

Deno.test("retry: Retry-After replaces the backoff, and one beyond maxDelay is not waited for", () => {
  const soon = new RateLimitError("429", { retryAfterSeconds: 3 });
  assert.equal(retryDelayFor(soon, 0, noJitter), 3000);
  const late = new RateLimitError("429", { retryAfterSeconds: 120 });
  assert.equal(retryDelayFor(late, 0, noJitter), undefined);
});

Deno.test("retry: non-retryable errors and spent budgets are not retried", () => {
  assert.equal(retryDelayFor(new AuthenticationError("401"), 0, noJitter), undefined);
  assert.equal(retryDelayFor(new ServerError("500"), 2, noJitter), undefined);
  assert.equal(retryDelayFor(new ServerError("500"), 1, noJitter), 2000);
});

Deno.test("retry: withRetry retries transient failures, then returns the success", async () => {
  const attempts: RetryAttempt[] = [];
  let calls = 0;
  const result = await withRetry(
    async () => {
      calls++;
      if (calls < 3) throw new ServerError(`boom ${calls}`);
      return "ok";
    },
    { ...noJitter, baseDelayMs: 1, onRetry: (a) => attempts.push(a) },
  );
  assert.equal(result, "ok");
  assert.equal(calls, 3);
  assert.deepEqual(attempts.map((a) => [a.attempt, a.delayMs, a.error.message]), [
    [0, 1, "boom 1"],
    [1, 2, "boom 2"],
  ]);
});

Deno.test("retry: withRetry rethrows the last failure when retries run out", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw new ServerError(`boom ${calls}`);
    }, { ...noJitter, baseDelayMs: 1, maxRetries: 2 }),
    (error: unknown) => error instanceof ServerError && error.message === "boom 3",
  );
  assert.equal(calls, 3);
});

Deno.test("retry: withRetry does not retry a non-retryable error", async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw new AuthenticationError("bad key");
    }, noJitter),
    { code: "auth" },
  );
  assert.equal(calls, 1);
});

Deno.test("retry: an abort during the backoff wait ends the call with code 'aborted'", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const pending = withRetry(
    async () => {
      queueMicrotask(() => controller.abort(new Error("user pressed ctrl-c")));
      throw new ServerError("500");
    },
    { ...noJitter, baseDelayMs: 30_000 },
    controller.signal,
  );
  await assert.rejects(pending, { code: "aborted" });
  assert.equal(Date.now() - started < 5_000, true);
});

Deno.test("retry: abortableDelay rejects at once for an already-aborted signal", async () => {
  await assert.rejects(abortableDelay(10, AbortSignal.abort()), { code: "aborted" });
});
