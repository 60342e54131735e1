import assert from "node:assert/strict";
import { errorFromHttp, parseRetryAfter, readRateLimit } from "./http.ts";

Deno.test("http: status codes map to typed, correctly retryable errors", () => {
  const cases: [number, string, boolean][] = [
    [400, "invalid_request", false],
    [401, "auth", false],
    [403, "access_denied", false],
    [404, "not_found", false],
    [408, "timeout", true],
    [413, "context_length", false],
    [422, "invalid_request", false],
    [429, "rate_limit", true],
    [402, "quota", false],
    [500, "server", true],
    [502, "server", true],
    [503, "overloaded", true],
    [529, "overloaded", true],
  ];
  for (const [status, code, retryable] of cases) {
    const error = errorFromHttp("p", status, new Headers(), "oops");
    assert.deepEqual([status, error.code, error.retryable], [status, code, retryable]);
    assert.match(error.message, new RegExp(`^p: HTTP ${status}: oops$`));
  }
});

Deno.test("http: a spent quota (429 insufficient_quota) is not retried", () => {
  const body = JSON.stringify({
    error: { message: "You exceeded your quota", code: "insufficient_quota" },
  });
  const error = errorFromHttp("openai", 429, new Headers(), body);
  assert.equal(error.code, "quota");
  assert.equal(error.retryable, false);
});

Deno.test("http: Retry-After is read from seconds, milliseconds or an HTTP date", () => {
  assert.equal(parseRetryAfter(new Headers({ "retry-after": "7" })), 7);
  assert.equal(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "1" })), 0.25);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(
    parseRetryAfter(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now),
    30,
  );
  assert.equal(parseRetryAfter(new Headers({ "retry-after": "soon" })), undefined);
  assert.equal(parseRetryAfter(new Headers()), undefined);
});

Deno.test("http: rate-limit headers of either provider are read", () => {
  assert.deepEqual(
    readRateLimit(
      new Headers({
        "anthropic-ratelimit-tokens-remaining": "900",
        "anthropic-ratelimit-tokens-limit": "1000",
      }),
    ),
    { tokensRemaining: 900, tokensLimit: 1000 },
  );
  assert.equal(readRateLimit(new Headers()), undefined);
});
