/**
 * Adapter for the OpenAI Responses API (`POST /v1/responses`), the API
 * OpenAI's reasoning models need: system text goes to `instructions`, tool
 * calls and results are top-level input items, reasoning effort maps to
 * `reasoning.effort`, and usage reports reasoning and cached tokens.
 *
 * @module
 */

import { ConfigurationError, InvalidResponseError } from "./errors.ts";
import { errorFromProviderCode, normalizeBaseUrl, readEnv, requireApiKey } from "./http.ts";
import {
  HttpLlmProvider,
  type HttpProviderOptions,
  type StreamTranslator,
  type TranslatedEvent,
  type WireFormat,
} from "./http_provider.ts";
import { makeUsage, toolCallFromRaw } from "./messages.ts";
import type {
  ContentPart,
  FinishReason,
  JsonObject,
  JsonValue,
  LlmRequest,
  LlmResponse,
  Thinking,
  ToolChoice,
  Usage,
} from "./types.ts";
import {
  arr,
  type Loose,
  num,
  obj,
  providerOptionsFor,
  responseObject,
  sseJson,
  str,
  systemText,
} from "./wire_util.ts";
import { readRateLimit } from "./http.ts";

const PROVIDER = "openai";

/** Options of the OpenAI Responses adapter. */
export interface OpenAiResponsesOptions extends HttpProviderOptions {
  /** API key; defaults to the OPENAI_API_KEY environment variable. */
  readonly apiKey?: string;
  /** Base URL up to and including `/v1`; defaults to OPENAI_BASE_URL or https://api.openai.com/v1. */
  readonly baseUrl?: string;
  /** Sent as the OpenAI-Organization header when set. */
  readonly organization?: string;
}

/**
 * Creates a provider for the OpenAI Responses API. Throws a
 * ConfigurationError naming OPENAI_API_KEY when no key is available.
 */
export function createOpenAiResponsesProvider(
  options: OpenAiResponsesOptions = {},
): HttpLlmProvider {
  const apiKey = requireApiKey(options.apiKey, "OPENAI_API_KEY", PROVIDER);
  const explicit = options.baseUrl ?? readEnv("OPENAI_BASE_URL");
  const baseUrl = normalizeBaseUrl(
    explicit ?? "https://api.openai.com/v1",
    PROVIDER,
    options.baseUrl ? "baseUrl" : "OPENAI_BASE_URL",
  );
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (options.organization) headers["openai-organization"] = options.organization;
  return new HttpLlmProvider(openAiResponsesWire(`${baseUrl}/responses`, headers), options);
}

/** The Responses wire format, for a given URL and auth headers. */
export function openAiResponsesWire(url: string, headers: Record<string, string>): WireFormat {
  return {
    provider: PROVIDER,
    url,
    headers: () => headers,
    body: buildResponsesBody,
    parseResponse: (json, responseHeaders) => {
      const response = parseResponsesResponse(json);
      const rateLimit = readRateLimit(responseHeaders);
      return rateLimit ? { ...response, rateLimit } : response;
    },
    translator: () => new ResponsesStreamTranslator(),
  };
}

function toolChoiceWire(choice: ToolChoice): JsonValue {
  return choice.mode === "named" ? { type: "function", name: choice.toolName } : choice.mode;
}

/** Builds the JSON body of a Responses API request. */
export function buildResponsesBody(request: LlmRequest, stream: boolean): JsonObject {
  if (request.stopSequences && request.stopSequences.length > 0) {
    throw new ConfigurationError(
      "openai: the Responses API does not support stopSequences; remove them from the request",
      { provider: PROVIDER },
    );
  }
  const input: JsonValue[] = [];
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue;
    if (message.role === "user") {
      const content: JsonValue[] = [];
      for (const part of message.content) {
        if (part.kind === "text") content.push({ type: "input_text", text: part.text });
        else if (part.kind === "tool_result") input.push(functionCallOutput(part));
      }
      if (content.length > 0) input.push({ type: "message", role: "user", content });
      continue;
    }
    if (message.role === "tool") {
      for (const part of message.content) {
        if (part.kind === "tool_result") input.push(functionCallOutput(part));
      }
      continue;
    }
    // assistant: text runs become one message item; calls and reasoning are items of their own
    let texts: JsonValue[] = [];
    const flush = () => {
      if (texts.length > 0) input.push({ type: "message", role: "assistant", content: texts });
      texts = [];
    };
    for (const part of message.content) {
      if (part.kind === "text") {
        if (part.text !== "") texts.push({ type: "output_text", text: part.text });
      } else if (part.kind === "tool_call") {
        flush();
        // No item `id`: an fc_ id would oblige us to send its reasoning item too.
        input.push({
          type: "function_call",
          call_id: part.toolCall.id,
          name: part.toolCall.name,
          arguments: part.toolCall.rawArguments === ""
            ? JSON.stringify(part.toolCall.arguments)
            : part.toolCall.rawArguments,
        });
      } else if (part.kind === "thinking") {
        const reasoning = reasoningItem(part.thinking);
        if (reasoning) {
          flush();
          input.push(reasoning);
        }
      }
    }
    flush();
  }
  const body: JsonObject = { model: request.model };
  const instructions = systemText(request);
  if (instructions !== undefined) body.instructions = instructions;
  body.input = input;
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      strict: false,
    }));
    body.tool_choice = toolChoiceWire(request.toolChoice ?? { mode: "auto" });
  }
  if (request.reasoningEffort) body.reasoning = { effort: request.reasoningEffort };
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.metadata) body.metadata = { ...request.metadata };
  if (stream) body.stream = true;
  return { ...body, ...providerOptionsFor(request, PROVIDER) };
}

function functionCallOutput(part: ContentPart): JsonValue {
  if (part.kind !== "tool_result") throw new Error("unreachable");
  return {
    type: "function_call_output",
    call_id: part.toolResult.toolCallId,
    output: part.toolResult.content,
  };
}

/** Only OpenAI's own encrypted reasoning can be sent back; other providers' thinking is dropped. */
function reasoningItem(thinking: Thinking): JsonValue | undefined {
  if (thinking.provider !== PROVIDER || thinking.signature === undefined || !thinking.id) {
    return undefined;
  }
  return {
    type: "reasoning",
    id: thinking.id,
    summary: thinking.text === "" ? [] : [{ type: "summary_text", text: thinking.text }],
    encrypted_content: thinking.signature,
  };
}

function readUsage(raw: unknown): Usage {
  const usage = obj(raw);
  return makeUsage(num(usage.input_tokens) ?? 0, num(usage.output_tokens) ?? 0, {
    reasoningTokens: num(obj(usage.output_tokens_details).reasoning_tokens),
    cacheReadTokens: num(obj(usage.input_tokens_details).cached_tokens),
  });
}

function finishReasonOf(response: Loose, sawToolCall: boolean): FinishReason {
  const status = str(response.status) ?? "completed";
  if (status === "incomplete") {
    const reason = str(obj(response.incomplete_details).reason) ?? "incomplete";
    if (reason === "max_output_tokens") return { reason: "length", raw: reason };
    if (reason === "content_filter") return { reason: "content_filter", raw: reason };
    return { reason: "other", raw: reason };
  }
  if (status === "completed") {
    return sawToolCall ? { reason: "tool_calls", raw: status } : { reason: "stop", raw: status };
  }
  return { reason: "other", raw: status };
}

function failureOf(response: Loose): Error {
  const error = obj(response.error);
  return errorFromProviderCode(
    PROVIDER,
    str(error.code),
    str(error.message) ?? "the response failed",
    response,
  );
}

function thinkingFromItem(item: Loose): Thinking {
  const summary = arr(item.summary).map((s) => str(obj(s).text) ?? "").join("\n\n");
  const encrypted = str(item.encrypted_content);
  return {
    text: summary,
    ...(encrypted === undefined ? {} : { signature: encrypted }),
    ...(str(item.id) ? { id: str(item.id) } : {}),
    provider: PROVIDER,
  };
}

/** Reads a Responses API response object into the unified response. */
export function parseResponsesResponse(json: unknown): LlmResponse {
  const response = responseObject(PROVIDER, json);
  if (response.status === "failed") throw failureOf(response);
  if (!Array.isArray(response.output)) {
    throw new InvalidResponseError("openai: response has no output array", {
      provider: PROVIDER,
      raw: json,
    });
  }
  const content: ContentPart[] = [];
  let sawToolCall = false;
  for (const rawItem of response.output) {
    const item = obj(rawItem);
    if (item.type === "message") {
      for (const c of arr(item.content)) {
        const part = obj(c);
        if (part.type === "output_text" && typeof part.text === "string" && part.text !== "") {
          content.push({ kind: "text", text: part.text });
        } else if (part.type === "refusal" && typeof part.refusal === "string") {
          content.push({ kind: "text", text: part.refusal });
        }
      }
    } else if (item.type === "function_call") {
      sawToolCall = true;
      content.push({
        kind: "tool_call",
        toolCall: toolCallFromRaw(
          str(item.call_id) ?? str(item.id) ?? "",
          str(item.name) ?? "",
          str(item.arguments) ?? "",
        ),
      });
    } else if (item.type === "reasoning") {
      const thinking = thinkingFromItem(item);
      if (thinking.text !== "" || thinking.signature !== undefined) {
        content.push({ kind: "thinking", thinking });
      }
    }
  }
  return {
    id: str(response.id) ?? "",
    model: str(response.model) ?? "",
    provider: PROVIDER,
    message: { role: "assistant", content },
    finishReason: finishReasonOf(response, sawToolCall),
    usage: readUsage(response.usage),
    warnings: [],
  };
}

/** Translates Responses API stream events (`response.*`) into unified events. */
class ResponsesStreamTranslator implements StreamTranslator {
  /** item id → call id, for argument deltas that only name the item. */
  readonly #callIdByItem = new Map<string, string>();
  readonly #openTexts = new Map<string, string>();
  readonly #openReasoning = new Set<string>();
  #sawToolCall = false;

  push(event: { event: string; data: string; id: string }): TranslatedEvent[] {
    if (event.data === "[DONE]") return [];
    const data = sseJson(PROVIDER, event);
    const type = str(data.type) ?? event.event;
    switch (type) {
      case "response.created": {
        const response = obj(data.response);
        return [{ type: "stream_start", id: str(response.id), model: str(response.model) }];
      }
      case "response.output_item.added":
        return this.#itemAdded(obj(data.item));
      case "response.output_text.delta": {
        const textId = `${str(data.item_id) ?? ""}:${num(data.content_index) ?? 0}`;
        const out: TranslatedEvent[] = [];
        if (!this.#openTexts.has(textId)) {
          this.#openTexts.set(textId, "");
          out.push({ type: "text_start", textId });
        }
        const delta = str(data.delta) ?? "";
        this.#openTexts.set(textId, this.#openTexts.get(textId)! + delta);
        out.push({ type: "text_delta", textId, delta });
        return out;
      }
      case "response.reasoning_summary_text.delta": {
        const reasoningId = str(data.item_id) ?? "";
        const out: TranslatedEvent[] = [];
        if (!this.#openReasoning.has(reasoningId)) {
          this.#openReasoning.add(reasoningId);
          out.push({ type: "reasoning_start", reasoningId });
        }
        out.push({ type: "reasoning_delta", reasoningId, delta: str(data.delta) ?? "" });
        return out;
      }
      case "response.function_call_arguments.delta": {
        const itemId = str(data.item_id) ?? "";
        const toolCallId = this.#callIdByItem.get(itemId) ?? itemId;
        return [{ type: "tool_call_delta", toolCallId, argumentsDelta: str(data.delta) ?? "" }];
      }
      case "response.output_item.done":
        return this.#itemDone(obj(data.item));
      case "response.completed":
      case "response.incomplete": {
        const response = obj(data.response);
        return [{
          type: "finish_signal",
          finishReason: finishReasonOf(response, this.#sawToolCall),
          usage: readUsage(response.usage),
          id: str(response.id),
          model: str(response.model),
        }];
      }
      case "response.failed":
        throw failureOf(obj(data.response));
      case "error":
        throw errorFromProviderCode(
          PROVIDER,
          str(data.code) ?? str(obj(data.error).code),
          str(data.message) ?? str(obj(data.error).message) ?? "stream error",
          data,
        );
      default:
        return [];
    }
  }

  end(): TranslatedEvent[] {
    return [];
  }

  #itemAdded(item: Loose): TranslatedEvent[] {
    if (item.type === "function_call") {
      const callId = str(item.call_id) ?? str(item.id) ?? "";
      if (str(item.id)) this.#callIdByItem.set(str(item.id)!, callId);
      this.#sawToolCall = true;
      return [{ type: "tool_call_start", toolCallId: callId, name: str(item.name) ?? "" }];
    }
    if (item.type === "reasoning" && str(item.id)) {
      this.#openReasoning.add(str(item.id)!);
      return [{ type: "reasoning_start", reasoningId: str(item.id)! }];
    }
    return [];
  }

  #itemDone(item: Loose): TranslatedEvent[] {
    const itemId = str(item.id) ?? "";
    if (item.type === "message") {
      const out: TranslatedEvent[] = [];
      arr(item.content).forEach((c, index) => {
        const textId = `${itemId}:${index}`;
        const part = obj(c);
        if (!this.#openTexts.has(textId)) return;
        this.#openTexts.delete(textId);
        out.push({ type: "text_end", textId, text: str(part.text) ?? "" });
      });
      // Close any segment the final item did not list, keeping what streamed.
      for (const [textId, text] of this.#openTexts) {
        if (!textId.startsWith(`${itemId}:`)) continue;
        this.#openTexts.delete(textId);
        out.push({ type: "text_end", textId, text });
      }
      return out;
    }
    if (item.type === "function_call") {
      const callId = str(item.call_id) ?? this.#callIdByItem.get(itemId) ?? itemId;
      this.#sawToolCall = true;
      return [{
        type: "tool_call_end",
        toolCall: toolCallFromRaw(callId, str(item.name) ?? "", str(item.arguments) ?? ""),
      }];
    }
    if (item.type === "reasoning") {
      const out: TranslatedEvent[] = [];
      if (!this.#openReasoning.has(itemId)) {
        out.push({ type: "reasoning_start", reasoningId: itemId });
      }
      this.#openReasoning.delete(itemId);
      out.push({ type: "reasoning_end", reasoningId: itemId, thinking: thinkingFromItem(item) });
      return out;
    }
    return [];
  }
}
