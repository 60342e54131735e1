/**
 * The unified model-layer data model: messages, tool definitions, requests,
 * responses and stream events, shared by every provider adapter. Plain data
 * (JSON-serialisable, except the error carried by an `error` stream event),
 * camelCase, after StrongDM's unified-llm-spec, trimmed to what a coding agent
 * loop needs (text, images, tool calls, reasoning, server-side tools; no audio
 * or documents yet). Parts a provider adds that we do not model are kept as
 * `provider` parts rather than dropped.
 *
 * @module
 */

import type { LlmError } from "./errors.ts";

/** Who produced a message. `developer` is merged into the system prompt where a provider lacks it. */
export type LlmRole = "system" | "developer" | "user" | "assistant" | "tool";

/** Any JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object, e.g. tool arguments or a JSON Schema. */
export type JsonObject = { [key: string]: JsonValue };

/** A model-initiated tool invocation. */
export interface ToolCall {
  /** Provider-assigned id; a tool result answers it by this id. */
  readonly callId: string;
  /** The tool's name. */
  readonly name: string;
  /**
   * Parsed arguments. `{}` when `rawArguments` is empty or is not a JSON
   * object; then `argumentsError` says why, so the loop can tell the model.
   */
  readonly arguments: JsonObject;
  /** The argument text exactly as the model produced it. */
  readonly rawArguments: string;
  /** Set when `rawArguments` could not be read as a JSON object. */
  readonly argumentsError?: string;
  /**
   * A provider signature bound to the call (Gemini's `thoughtSignature`),
   * sent back with it so the model keeps its reasoning across calls.
   */
  readonly signature?: string;
}

/** The outcome of running one tool call, sent back to the model. */
export interface ToolResult {
  /** The `ToolCall.id` this result answers. */
  readonly callId: string;
  /** The tool's output as text (structured output is JSON text). */
  readonly content: string;
  /** True when the tool failed; the model can then change course. */
  readonly isError: boolean;
  /** The tool's name; some wire formats want it beside the result. */
  readonly toolName?: string;
  /** Images the tool produced (a screenshot, a rendered chart), after `content`. */
  readonly images?: readonly ImageData[];
}

/**
 * An image: either inline bytes (`data`, base64, with `mediaType`) or a URL
 * the provider fetches itself. Exactly one of `data` and `url` is set.
 */
export interface ImageData {
  /** An http(s) URL (or a provider file URI, e.g. Gemini's `gs://`). */
  readonly url?: string;
  /** The image bytes, base64-encoded (no `data:` prefix). */
  readonly data?: string;
  /** The MIME type, e.g. "image/png"; required with `data`. */
  readonly mediaType?: string;
  /** How closely to look (OpenAI's `detail`); ignored where unsupported. */
  readonly detail?: "auto" | "low" | "high";
}

/**
 * A tool the provider ran on its side during the response (web search, web
 * fetch, code execution, an MCP server, image generation…). It is not for
 * the loop to run; it is kept so callers can read it and, for the provider
 * that produced it, so it can be sent back verbatim.
 */
export interface ServerToolCall {
  /** The provider's id for the call. */
  readonly callId: string;
  /** The tool, e.g. "web_search", "code_execution", "mcp:<server>/<tool>". */
  readonly name: string;
  /** What the tool was asked (query, code, arguments), as the provider gave it. */
  readonly input: JsonValue;
  /** The outcome, when the provider reports call and outcome as one item (OpenAI). */
  readonly output?: JsonValue;
  /** The provider's status word, e.g. "completed", "failed". */
  readonly status?: string;
  /** Provider that ran it. */
  readonly provider: string;
  /** The provider's item or block as received. */
  readonly raw: JsonObject;
}

/** The result of a server-side tool call, when the provider sends it apart (Anthropic). */
export interface ServerToolResult {
  /** The `ServerToolCall.id` this result answers. */
  readonly callId: string;
  /** The provider's result type, e.g. "web_search_tool_result". */
  readonly name: string;
  /** The result content as the provider gave it. */
  readonly content: JsonValue;
  /** True when the provider reported a failure (an `*_error` content). */
  readonly isError: boolean;
  /** Provider that produced it. */
  readonly provider: string;
  /** The provider's block as received. */
  readonly raw: JsonObject;
}

/** Model reasoning ("thinking"), kept so it can be sent back verbatim. */
export interface Thinking {
  /** The reasoning text; for redacted thinking, the opaque data. */
  readonly text: string;
  /** Provider signature (Anthropic) or encrypted content (OpenAI) needed to round-trip it. */
  readonly signature?: string;
  /** True for opaque, redacted reasoning that must be passed back unchanged. */
  readonly redacted?: boolean;
  /** Provider-assigned id of the reasoning item (OpenAI Responses). */
  readonly id?: string;
  /** Provider that produced it; signatures are only valid with that provider. */
  readonly provider?: string;
}

/** Plain text. */
export interface TextPart {
  /** Discriminator. */
  readonly kind: "text";
  /** The text. */
  readonly text: string;
}

/** A tool call made by the assistant. */
export interface ToolCallPart {
  /** Discriminator. */
  readonly kind: "tool_call";
  /** The call. */
  readonly toolCall: ToolCall;
}

/** A tool result, in a `tool` message. */
export interface ToolResultPart {
  /** Discriminator. */
  readonly kind: "tool_result";
  /** The result. */
  readonly toolResult: ToolResult;
}

/** Reasoning produced by the assistant. */
export interface ThinkingPart {
  /** Discriminator. */
  readonly kind: "thinking";
  /** The reasoning. */
  readonly thinking: Thinking;
}

/** An image, in a user message (or an assistant message, for image-generating models). */
export interface ImagePart {
  /** Discriminator. */
  readonly kind: "image";
  /** The image. */
  readonly image: ImageData;
}

/** A tool the provider ran itself. */
export interface ServerToolCallPart {
  /** Discriminator. */
  readonly kind: "server_tool_call";
  /** The call. */
  readonly serverToolCall: ServerToolCall;
}

/** The result of a tool the provider ran itself. */
export interface ServerToolResultPart {
  /** Discriminator. */
  readonly kind: "server_tool_result";
  /** The result. */
  readonly serverToolResult: ServerToolResult;
}

/**
 * Content of a type we do not model (a new block, item or part type), kept
 * verbatim so nothing a provider sent is lost; sent back only to the
 * provider that produced it, where its wire format allows.
 */
export interface ProviderPart {
  /** Discriminator. */
  readonly kind: "provider";
  /** Provider that produced it. */
  readonly provider: string;
  /** The provider's type name, e.g. "compaction". */
  readonly type: string;
  /** The provider's item or block as received (streamed deltas folded in). */
  readonly raw: JsonObject;
}

/** One piece of a message's content, tagged by `kind`. */
export type ContentPart =
  | TextPart
  | ImagePart
  | ToolCallPart
  | ToolResultPart
  | ThinkingPart
  | ServerToolCallPart
  | ServerToolResultPart
  | ProviderPart;

/** The kinds of content part. */
export type ContentKind = ContentPart["kind"];

/** One message of a conversation. */
export interface LlmMessage {
  /** Who produced it. */
  readonly role: LlmRole;
  /** Its content, in order. */
  readonly content: readonly ContentPart[];
}

/** A tool the model may call. */
export interface ToolDefinition {
  /** Unique name, `[a-zA-Z0-9_-]{1,64}` to suit every provider. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** JSON Schema (type "object") of the arguments. */
  readonly parameters: JsonObject;
}

/** Whether and how the model must use tools. */
export type ToolChoice =
  | { readonly mode: "auto" }
  | { readonly mode: "none" }
  | { readonly mode: "required" }
  | { readonly mode: "named"; readonly toolName: string };

/**
 * Ask for a JSON answer that matches a JSON Schema. Each adapter uses the
 * provider's native mode (OpenAI `text.format` / `response_format`, Gemini
 * `responseJsonSchema`) or, for Anthropic, a forced tool call.
 * `generateObject()` builds this from a zod schema and validates the answer.
 */
export interface ResponseFormat {
  /** Discriminator. */
  readonly type: "json_schema";
  /** A name for the schema, `[a-zA-Z0-9_-]{1,64}`. */
  readonly name: string;
  /** The JSON Schema of the answer (an object schema). */
  readonly schema: JsonObject;
  /** What the answer is, for the model. */
  readonly description?: string;
  /** Ask the provider to enforce the schema strictly where it can (OpenAI `strict`). */
  readonly strict?: boolean;
}

/** How hard a reasoning model should think. */
export type ReasoningEffort = "low" | "medium" | "high";

/** The single input of `complete()` and `stream()`. */
export interface LlmRequest {
  /** The provider's native model id. */
  readonly model: string;
  /** The conversation. */
  readonly messages: readonly LlmMessage[];
  /** Tools the model may call. */
  readonly tools?: readonly ToolDefinition[];
  /** Defaults to `auto` when tools are present. */
  readonly toolChoice?: ToolChoice;
  /** Omitted means the provider's default. */
  readonly reasoningEffort?: ReasoningEffort;
  /** Upper bound on generated tokens. */
  readonly maxTokens?: number;
  /** Sampling temperature. */
  readonly temperature?: number;
  /** Nucleus sampling. */
  readonly topP?: number;
  /** Strings that end generation. */
  readonly stopSequences?: readonly string[];
  /** Ask for a JSON answer matching a schema (see `generateObject`). */
  readonly responseFormat?: ResponseFormat;
  /** Arbitrary labels passed through where the provider supports them. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Provider-specific escape hatch, keyed by provider name, e.g.
   * `{ anthropic: { thinking: { type: "enabled", budget_tokens: 2048 } } }`.
   * Each adapter merges its own entry into the wire body and ignores the rest.
   */
  readonly providerOptions?: Readonly<Record<string, JsonObject>>;
}

/** Unified reasons a generation stopped. */
export type FinishReasonKind =
  | "stop"
  | "length"
  | "tool_calls"
  | "content_filter"
  | "error"
  | "other";

/** Why a generation stopped: the portable reason plus the provider's own word. */
export interface FinishReason {
  /** The unified reason. */
  readonly reason: FinishReasonKind;
  /** The provider's native value, e.g. "end_turn". */
  readonly raw?: string;
}

/** Token counts of one call. */
export interface Usage {
  /** Tokens in the prompt. */
  readonly inputTokens: number;
  /** Tokens generated (including reasoning tokens). */
  readonly outputTokens: number;
  /** inputTokens + outputTokens. */
  readonly totalTokens: number;
  /** Tokens spent on reasoning, when the provider reports them. */
  readonly reasoningTokens?: number;
  /** Prompt tokens served from the provider's cache. */
  readonly cacheReadTokens?: number;
  /** Prompt tokens written to the provider's cache. */
  readonly cacheWriteTokens?: number;
}

/** A non-fatal issue met while translating a request or response. */
export interface LlmWarning {
  /** Human-readable description. */
  readonly message: string;
  /** Machine-readable code. */
  readonly code?: string;
}

/** Rate-limit figures read from response headers; informational only. */
export interface RateLimitInfo {
  /** Requests left in the window. */
  readonly requestsRemaining?: number;
  /** Request limit of the window. */
  readonly requestsLimit?: number;
  /** Tokens left in the window. */
  readonly tokensRemaining?: number;
  /** Token limit of the window. */
  readonly tokensLimit?: number;
}

/** The result of one model call. */
export interface LlmResponse {
  /** Provider-assigned response id. */
  readonly id: string;
  /** The model that actually answered. */
  readonly model: string;
  /** The provider that answered ("openai", "anthropic", "gemini", "openai-compatible", "scripted"). */
  readonly provider: string;
  /** The assistant's message: text, tool calls and thinking, in order. */
  readonly message: LlmMessage;
  /** Why generation stopped. */
  readonly finishReason: FinishReason;
  /** Token counts. */
  readonly usage: Usage;
  /** Non-fatal issues. */
  readonly warnings: readonly LlmWarning[];
  /** Rate-limit headers, when present. */
  readonly rateLimit?: RateLimitInfo;
}

/** The stream has begun. */
export interface StreamStartEvent {
  /** Discriminator. */
  readonly type: "stream_start";
  /** Response id, when already known. */
  readonly id?: string;
  /** Model, when already known. */
  readonly model?: string;
}

/** A text segment has begun. */
export interface TextStartEvent {
  /** Discriminator. */
  readonly type: "text_start";
  /** Identifies the segment. */
  readonly textId: string;
}

/** More text for a segment. */
export interface TextDeltaEvent {
  /** Discriminator. */
  readonly type: "text_delta";
  /** Identifies the segment. */
  readonly textId: string;
  /** The new text. */
  readonly delta: string;
}

/** A text segment is complete. */
export interface TextEndEvent {
  /** Discriminator. */
  readonly type: "text_end";
  /** Identifies the segment. */
  readonly textId: string;
  /** The segment's full text. */
  readonly text: string;
}

/** A reasoning segment has begun. */
export interface ReasoningStartEvent {
  /** Discriminator. */
  readonly type: "reasoning_start";
  /** Identifies the segment. */
  readonly reasoningId: string;
}

/** More reasoning text. */
export interface ReasoningDeltaEvent {
  /** Discriminator. */
  readonly type: "reasoning_delta";
  /** Identifies the segment. */
  readonly reasoningId: string;
  /** The new reasoning text. */
  readonly delta: string;
}

/** A reasoning segment is complete. */
export interface ReasoningEndEvent {
  /** Discriminator. */
  readonly type: "reasoning_end";
  /** Identifies the segment. */
  readonly reasoningId: string;
  /** The full reasoning, with its signature. */
  readonly thinking: Thinking;
}

/**
 * A whole content part that arrives at once rather than as deltas: a
 * server-side tool call or result, an image, or a provider part of a type we
 * do not model. It takes its place in the response's content in stream order.
 */
export interface PartEvent {
  /** Discriminator. */
  readonly type: "part";
  /** The complete part. */
  readonly part: ContentPart;
}

/** A tool call has begun. */
export interface ToolCallStartEvent {
  /** Discriminator. */
  readonly type: "tool_call_start";
  /** The call's id. */
  readonly callId: string;
  /** The tool's name. */
  readonly name: string;
}

/** A fragment of a tool call's JSON arguments. */
export interface ToolCallDeltaEvent {
  /** Discriminator. */
  readonly type: "tool_call_delta";
  /** The call's id. */
  readonly callId: string;
  /** The new argument text (partial JSON). */
  readonly argumentsDelta: string;
}

/** A tool call is complete and ready to run. */
export interface ToolCallEndEvent {
  /** Discriminator. */
  readonly type: "tool_call_end";
  /** The complete call, arguments parsed. */
  readonly toolCall: ToolCall;
}

/** Generation finished; carries the whole accumulated response. */
export interface FinishEvent {
  /** Discriminator. */
  readonly type: "finish";
  /** Why it stopped. */
  readonly finishReason: FinishReason;
  /** Token counts. */
  readonly usage: Usage;
  /** The complete response, equal to what `complete()` would return. */
  readonly response: LlmResponse;
}

/** The stream failed; always the last event. */
export interface ErrorEvent {
  /** Discriminator. */
  readonly type: "error";
  /** What went wrong, typed. */
  readonly error: LlmError;
}

/** A provider event with no unified meaning, passed through. */
export interface ProviderEvent {
  /** Discriminator. */
  readonly type: "provider_event";
  /** The provider's event name. */
  readonly name: string;
  /** The provider's event data. */
  readonly raw: unknown;
}

/**
 * One event of a streamed generation. A stream ends with exactly one `finish`
 * or `error` event and never throws: failures (HTTP errors, broken
 * connections, aborts) arrive as the final `error` event.
 */
export type LlmStreamEvent =
  | StreamStartEvent
  | TextStartEvent
  | TextDeltaEvent
  | TextEndEvent
  | ReasoningStartEvent
  | ReasoningDeltaEvent
  | ReasoningEndEvent
  | ToolCallStartEvent
  | ToolCallDeltaEvent
  | ToolCallEndEvent
  | PartEvent
  | FinishEvent
  | ErrorEvent
  | ProviderEvent;

/** The kinds of stream event. */
export type LlmStreamEventType = LlmStreamEvent["type"];

/**
 * A model provider. `complete()` rejects with an `LlmError`; `stream()`
 * reports failures as its final `error` event. Both honour `signal`: an abort
 * ends the call with code "aborted".
 */
export interface LlmProvider {
  /** Provider name, e.g. "openai". */
  readonly name: string;
  /** Sends the request and resolves with the whole response. */
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse>;
  /** Sends the request and yields events as they arrive. */
  stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamEvent>;
}
