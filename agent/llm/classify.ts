/**
 * One classification of provider failures, for HTTP error responses and for
 * errors a provider sends inside a stream alike: the same provider code means
 * the same typed error whichever way it arrived. Rules are a table, read top
 * to bottom; the first that matches decides. Provider codes and types are more
 * specific than HTTP statuses, so they come first; message words come last
 * and only for the two cases providers never give a code for reliably
 * (context length, content filter).
 *
 * @module
 */

import {
  AccessDeniedError,
  AuthenticationError,
  ContentFilterError,
  ContextLengthError,
  InvalidRequestError,
  type LlmError,
  type LlmErrorCode,
  type LlmErrorDetails,
  ModelNotFoundError,
  OverloadedError,
  QuotaExceededError,
  RateLimitError,
  RequestTimeoutError,
  ServerError,
} from "./errors.ts";

/** What is known about one failure, from the status line and the error body. */
export interface ErrorSignals {
  /** Which provider failed. */
  readonly provider: string;
  /**
   * The HTTP status; for an in-stream error, a numeric `code`/`status` the
   * body carried (OpenRouter and Gemini put the HTTP status there).
   */
  readonly status?: number;
  /** The provider's error code, e.g. "insufficient_quota", "tool_use_failed". */
  readonly code?: string;
  /** The provider's error type or status word, e.g. "overloaded_error", "RESOURCE_EXHAUSTED". */
  readonly type?: string;
  /** The provider's message. */
  readonly message: string;
  /** True when the error arrived inside a stream that had begun. */
  readonly inStream?: boolean;
}

/** Builds the typed error of a rule. */
export type MakeError = (message: string, details: LlmErrorDetails) => LlmError;

/** One row of the classification table. */
export interface ErrorRule {
  /** Provider codes or types (lower-cased) that decide this rule. */
  readonly codes?: readonly string[];
  /** HTTP statuses that decide this rule. */
  readonly statuses?: readonly number[];
  /** Lower-cased words in the code, type or message that decide this rule. */
  readonly words?: readonly string[];
  /** The error built. */
  readonly make: MakeError;
  /** The code of that error (for the table's readers and tests). */
  readonly code: LlmErrorCode;
}

const quota: MakeError = (m, d) => new QuotaExceededError(m, d);
const rateLimit: MakeError = (m, d) => new RateLimitError(m, d);
const overloaded: MakeError = (m, d) => new OverloadedError(m, d);
const server: MakeError = (m, d) => new ServerError(m, d);
const auth: MakeError = (m, d) => new AuthenticationError(m, d);
const denied: MakeError = (m, d) => new AccessDeniedError(m, d);
const notFound: MakeError = (m, d) => new ModelNotFoundError(m, d);
// The provider timed out waiting (408, DEADLINE_EXCEEDED): retryable, as the
// spec's table says. Our own client-side deadline stays not retried (deadline.ts).
const timeout: MakeError = (m, d) => new RequestTimeoutError(m, { ...d, retryable: true });
const contextLength: MakeError = (m, d) => new ContextLengthError(m, d);
const contentFilter: MakeError = (m, d) => new ContentFilterError(m, d);
const invalid: MakeError = (m, d) => new InvalidRequestError(m, d);

/** Words that say the prompt does not fit, whatever code came with them. */
const CONTEXT_WORDS = [
  "context_length_exceeded",
  "context length",
  "context window",
  "maximum context",
  "prompt is too long",
  "input is too long",
  "too many tokens",
  "exceeds the maximum number of tokens",
  "input token count",
];

/**
 * The table. Codes first (most specific), then statuses, then words. Sources:
 * OpenAI (`error.code` / `error.type`), Anthropic (`error.type`), Gemini
 * (`error.status`, Google's canonical codes), OpenAI-compatible servers
 * (Groq `tool_use_failed`, OpenRouter numeric `code`).
 */
export const ERROR_RULES: readonly ErrorRule[] = [
  // A spent quota or credit is never transient, over HTTP or in a stream.
  {
    codes: ["insufficient_quota", "billing_hard_limit_reached", "billing_not_active"],
    code: "quota",
    make: quota,
  },
  // Anthropic says it with invalid_request_error, DeepSeek and OpenRouter with 402.
  {
    words: ["credit balance is too low", "insufficient balance", "insufficient credits"],
    code: "quota",
    make: quota,
  },
  {
    codes: ["context_length_exceeded", "string_above_max_length"],
    code: "context_length",
    make: contextLength,
  },
  { words: CONTEXT_WORDS, code: "context_length", make: contextLength },
  {
    codes: ["content_filter", "content_policy_violation", "safety"],
    code: "content_filter",
    make: contentFilter,
  },
  {
    codes: [
      "rate_limit_error",
      "rate_limit_exceeded",
      "rate_limit",
      "resource_exhausted",
      "too_many_requests",
    ],
    code: "rate_limit",
    make: rateLimit,
  },
  {
    codes: ["overloaded_error", "overloaded", "server_is_overloaded", "unavailable", "slow_down"],
    code: "overloaded",
    make: overloaded,
  },
  {
    codes: ["authentication_error", "invalid_api_key", "unauthenticated", "api_key_invalid"],
    code: "auth",
    make: auth,
  },
  { codes: ["permission_error", "permission_denied"], code: "access_denied", make: denied },
  { codes: ["not_found_error", "not_found", "model_not_found"], code: "not_found", make: notFound },
  { codes: ["deadline_exceeded", "timeout"], code: "timeout", make: timeout },
  {
    codes: [
      "invalid_request_error",
      "invalid_request",
      "invalid_argument",
      "failed_precondition",
      "tool_use_failed",
      "invalid_prompt",
      "request_too_large",
    ],
    code: "invalid_request",
    make: invalid,
  },
  {
    codes: ["api_error", "server_error", "internal", "internal_error", "internal_server_error"],
    code: "server",
    make: server,
  },
  { statuses: [401], code: "auth", make: auth },
  { statuses: [402], code: "quota", make: quota },
  { statuses: [403], code: "access_denied", make: denied },
  { statuses: [404], code: "not_found", make: notFound },
  { statuses: [408], code: "timeout", make: timeout },
  { statuses: [413], code: "context_length", make: contextLength },
  { statuses: [429], code: "rate_limit", make: rateLimit },
  { statuses: [503, 529], code: "overloaded", make: overloaded },
  { words: ["content_filter", "content filter"], code: "content_filter", make: contentFilter },
  { words: ["overloaded"], code: "overloaded", make: overloaded },
  { words: ["rate limit", "rate_limit"], code: "rate_limit", make: rateLimit },
];

function matches(rule: ErrorRule, signals: ErrorSignals, code: string, type: string, text: string) {
  if (rule.codes && (rule.codes.includes(code) || rule.codes.includes(type))) return true;
  if (rule.statuses && signals.status !== undefined && rule.statuses.includes(signals.status)) {
    return true;
  }
  return rule.words !== undefined && rule.words.some((word) => text.includes(word));
}

/**
 * The typed error for a failure. `details` (raw body, Retry-After) are
 * passed through. What no rule decides falls to the status class: 4xx is an
 * invalid request, 5xx and anything unknown in a stream a (retryable) server
 * error, as the unified spec advises.
 */
export function classifyError(
  signals: ErrorSignals,
  details: Omit<LlmErrorDetails, "provider" | "status" | "providerCode"> = {},
): LlmError {
  const code = (signals.code ?? "").toLowerCase();
  const type = (signals.type ?? "").toLowerCase();
  const text = `${code} ${type} ${signals.message}`.toLowerCase();
  const status = signals.status;
  const full: LlmErrorDetails = {
    ...details,
    provider: signals.provider,
    ...(status === undefined ? {} : { status }),
    providerCode: signals.code ?? signals.type,
  };
  const prefix = status !== undefined && !signals.inStream
    ? `${signals.provider}: HTTP ${status}: `
    : `${signals.provider}: `;
  const message = `${prefix}${signals.message}`;
  for (const rule of ERROR_RULES) {
    if (matches(rule, signals, code, type, text)) return rule.make(message, full);
  }
  if (status !== undefined && status >= 400 && status < 500) return invalid(message, full);
  return server(message, full);
}

/** The parts of an error body that classify it. */
export interface ErrorBodyFields {
  /** The message. */
  readonly message?: string;
  /** The string code (OpenAI `code`, Groq `code`). */
  readonly code?: string;
  /** The type or status word (OpenAI/Anthropic `type`, Gemini `status`). */
  readonly type?: string;
  /** A numeric code or status in the body (Gemini `code`, OpenRouter `code`). */
  readonly status?: number;
}

/**
 * Reads an error body in any of the shapes providers use: OpenAI
 * `{error:{message,type,code}}`, Anthropic `{type:"error",error:{type,message}}`,
 * Gemini `{error:{code,message,status}}` (also wrapped in an array), Ollama
 * `{error:"…"}`, or an in-stream chunk that is the error object itself.
 */
export function readErrorBody(raw: unknown): ErrorBodyFields {
  let body = Array.isArray(raw) ? raw[0] : raw;
  if (body === null || typeof body !== "object") return {};
  const outer = body as Record<string, unknown>;
  if (typeof outer.error === "string") return { message: outer.error };
  if (outer.error !== null && typeof outer.error === "object") body = outer.error;
  const e = body as Record<string, unknown>;
  const fields: {
    message?: string;
    code?: string;
    type?: string;
    status?: number;
  } = {};
  if (typeof e.message === "string") fields.message = e.message;
  if (typeof e.code === "string" && e.code !== "") fields.code = e.code;
  if (typeof e.code === "number") fields.status = e.code;
  if (typeof e.type === "string" && e.type !== "error") fields.type = e.type;
  if (typeof e.status === "string") fields.type ??= e.status;
  if (typeof e.status === "number") fields.status ??= e.status;
  // Gemini puts the decisive reason (API_KEY_INVALID) in details[].reason.
  if (Array.isArray(e.details)) {
    for (const detail of e.details) {
      const reason = (detail as Record<string, unknown> | null)?.reason;
      if (typeof reason === "string" && fields.code === undefined) fields.code = reason;
    }
  }
  return fields;
}
