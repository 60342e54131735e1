/**
 * The HTTP seam shared by the adapters: reading keys from the environment,
 * POSTing JSON with fetch, and turning HTTP failures into typed errors.
 *
 * @module
 */

import { classifyError, type ErrorBodyFields, readErrorBody } from "./classify.ts";
import { ConfigurationError, InvalidResponseError, LlmError, NetworkError } from "./errors.ts";
import { abortedError } from "./retry.ts";
import type { RateLimitInfo } from "./types.ts";

/** The `fetch` signature adapters call; injectable for tests and proxies. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Reads an environment variable; a denied permission is a ConfigurationError naming it. */
export function readEnv(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  } catch (error) {
    throw new ConfigurationError(
      `cannot read environment variable ${name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** An explicit key, else the named variable, else a ConfigurationError naming the variable. */
export function requireApiKey(
  explicit: string | undefined,
  variable: string,
  provider: string,
): string {
  const key = explicit ?? readEnv(variable);
  if (key === undefined) {
    throw new ConfigurationError(
      `${provider}: no API key: set the ${variable} environment variable or pass apiKey`,
      { provider },
    );
  }
  return key;
}

/** Validates a base URL and strips trailing slashes, so paths can be appended. */
export function normalizeBaseUrl(baseUrl: string, provider: string, source: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigurationError(`${provider}: ${source} is not a valid URL: ${baseUrl}`, {
      provider,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigurationError(`${provider}: ${source} must be http(s): ${baseUrl}`, {
      provider,
    });
  }
  return baseUrl.replace(/\/+$/, "");
}

/** Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms) / 1000;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** Rate-limit figures from `x-ratelimit-*` (OpenAI) or `anthropic-ratelimit-*` headers. */
export function readRateLimit(headers: Headers): RateLimitInfo | undefined {
  const num = (...names: string[]) => {
    for (const name of names) {
      const value = headers.get(name);
      if (value !== null && /^\d+$/.test(value.trim())) return Number(value);
    }
    return undefined;
  };
  const info: Record<string, number> = {};
  const set = (key: string, value: number | undefined) => {
    if (value !== undefined) info[key] = value;
  };
  set(
    "requestsRemaining",
    num("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"),
  );
  set("requestsLimit", num("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"));
  set(
    "tokensRemaining",
    num("x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining"),
  );
  set("tokensLimit", num("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit"));
  return Object.keys(info).length === 0 ? undefined : info as RateLimitInfo;
}

/**
 * Builds the typed error for an error `code`/`message` a provider sent
 * inside a stream (or in a 200 body); see `classifyError`.
 */
export function errorFromProviderCode(
  provider: string,
  providerCode: string | undefined,
  message: string,
  raw?: unknown,
): LlmError {
  return classifyError({ provider, code: providerCode, message, inStream: true }, { raw });
}

/**
 * Builds the typed error for an error object a provider sent inside a stream
 * or a successful body, in any of the shapes `readErrorBody` knows.
 */
export function errorFromStreamBody(provider: string, raw: unknown, fallback = "error"): LlmError {
  const fields = readErrorBody(raw);
  return classifyError({
    provider,
    status: fields.status,
    code: fields.code,
    type: fields.type,
    message: fields.message ?? fallback,
    inStream: true,
  }, { raw });
}

/** Builds the typed error for a non-2xx HTTP response. */
export function errorFromHttp(
  provider: string,
  status: number,
  headers: Headers,
  bodyText: string,
): LlmError {
  let raw: unknown = bodyText;
  let fields: ErrorBodyFields = {};
  try {
    raw = JSON.parse(bodyText);
    fields = readErrorBody(raw);
  } catch {
    // not JSON: keep the text
  }
  return classifyError({
    provider,
    status,
    code: fields.code,
    type: fields.type,
    message: fields.message ?? (bodyText.trim().slice(0, 500) || `HTTP ${status}`),
  }, { raw, retryAfterSeconds: parseRetryAfter(headers) });
}

/** Turns whatever a fetch or body read threw into a typed error. */
export function errorFromFailure(error: unknown, provider: string, signal?: AbortSignal): LlmError {
  if (error instanceof LlmError) return error;
  if (signal?.aborted) return abortedError(signal, provider);
  return new NetworkError(
    `${provider}: connection failed: ${(error as Error)?.message ?? String(error)}`,
    { provider, cause: error },
  );
}

/**
 * POSTs `body` as JSON and resolves with the response when it is 2xx; any
 * other status becomes a typed error (its body read for the message).
 */
export async function postJson(
  fetchImpl: FetchLike,
  provider: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    throw errorFromFailure(error, provider, signal);
  }
  if (response.ok) return response;
  let text = "";
  try {
    // The message is in the first bytes; a hostile or broken server's endless
    // error page must not be read into memory.
    text = (await readTextUpTo(response, MAX_ERROR_BODY_BYTES)).text;
  } catch (error) {
    throw errorFromFailure(error, provider, signal);
  }
  throw errorFromHttp(provider, response.status, response.headers, text);
}

/** How much of an error body is read: its message is at the start. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The default largest non-streamed body and largest single stream event: 32 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 32 * 1024 * 1024;

/**
 * Reads at most `limit` bytes of a body as UTF-8; `truncated` says whether
 * more was there (the rest is cancelled, never read).
 */
export async function readTextUpTo(
  response: Response,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  let truncated = false;
  try {
    while (!truncated) {
      const { done, value } = await reader.read();
      if (done) break;
      truncated = size + value.length > limit;
      const piece = truncated ? value.subarray(0, limit - size) : value;
      size += piece.length;
      text += decoder.decode(piece, { stream: true });
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return { text: text + decoder.decode(), truncated };
}

/**
 * Reads a response body as JSON; unreadable JSON, or a body beyond `maxBytes`,
 * is an InvalidResponseError.
 */
export async function readJsonBody(
  response: Response,
  provider: string,
  signal?: AbortSignal,
  maxBytes: number = DEFAULT_MAX_EVENT_BYTES,
): Promise<unknown> {
  let text: string;
  try {
    const read = await readTextUpTo(response, maxBytes);
    if (read.truncated) {
      throw new InvalidResponseError(
        `${provider}: response body is larger than ${maxBytes} bytes (maxEventBytes)`,
        { provider },
      );
    }
    text = read.text;
  } catch (error) {
    throw errorFromFailure(error, provider, signal);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidResponseError(
      `${provider}: response body is not JSON: ${text.slice(0, 200)}`,
      { provider, cause: error },
    );
  }
}
