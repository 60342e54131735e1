import assert from "node:assert/strict";
import { classifyError, readErrorBody } from "./classify.ts";
import { errorFromHttp, errorFromStreamBody } from "./http.ts";

/**
 * Each row: a body as the provider documents it, the HTTP status it came
 * with (undefined: inside a stream), and the code and retryability we give.
 */
const table: [string, number | undefined, unknown, string, boolean][] = [
  // OpenAI
  [
    "openai quota over HTTP",
    429,
    {
      error: {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        code: "insufficient_quota",
      },
    },
    "quota",
    false,
  ],
  [
    "openai quota in a stream (response.failed error)",
    undefined,
    {
      code: "insufficient_quota",
      message: "You exceeded your current quota.",
    },
    "quota",
    false,
  ],
  [
    "openai rate limit",
    429,
    {
      error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" },
    },
    "rate_limit",
    true,
  ],
  [
    "openai context length",
    400,
    {
      error: {
        message: "This model's maximum context length is 128000 tokens.",
        type: "invalid_request_error",
        code: "context_length_exceeded",
      },
    },
    "context_length",
    false,
  ],
  [
    "openai server_error in a stream",
    undefined,
    {
      code: "server_error",
      message: "The server had an error while processing your request.",
    },
    "server",
    true,
  ],
  [
    "openai bad key",
    401,
    {
      error: {
        message: "Incorrect API key provided",
        type: "invalid_request_error",
        code: "invalid_api_key",
      },
    },
    "auth",
    false,
  ],
  [
    "openai unknown model",
    404,
    {
      error: { message: "The model `x` does not exist", code: "model_not_found" },
    },
    "not_found",
    false,
  ],
  // Anthropic
  [
    "anthropic overloaded (529)",
    529,
    {
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    },
    "overloaded",
    true,
  ],
  [
    "anthropic overloaded in a stream",
    undefined,
    {
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    },
    "overloaded",
    true,
  ],
  [
    "anthropic prompt too long",
    400,
    {
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "prompt is too long: 210000 tokens > 200000 maximum",
      },
    },
    "context_length",
    false,
  ],
  [
    "anthropic api_error in a stream",
    undefined,
    {
      type: "error",
      error: { type: "api_error", message: "Internal server error" },
    },
    "server",
    true,
  ],
  [
    "anthropic permission",
    403,
    {
      type: "error",
      error: { type: "permission_error", message: "no access" },
    },
    "access_denied",
    false,
  ],
  [
    "anthropic request too large",
    413,
    {
      type: "error",
      error: {
        type: "request_too_large",
        message: "Request exceeds the maximum allowed number of bytes.",
      },
    },
    "invalid_request",
    false,
  ],
  // Gemini
  [
    "gemini bad key",
    400,
    {
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
        }],
      },
    },
    "auth",
    false,
  ],
  [
    "gemini quota per minute",
    429,
    {
      error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
    },
    "rate_limit",
    true,
  ],
  [
    "gemini overloaded",
    503,
    {
      error: {
        code: 503,
        message: "The model is overloaded. Please try again later.",
        status: "UNAVAILABLE",
      },
    },
    "overloaded",
    true,
  ],
  [
    "gemini input too long",
    400,
    {
      error: {
        code: 400,
        message:
          "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        status: "INVALID_ARGUMENT",
      },
    },
    "context_length",
    false,
  ],
  [
    "gemini error array (non-SSE stream body)",
    500,
    [{
      error: { code: 500, message: "An internal error has occurred.", status: "INTERNAL" },
    }],
    "server",
    true,
  ],
  // OpenAI-compatible servers
  [
    "groq tool_use_failed, HTTP 400",
    400,
    {
      error: {
        message: "Failed to call a function. Please adjust your prompt.",
        type: "invalid_request_error",
        code: "tool_use_failed",
        failed_generation: "<function=shell>",
      },
    },
    "invalid_request",
    false,
  ],
  [
    "groq tool_use_failed in a stream",
    undefined,
    {
      error: {
        message: "Failed to call a function.",
        type: "invalid_request_error",
        code: "tool_use_failed",
      },
    },
    "invalid_request",
    false,
  ],
  [
    "numeric code 400 in a stream (OpenRouter)",
    undefined,
    {
      error: { message: "Token limit reached", code: 400 },
    },
    "invalid_request",
    false,
  ],
  [
    "numeric code 429 in a stream",
    undefined,
    {
      error: { message: "Provider returned error", code: 429 },
    },
    "rate_limit",
    true,
  ],
  [
    "numeric code 502 in a stream",
    undefined,
    {
      error: { message: "Upstream error", code: 502 },
    },
    "server",
    true,
  ],
  ["ollama plain string", 500, { error: "model runner has unexpectedly stopped" }, "server", true],
  ["unknown in-stream error", undefined, { error: { message: "something odd" } }, "server", true],
  ["unknown 4xx", 418, { error: { message: "teapot" } }, "invalid_request", false],
];

for (const [name, status, body, code, retryable] of table) {
  Deno.test(`classify: ${name} is ${code}${retryable ? " (retryable)" : ""}`, () => {
    const error = status === undefined
      ? errorFromStreamBody("p", body)
      : errorFromHttp("p", status, new Headers(), JSON.stringify(body));
    assert.deepEqual([error.code, error.retryable], [code, retryable], error.message);
    assert.deepEqual(error.raw, body);
  });
}

Deno.test("classify: the same provider code gives the same error over HTTP and in a stream", () => {
  for (
    const type of ["overloaded_error", "rate_limit_error", "api_error", "invalid_request_error"]
  ) {
    const body = { type: "error", error: { type, message: "m" } };
    const overHttp = errorFromHttp("p", 400, new Headers(), JSON.stringify(body));
    const inStream = errorFromStreamBody("p", body);
    if (type === "invalid_request_error") assert.equal(overHttp.code, inStream.code);
    else assert.equal(inStream.code, classifyError({ provider: "p", type, message: "m" }).code);
  }
});

Deno.test("classify: messages name the provider and, over HTTP, the status", () => {
  const error = errorFromHttp("anthropic", 429, new Headers({ "retry-after": "3" }), "{}");
  assert.match(error.message, /^anthropic: HTTP 429: /);
  assert.equal(error.retryAfterSeconds, 3);
  assert.equal(
    errorFromStreamBody("openai", { code: "x", message: "boom" }).message,
    "openai: boom",
  );
});

Deno.test("classify: readErrorBody reads every documented shape", () => {
  assert.deepEqual(readErrorBody({ error: "plain" }), { message: "plain" });
  assert.deepEqual(readErrorBody({ error: { message: "m", code: 400 } }), {
    message: "m",
    status: 400,
  });
  assert.deepEqual(
    readErrorBody([{ error: { code: 503, message: "m", status: "UNAVAILABLE" } }]),
    { message: "m", status: 503, type: "UNAVAILABLE" },
  );
  assert.deepEqual(readErrorBody("not an object"), {});
});
