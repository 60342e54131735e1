/**
 * Adapter for the Anthropic Messages API (`POST /v1/messages`): system and
 * developer text go to `system`, tool results travel as `tool_result` blocks
 * in user messages, consecutive same-role messages are merged (the API wants
 * strict alternation), and thinking blocks round-trip with their signatures.
 *
 * @module
 */

import { OpenOtherBlock, otherBlockToPart, otherPartToBlock } from "./anthropic_blocks.ts";
import { ConfigurationError, InvalidResponseError } from "./errors.ts";
import {
  errorFromStreamBody,
  normalizeBaseUrl,
  readEnv,
  readRateLimit,
  requireApiKey,
} from "./http.ts";
import {
  HttpLlmProvider,
  type HttpProviderOptions,
  type StreamTranslator,
  type TranslatedEvent,
  type WireFormat,
} from "./http_provider.ts";
import { makeUsage, toolCallFromObject, toolCallFromRaw, toolCallFromValue } from "./messages.ts";
import type { SseEvent } from "./sse.ts";
import type {
  ContentPart,
  FinishReason,
  ImageData,
  JsonObject,
  JsonValue,
  LlmRequest,
  LlmResponse,
  ReasoningEffort,
  Thinking,
  Usage,
} from "./types.ts";
import {
  imageSource,
  type Loose,
  num,
  obj,
  providerOptionsFor,
  responseObject,
  sseJsonOrSkip,
  str,
  systemText,
} from "./wire_util.ts";

const PROVIDER = "anthropic";

/** The `anthropic-version` header value this adapter speaks. */
export const ANTHROPIC_VERSION = "2023-06-01";

/** max_tokens when the request sets none (the API requires one). */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets used when a request sets `reasoningEffort`. */
export const ANTHROPIC_THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  low: 2048,
  medium: 8192,
  high: 24576,
};

/** Options of the Anthropic adapter. */
export interface AnthropicOptions extends HttpProviderOptions {
  /** API key; defaults to the ANTHROPIC_API_KEY environment variable. */
  readonly apiKey?: string;
  /** Base URL up to and including `/v1`; defaults to ANTHROPIC_BASE_URL or https://api.anthropic.com/v1. */
  readonly baseUrl?: string;
  /**
   * Mark the tools, the system prompt and the end of the conversation as
   * prompt-cache breakpoints (default true), so each model call of an agent loop
   * re-reads the previous call's prefix from Anthropic's cache.
   */
  readonly promptCaching?: boolean;
}

/**
 * Creates a provider for the Anthropic Messages API. Throws a
 * ConfigurationError naming ANTHROPIC_API_KEY when no key is available.
 */
export function createAnthropicProvider(options: AnthropicOptions = {}): HttpLlmProvider {
  const apiKey = requireApiKey(options.apiKey, "ANTHROPIC_API_KEY", PROVIDER);
  const explicit = options.baseUrl ?? readEnv("ANTHROPIC_BASE_URL");
  const baseUrl = normalizeBaseUrl(
    explicit ?? "https://api.anthropic.com/v1",
    PROVIDER,
    options.baseUrl ? "baseUrl" : "ANTHROPIC_BASE_URL",
  );
  return new HttpLlmProvider(
    anthropicWire(`${baseUrl}/messages`, apiKey, { promptCaching: options.promptCaching ?? true }),
    options,
  );
}

/** How the Messages body is built. */
export interface MessagesBodyOptions {
  /** Add prompt-cache breakpoints (tools, system, end of conversation). */
  readonly promptCaching?: boolean;
}

/** The Messages wire format, for a given URL and key. */
export function anthropicWire(
  url: string,
  apiKey: string,
  bodyOptions: MessagesBodyOptions = {},
): WireFormat {
  return {
    provider: PROVIDER,
    url,
    headers: (request) => {
      const headers: Record<string, string> = {
        "x-api-key": apiKey,
        "anthropic-version": ANTHROPIC_VERSION,
      };
      const betas = request.providerOptions?.[PROVIDER]?.beta_headers;
      if (Array.isArray(betas) && betas.length > 0) headers["anthropic-beta"] = betas.join(",");
      return headers;
    },
    body: (request, stream) => buildMessagesBody(request, stream, bodyOptions),
    parseResponse: (json, responseHeaders) => {
      const response = parseMessagesResponse(json);
      const rateLimit = readRateLimit(responseHeaders);
      return rateLimit ? { ...response, rateLimit } : response;
    },
    translator: () => new MessagesStreamTranslator(),
  };
}

/** Anthropic's image block: inline base64 or a URL it fetches. */
function imageBlock(image: ImageData): JsonObject {
  const url = imageSource(image, PROVIDER);
  if (image.data !== undefined) {
    return {
      type: "image",
      source: { type: "base64", media_type: image.mediaType!, data: image.data },
    };
  }
  return { type: "image", source: { type: "url", url } };
}

function partToBlock(part: ContentPart): JsonValue | undefined {
  switch (part.kind) {
    case "text":
      return part.text === "" ? undefined : { type: "text", text: part.text };
    case "image":
      return imageBlock(part.image);
    case "tool_call":
      return {
        type: "tool_use",
        id: part.toolCall.callId,
        name: part.toolCall.name,
        input: part.toolCall.arguments,
      };
    case "tool_result": {
      const images = part.toolResult.images ?? [];
      // With images the content is a block list: the text first, then each image.
      const content: JsonValue = images.length === 0 ? part.toolResult.content : [
        ...(part.toolResult.content === ""
          ? []
          : [{ type: "text", text: part.toolResult.content }]),
        ...images.map(imageBlock),
      ];
      return {
        type: "tool_result",
        tool_use_id: part.toolResult.callId,
        content,
        ...(part.toolResult.isError ? { is_error: true } : {}),
      };
    }
    case "thinking":
      return thinkingBlock(part.thinking);
    default:
      return otherPartToBlock(part);
  }
}

/** Thinking goes back verbatim only when it is Anthropic's own and signed; else it is dropped. */
function thinkingBlock(thinking: Thinking): JsonValue | undefined {
  if (thinking.provider !== undefined && thinking.provider !== PROVIDER) return undefined;
  if (thinking.redacted) return { type: "redacted_thinking", data: thinking.text };
  if (thinking.signature === undefined) return undefined;
  return { type: "thinking", thinking: thinking.text, signature: thinking.signature };
}

const EPHEMERAL: JsonObject = { type: "ephemeral" };

const CACHEABLE_BLOCKS = new Set(["text", "image", "tool_use", "tool_result", "document"]);

/**
 * Puts a cache breakpoint on the conversation's last block that may carry
 * one (thinking blocks may not), so the next call reads this prefix from cache.
 */
function markLastCacheable(messages: { content: JsonValue[] }[]): void {
  for (let m = messages.length - 1; m >= 0; m--) {
    const content = messages[m].content;
    for (let b = content.length - 1; b >= 0; b--) {
      const block = content[b] as JsonObject;
      // Only block types known to take a breakpoint: not thinking, nor blocks
      // sent back verbatim (server tools, compaction, types we do not know).
      if (!CACHEABLE_BLOCKS.has(String(block.type))) continue;
      content[b] = { ...block, cache_control: EPHEMERAL };
      return;
    }
  }
}

/** Builds the JSON body of a Messages API request. */
export function buildMessagesBody(
  request: LlmRequest,
  stream: boolean,
  bodyOptions: MessagesBodyOptions = {},
): JsonObject {
  const messages: { role: "user" | "assistant"; content: JsonValue[] }[] = [];
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const blocks: JsonValue[] = [];
    for (const part of message.content) {
      const block = partToBlock(part);
      if (block !== undefined) blocks.push(block);
    }
    if (blocks.length === 0) continue; // the API rejects empty messages
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  const caching = bodyOptions.promptCaching ?? false;
  const body: JsonObject = { model: request.model };
  const system = systemText(request);
  if (system !== undefined) {
    body.system = caching ? [{ type: "text", text: system, cache_control: EPHEMERAL }] : system;
  }
  if (caching) markLastCacheable(messages);
  body.messages = messages;
  const choice = request.toolChoice ?? { mode: "auto" };
  // Anthropic has no "none" choice: the tools are left out instead.
  if (request.tools && request.tools.length > 0 && choice.mode !== "none") {
    const tools: JsonObject[] = request.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.parameters,
    }));
    if (caching) tools[tools.length - 1] = { ...tools.at(-1)!, cache_control: EPHEMERAL };
    body.tools = tools;
    body.tool_choice = choice.mode === "named"
      ? { type: "tool", name: choice.toolName }
      : { type: choice.mode === "required" ? "any" : "auto" };
  }
  const options = providerOptionsFor(request, PROVIDER, ["beta_headers"]);
  const format = request.responseFormat;
  if (format !== undefined) {
    // Anthropic has no JSON mode: the answer is the input of a tool the model must call.
    const tools = (body.tools as JsonObject[] | undefined) ?? [];
    body.tools = [...tools, {
      name: format.name,
      description: format.description ?? "Give the answer as this tool's input.",
      input_schema: format.schema,
    }];
    // Extended thinking refuses a forced tool; the model is then only asked to use it.
    const thinking = request.reasoningEffort !== undefined || options.thinking !== undefined;
    body.tool_choice = thinking ? { type: "auto" } : { type: "tool", name: format.name };
  }
  let maxTokens = request.maxTokens;
  if (request.reasoningEffort && options.thinking === undefined) {
    const budget = ANTHROPIC_THINKING_BUDGETS[request.reasoningEffort];
    if (maxTokens !== undefined && maxTokens <= budget) {
      throw new ConfigurationError(
        `anthropic: reasoningEffort "${request.reasoningEffort}" needs a thinking budget of ${budget} tokens, so maxTokens must exceed ${budget} (got ${maxTokens})`,
        { provider: PROVIDER },
      );
    }
    body.thinking = { type: "enabled", budget_tokens: budget };
    maxTokens ??= budget + ANTHROPIC_DEFAULT_MAX_TOKENS;
  }
  body.max_tokens = maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences && request.stopSequences.length > 0) {
    body.stop_sequences = [...request.stopSequences];
  }
  if (request.metadata?.user_id) body.metadata = { user_id: request.metadata.user_id };
  if (stream) body.stream = true;
  return { ...body, ...options };
}

const STOP_REASONS: Record<string, FinishReason["reason"]> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

function finishReasonOf(stopReason: string | undefined): FinishReason {
  if (stopReason === undefined) return { reason: "other" };
  return { reason: STOP_REASONS[stopReason] ?? "other", raw: stopReason };
}

/** Reasoning tokens are not reported; the spec asks for an estimate (about 4 characters a token). */
function estimateReasoningTokens(content: readonly ContentPart[]): number | undefined {
  let chars = 0;
  let seen = false;
  for (const part of content) {
    if (part.kind === "thinking" && !part.thinking.redacted) {
      seen = true;
      chars += part.thinking.text.length;
    }
  }
  return seen ? Math.ceil(chars / 4) : undefined;
}

/**
 * Anthropic's `input_tokens` leaves out cached prompt tokens; we add them
 * back so `inputTokens` is the whole prompt, as with the other providers.
 */
function readUsage(raw: Loose, content: readonly ContentPart[]): Usage {
  const cacheRead = num(raw.cache_read_input_tokens);
  const cacheWrite = num(raw.cache_creation_input_tokens);
  const input = (num(raw.input_tokens) ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0);
  return makeUsage(input, num(raw.output_tokens) ?? 0, {
    reasoningTokens: estimateReasoningTokens(content),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  });
}

function blockToPart(block: Loose): ContentPart | undefined {
  switch (block.type) {
    case "text":
      return str(block.text) ? { kind: "text", text: str(block.text)! } : undefined;
    case "tool_use":
      return {
        kind: "tool_call",
        toolCall: toolCallFromValue(str(block.id) ?? "", str(block.name) ?? "", block.input),
      };
    case "thinking":
      return {
        kind: "thinking",
        thinking: {
          text: str(block.thinking) ?? "",
          ...(str(block.signature) === undefined ? {} : { signature: str(block.signature) }),
          provider: PROVIDER,
        },
      };
    case "redacted_thinking":
      return {
        kind: "thinking",
        thinking: { text: str(block.data) ?? "", redacted: true, provider: PROVIDER },
      };
    default:
      return otherBlockToPart(block);
  }
}

/** Reads a Messages API response into the unified response. */
export function parseMessagesResponse(json: unknown): LlmResponse {
  const response = responseObject(PROVIDER, json);
  if (response.type === "error") throw errorFromStreamBody(PROVIDER, json);
  if (!Array.isArray(response.content)) {
    throw new InvalidResponseError("anthropic: response has no content array", {
      provider: PROVIDER,
      raw: json,
    });
  }
  const content: ContentPart[] = [];
  for (const block of response.content) {
    const part = blockToPart(obj(block));
    if (part) content.push(part);
  }
  return {
    id: str(response.id) ?? "",
    model: str(response.model) ?? "",
    provider: PROVIDER,
    message: { role: "assistant", content },
    finishReason: finishReasonOf(str(response.stop_reason)),
    usage: readUsage(obj(response.usage), content),
    warnings: [],
  };
}

/** The stream event names of the Messages API; their data must be JSON. */
const ANTHROPIC_EVENTS = new Set([
  "message_start",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
  "message_stop",
  "ping",
  "error",
]);

const isAnthropicEvent = (name: string): boolean => ANTHROPIC_EVENTS.has(name);

type OpenBlock =
  | { kind: "text"; id: string; text: string }
  | { kind: "tool"; id: string; name: string; json: string; initial: Loose }
  | { kind: "thinking"; id: string; text: string; signature?: string; redacted: boolean }
  | { kind: "other"; open: OpenOtherBlock };

/** Translates Messages API stream events into unified events. */
class MessagesStreamTranslator implements StreamTranslator {
  readonly #blocks = new Map<number, OpenBlock>();
  readonly #thinkingChars = { seen: false, count: 0 };
  #usage: Loose = {};
  #stopReason: string | undefined;
  #messageId = "";
  #started = false;

  push(event: SseEvent): TranslatedEvent[] {
    const data = sseJsonOrSkip(PROVIDER, event, isAnthropicEvent);
    if (data === undefined) return [{ type: "provider_event", name: event.event, raw: event.data }];
    const type = str(data.type) ?? event.event;
    switch (type) {
      case "message_start": {
        const message = obj(data.message);
        this.#started = true;
        this.#messageId = str(message.id) ?? "";
        this.#usage = { ...obj(message.usage) };
        return [{ type: "stream_start", id: str(message.id), model: str(message.model) }];
      }
      case "content_block_start":
        return this.#blockStart(num(data.index) ?? 0, obj(data.content_block));
      case "content_block_delta":
        return this.#blockDelta(num(data.index) ?? 0, obj(data.delta));
      case "content_block_stop":
        return this.#blockStop(num(data.index) ?? 0);
      case "message_delta": {
        const stop = str(obj(data.delta).stop_reason);
        if (stop !== undefined) this.#stopReason = stop;
        // message_delta usage counts are cumulative: they replace earlier ones.
        for (const [key, value] of Object.entries(obj(data.usage))) {
          if (typeof value === "number") this.#usage[key] = value;
        }
        return [];
      }
      case "message_stop": {
        // A stop for a message that never started is no answer, not an empty one.
        if (!this.#started) {
          throw new InvalidResponseError(`${PROVIDER}: message_stop before message_start`, {
            provider: PROVIDER,
          });
        }
        const usage = readUsage(this.#usage, []);
        const reasoningTokens = this.#thinkingChars.seen
          ? Math.ceil(this.#thinkingChars.count / 4)
          : undefined;
        return [{
          type: "finish_signal",
          finishReason: finishReasonOf(this.#stopReason),
          usage: reasoningTokens === undefined
            ? usage
            : makeUsage(usage.inputTokens, usage.outputTokens, {
              reasoningTokens,
              cacheReadTokens: usage.cacheReadTokens,
              cacheWriteTokens: usage.cacheWriteTokens,
            }),
          id: this.#messageId,
        }];
      }
      case "error":
        throw errorFromStreamBody(PROVIDER, data);
      case "ping":
        return [];
      default:
        return [{ type: "provider_event", name: type, raw: data }];
    }
  }

  end(): TranslatedEvent[] {
    return [];
  }

  #blockStart(index: number, block: Loose): TranslatedEvent[] {
    const id = `${this.#messageId}:${index}`;
    switch (block.type) {
      case "text": {
        const text = str(block.text) ?? "";
        this.#blocks.set(index, { kind: "text", id, text });
        const out: TranslatedEvent[] = [{ type: "text_start", textId: id }];
        if (text !== "") out.push({ type: "text_delta", textId: id, delta: text });
        return out;
      }
      case "tool_use": {
        const toolId = str(block.id) ?? id;
        this.#blocks.set(index, {
          kind: "tool",
          id: toolId,
          name: str(block.name) ?? "",
          json: "",
          // Anthropic starts with `input: {}`; some compatible servers send it whole here instead.
          initial: obj(block.input),
        });
        return [{ type: "tool_call_start", callId: toolId, name: str(block.name) ?? "" }];
      }
      case "thinking": {
        const text = str(block.thinking) ?? "";
        // Anthropic streams the signature as a delta; a compatible server may send it here whole.
        const signature = str(block.signature) || undefined;
        this.#blocks.set(index, {
          kind: "thinking",
          id,
          text,
          redacted: false,
          ...(signature === undefined ? {} : { signature }),
        });
        const out: TranslatedEvent[] = [{ type: "reasoning_start", reasoningId: id }];
        if (text !== "") out.push({ type: "reasoning_delta", reasoningId: id, delta: text });
        return out;
      }
      case "redacted_thinking":
        this.#blocks.set(index, {
          kind: "thinking",
          id,
          text: str(block.data) ?? "",
          redacted: true,
        });
        return [{ type: "reasoning_start", reasoningId: id }];
      default:
        // Server tools, MCP, compaction and block types not known yet: kept
        // whole, emitted as one part when the block stops.
        this.#blocks.set(index, { kind: "other", open: new OpenOtherBlock(block) });
        return [];
    }
  }

  #blockDelta(index: number, delta: Loose): TranslatedEvent[] {
    const block = this.#blocks.get(index);
    // A delta for a block never started is odd but not fatal: pass it on.
    if (!block) return [{ type: "provider_event", name: "content_block_delta", raw: delta }];
    if (block.kind === "other") {
      block.open.add(delta);
      return [];
    }
    if (delta.type === "text_delta" && block.kind === "text") {
      const text = str(delta.text) ?? "";
      block.text += text;
      return [{ type: "text_delta", textId: block.id, delta: text }];
    }
    if (delta.type === "input_json_delta" && block.kind === "tool") {
      const fragment = str(delta.partial_json) ?? "";
      block.json += fragment;
      return [{ type: "tool_call_delta", callId: block.id, argumentsDelta: fragment }];
    }
    if (delta.type === "thinking_delta" && block.kind === "thinking") {
      const text = str(delta.thinking) ?? "";
      block.text += text;
      return [{ type: "reasoning_delta", reasoningId: block.id, delta: text }];
    }
    if (delta.type === "signature_delta" && block.kind === "thinking") {
      block.signature = (block.signature ?? "") + (str(delta.signature) ?? "");
      return [];
    }
    return [{ type: "provider_event", name: "content_block_delta", raw: delta }];
  }

  #blockStop(index: number): TranslatedEvent[] {
    const block = this.#blocks.get(index);
    if (!block) return [];
    this.#blocks.delete(index);
    if (block.kind === "other") return [{ type: "part", part: block.open.part() }];
    if (block.kind === "text") return [{ type: "text_end", textId: block.id, text: block.text }];
    if (block.kind === "tool") {
      const toolCall = block.json === "" && Object.keys(block.initial).length > 0
        ? toolCallFromObject(block.id, block.name, block.initial as JsonObject)
        : toolCallFromRaw(block.id, block.name, block.json);
      return [{ type: "tool_call_end", toolCall }];
    }
    if (!block.redacted) {
      this.#thinkingChars.seen = true;
      this.#thinkingChars.count += block.text.length;
    }
    const thinking: Thinking = block.redacted
      ? { text: block.text, redacted: true, provider: PROVIDER }
      : {
        text: block.text,
        ...(block.signature === undefined ? {} : { signature: block.signature }),
        provider: PROVIDER,
      };
    return [{ type: "reasoning_end", reasoningId: block.id, thinking }];
  }
}
