/**
 * Typed errors of the model layer. Every adapter maps what went wrong to one
 * of these, so the agent loop can branch on `error.code` (retry, compact the
 * context, give up) whatever provider it talks to.
 *
 * @module
 */

/** The machine-readable codes of model-layer errors. */
export type LlmErrorCode =
  | "auth"
  | "access_denied"
  | "not_found"
  | "rate_limit"
  | "quota"
  | "server"
  | "overloaded"
  | "invalid_request"
  | "context_length"
  | "content_filter"
  | "network"
  | "timeout"
  | "aborted"
  | "configuration"
  | "invalid_response"
  | "invalid_output";

/** Details a provider gave about a failure; all optional. */
export interface LlmErrorDetails {
  /** Which provider failed ("openai", "anthropic", ...). */
  readonly provider?: string;
  /** HTTP status, when the failure was an HTTP response. */
  readonly status?: number;
  /** The provider's own error code or type, e.g. "rate_limit_error". */
  readonly providerCode?: string;
  /** Seconds the provider asked us to wait (Retry-After). */
  readonly retryAfterSeconds?: number;
  /** Overrides the default retryability of the code. */
  readonly retryable?: boolean;
  /** The raw error body, for debugging. */
  readonly raw?: unknown;
  /** The underlying error. */
  readonly cause?: unknown;
}

/** Codes that may succeed when the same request is sent again. */
const RETRYABLE_CODES: ReadonlySet<LlmErrorCode> = new Set<LlmErrorCode>([
  "rate_limit",
  "server",
  "overloaded",
  "network",
]);

/** Base class of every error the model layer throws or reports on purpose. */
export class LlmError extends Error {
  /** Stable, machine-readable code. */
  readonly code: LlmErrorCode;
  /** Which provider failed, if known. */
  readonly provider?: string;
  /** HTTP status, if the failure was an HTTP response. */
  readonly status?: number;
  /** The provider's own error code or type. */
  readonly providerCode?: string;
  /** Seconds the provider asked us to wait before retrying. */
  readonly retryAfterSeconds?: number;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  /** The raw error body from the provider, if any. */
  readonly raw?: unknown;

  /** Creates an error with a code and a message that names what was wrong. */
  constructor(code: LlmErrorCode, message: string, details: LlmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.name = "LlmError";
    this.provider = details.provider;
    this.status = details.status;
    this.providerCode = details.providerCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.retryable = details.retryable ?? RETRYABLE_CODES.has(code);
    this.raw = details.raw;
  }
}

/** The API key was rejected (401), or is missing from the environment. */
export class AuthenticationError extends LlmError {
  /** Creates an auth error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("auth", message, details);
    this.name = "AuthenticationError";
  }
}

/** The key is valid but may not do this (403). */
export class AccessDeniedError extends LlmError {
  /** Creates an access-denied error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("access_denied", message, details);
    this.name = "AccessDeniedError";
  }
}

/** The model or endpoint does not exist (404). */
export class ModelNotFoundError extends LlmError {
  /** Creates a not-found error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("not_found", message, details);
    this.name = "ModelNotFoundError";
  }
}

/** Too many requests (429); retryable, honouring `retryAfterSeconds`. */
export class RateLimitError extends LlmError {
  /** Creates a rate-limit error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("rate_limit", message, details);
    this.name = "RateLimitError";
  }
}

/**
 * The account's quota or credit is spent (OpenAI `insufficient_quota`, a
 * billing limit). Not retryable: waiting will not help, paying will.
 */
export class QuotaExceededError extends LlmError {
  /** Creates a quota error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("quota", message, details);
    this.name = "QuotaExceededError";
  }
}

/** The provider is overloaded (Anthropic 529 `overloaded_error`, 503); retryable. */
export class OverloadedError extends LlmError {
  /** Creates an overloaded error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("overloaded", message, details);
    this.name = "OverloadedError";
  }
}

/** The provider failed internally (5xx, or an unknown in-stream error); retryable. */
export class ServerError extends LlmError {
  /** Creates a server error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("server", message, details);
    this.name = "ServerError";
  }
}

/** The provider rejected the request as malformed (400, 422). */
export class InvalidRequestError extends LlmError {
  /** Creates an invalid-request error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("invalid_request", message, details);
    this.name = "InvalidRequestError";
  }
}

/** The conversation does not fit the model's context window. */
export class ContextLengthError extends LlmError {
  /** Creates a context-length error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("context_length", message, details);
    this.name = "ContextLengthError";
  }
}

/** The provider blocked the request or response with a safety filter. */
export class ContentFilterError extends LlmError {
  /** Creates a content-filter error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("content_filter", message, details);
    this.name = "ContentFilterError";
  }
}

/** The connection failed or broke before a complete answer arrived; retryable. */
export class NetworkError extends LlmError {
  /** Creates a network error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("network", message, details);
    this.name = "NetworkError";
  }
}

/** The provider took too long (408, or a client-side deadline). */
export class RequestTimeoutError extends LlmError {
  /** Creates a timeout error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("timeout", message, details);
    this.name = "RequestTimeoutError";
  }
}

/** The caller cancelled the request through its AbortSignal. */
export class AbortedError extends LlmError {
  /** Creates an aborted error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("aborted", message, details);
    this.name = "AbortedError";
  }
}

/** The layer is misconfigured: a missing API key variable, a bad base URL, an unusable request. */
export class ConfigurationError extends LlmError {
  /** Creates a configuration error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("configuration", message, details);
    this.name = "ConfigurationError";
  }
}

/** The provider answered with something we cannot read (bad JSON, unknown shape). */
export class InvalidResponseError extends LlmError {
  /** Creates an invalid-response error. */
  constructor(message: string, details: LlmErrorDetails = {}) {
    super("invalid_response", message, details);
    this.name = "InvalidResponseError";
  }
}

/** One field of a structured answer that did not match its schema. */
export interface OutputIssue {
  /** Where in the answer, e.g. `["items", 2, "price"]` (zod's issue path). */
  readonly path: readonly (string | number)[];
  /** What was wrong there. */
  readonly message: string;
}

/**
 * A structured answer (`generateObject`) was not JSON or did not match its
 * schema. `issues` name each field that was wrong; `text` is what the model
 * wrote, so a caller can show it or ask again.
 */
export class StructuredOutputError extends LlmError {
  /** Each mismatch, with the path of the field. */
  readonly issues: readonly OutputIssue[];
  /** The model's answer as text. */
  readonly text: string;

  /** Creates a structured-output error. */
  constructor(
    message: string,
    issues: readonly OutputIssue[],
    text: string,
    details: LlmErrorDetails = {},
  ) {
    super("invalid_output", message, details);
    this.name = "StructuredOutputError";
    this.issues = issues;
    this.text = text;
  }
}
