/**
 * Adapter for OpenAI-compatible Chat Completions (`POST {base}/chat/completions`),
 * the protocol Ollama, llama.cpp server and vLLM speak. Reasoning text some
 * of them return (`reasoning_content` / `reasoning`) is read but never sent
 * back, since these servers do not accept it as input.
 *
 * @module
 */

import { ConfigurationError, InvalidResponseError } from "./errors.ts";
import { errorFromProviderCode, normalizeBaseUrl, readEnv, readRateLimit } from "./http.ts";
import {
  HttpLlmProvider,
  type HttpProviderOptions,
  type StreamTranslator,
  type TranslatedEvent,
  type WireFormat,
} from "./http_provider.ts";
import { makeUsage, toolCallFromRaw } from "./messages.ts";
import type { SseEvent } from "./sse.ts";
import type {
  ContentPart,
  FinishReason,
  JsonObject,
  JsonValue,
  LlmRequest,
  LlmResponse,
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
} from "./wire_util.ts";

/** The provider name used in responses, errors and `providerOptions`. */
export const OPENAI_COMPAT_PROVIDER = "openai-compatible";
const PROVIDER = OPENAI_COMPAT_PROVIDER;

/** Options of the OpenAI-compatible adapter. */
export interface OpenAiCompatibleOptions extends HttpProviderOptions {
  /**
   * Base URL up to and including `/v1`. Defaults to FORGE_OPENAI_COMPAT_BASE_URL,
   * else OLLAMA_BASE_URL (an Ollama server root, to which `/v1` is appended).
   */
  readonly baseUrl?: string;
  /** Optional key, sent as a Bearer token; defaults to FORGE_OPENAI_COMPAT_API_KEY. */
  readonly apiKey?: string;
  /** Name reported as `provider` (defaults to "openai-compatible"). */
  readonly name?: string;
}

/** Where the base URL comes from, for error messages. */
function resolveCompatBaseUrl(options: OpenAiCompatibleOptions): { url: string; source: string } {
  if (options.baseUrl) return { url: options.baseUrl, source: "baseUrl" };
  const compat = readEnv("FORGE_OPENAI_COMPAT_BASE_URL");
  if (compat) return { url: compat, source: "FORGE_OPENAI_COMPAT_BASE_URL" };
  const ollama = readEnv("OLLAMA_BASE_URL");
  if (ollama) return { url: `${ollama.replace(/\/+$/, "")}/v1`, source: "OLLAMA_BASE_URL" };
  throw new ConfigurationError(
    "openai-compatible: no base URL: set FORGE_OPENAI_COMPAT_BASE_URL (e.g. http://127.0.0.1:8080/v1) or OLLAMA_BASE_URL (e.g. http://127.0.0.1:11434), or pass baseUrl",
    { provider: PROVIDER },
  );
}

/**
 * Creates a provider for an OpenAI-compatible Chat Completions server. The key
 * is optional (local servers need none); a missing base URL is a
 * ConfigurationError naming the variables.
 */
export function createOpenAiCompatibleProvider(
  options: OpenAiCompatibleOptions = {},
): HttpLlmProvider {
  const { url, source } = resolveCompatBaseUrl(options);
  const baseUrl = normalizeBaseUrl(url, PROVIDER, source);
  const apiKey = options.apiKey ?? readEnv("FORGE_OPENAI_COMPAT_API_KEY");
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  return new HttpLlmProvider(
    chatCompletionsWire(`${baseUrl}/chat/completions`, headers, options.name ?? PROVIDER),
    options,
  );
}

/** The Chat Completions wire format, for a given URL and headers. */
export function chatCompletionsWire(
  url: string,
  headers: Record<string, string>,
  name: string = PROVIDER,
): WireFormat {
  return {
    provider: name,
    url,
    headers: () => headers,
    body: (request, stream) => buildChatCompletionsBody(request, stream, name),
    parseResponse: (json, responseHeaders) => {
      const response = parseChatCompletionsResponse(json, name);
      const rateLimit = readRateLimit(responseHeaders);
      return rateLimit ? { ...response, rateLimit } : response;
    },
    translator: () => new ChatStreamTranslator(name),
  };
}

/** Builds the JSON body of a Chat Completions request. */
export function buildChatCompletionsBody(
  request: LlmRequest,
  stream: boolean,
  provider: string = PROVIDER,
): JsonObject {
  const messages: JsonValue[] = [];
  for (const message of request.messages) {
    const text = message.content
      .filter((part) => part.kind === "text")
      .map((part) => part.kind === "text" ? part.text : "")
      .join("");
    switch (message.role) {
      case "system":
      case "developer":
        // Few compatible servers know the developer role; system is understood everywhere.
        messages.push({ role: "system", content: text });
        break;
      case "user":
        if (text !== "") messages.push({ role: "user", content: text });
        for (const part of message.content) {
          if (part.kind === "tool_result") messages.push(toolMessage(part));
        }
        break;
      case "tool":
        for (const part of message.content) {
          if (part.kind === "tool_result") messages.push(toolMessage(part));
        }
        break;
      case "assistant": {
        const calls: JsonValue[] = [];
        for (const part of message.content) {
          if (part.kind !== "tool_call") continue;
          calls.push({
            id: part.toolCall.id,
            type: "function",
            function: {
              name: part.toolCall.name,
              arguments: part.toolCall.rawArguments === ""
                ? JSON.stringify(part.toolCall.arguments)
                : part.toolCall.rawArguments,
            },
          });
        }
        const wire: JsonObject = { role: "assistant", content: text === "" ? null : text };
        if (calls.length > 0) wire.tool_calls = calls;
        if (text !== "" || calls.length > 0) messages.push(wire);
        break;
      }
    }
  }
  const body: JsonObject = { model: request.model, messages };
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    const choice = request.toolChoice ?? { mode: "auto" };
    body.tool_choice = choice.mode === "named"
      ? { type: "function", function: { name: choice.toolName } }
      : choice.mode;
  }
  if (request.reasoningEffort) body.reasoning_effort = request.reasoningEffort;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences && request.stopSequences.length > 0) {
    body.stop = [...request.stopSequences];
  }
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { ...body, ...providerOptionsFor(request, provider) };
}

function toolMessage(part: ContentPart): JsonValue {
  if (part.kind !== "tool_result") throw new Error("unreachable");
  return {
    role: "tool",
    tool_call_id: part.toolResult.toolCallId,
    content: part.toolResult.content,
  };
}

const FINISH_REASONS: Record<string, FinishReason["reason"]> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

/** Some servers say "stop" even when they called tools; the calls decide. */
function finishReasonOf(raw: string | undefined, sawToolCall: boolean): FinishReason {
  if (sawToolCall) return { reason: "tool_calls", ...(raw ? { raw } : {}) };
  if (raw === undefined) return { reason: "other" };
  return { reason: FINISH_REASONS[raw] ?? "other", raw };
}

function readUsage(raw: unknown): Usage {
  const usage = obj(raw);
  return makeUsage(num(usage.prompt_tokens) ?? 0, num(usage.completion_tokens) ?? 0, {
    reasoningTokens: num(obj(usage.completion_tokens_details).reasoning_tokens),
    cacheReadTokens: num(obj(usage.prompt_tokens_details).cached_tokens),
  });
}

function reasoningOf(message: Loose): string | undefined {
  return str(message.reasoning_content) ?? str(message.reasoning);
}

function throwIfError(data: Loose, provider: string): void {
  if (data.error === undefined) return;
  const error = obj(data.error);
  throw errorFromProviderCode(
    provider,
    str(error.code) ?? str(error.type),
    str(error.message) ?? (typeof data.error === "string" ? data.error : "error"),
    data,
  );
}

/** Reads a Chat Completions response into the unified response. */
export function parseChatCompletionsResponse(
  json: unknown,
  provider: string = PROVIDER,
): LlmResponse {
  const response = responseObject(provider, json);
  throwIfError(response, provider);
  const choice = obj(arr(response.choices)[0]);
  if (!Array.isArray(response.choices) || response.choices.length === 0) {
    throw new InvalidResponseError(`${provider}: response has no choices`, {
      provider,
      raw: json,
    });
  }
  const message = obj(choice.message);
  const content: ContentPart[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning) content.push({ kind: "thinking", thinking: { text: reasoning, provider } });
  const text = str(message.content);
  if (text) content.push({ kind: "text", text });
  const id = str(response.id) ?? "";
  arr(message.tool_calls).forEach((raw, index) => {
    const call = obj(raw);
    const fn = obj(call.function);
    const args = fn.arguments;
    content.push({
      kind: "tool_call",
      toolCall: toolCallFromRaw(
        str(call.id) ?? `call_${id}_${index}`,
        str(fn.name) ?? "",
        typeof args === "string" ? args : args === undefined ? "" : JSON.stringify(args),
      ),
    });
  });
  return {
    id,
    model: str(response.model) ?? "",
    provider,
    message: { role: "assistant", content },
    finishReason: finishReasonOf(
      str(choice.finish_reason),
      content.some((p) => p.kind === "tool_call"),
    ),
    usage: readUsage(response.usage),
    warnings: [],
  };
}

interface OpenCall {
  id: string;
  name: string;
  args: string;
  started: boolean;
}

/** Translates `chat.completion.chunk` events; the stream ends at `data: [DONE]`. */
class ChatStreamTranslator implements StreamTranslator {
  readonly #provider: string;
  #started = false;
  #id = "";
  #model = "";
  #textOpen = false;
  #text = "";
  #reasoningOpen = false;
  #reasoning = "";
  readonly #calls = new Map<number, OpenCall>();
  #finishRaw: string | undefined;
  #sawToolCall = false;
  #usage: Usage | undefined;

  constructor(provider: string) {
    this.#provider = provider;
  }

  push(event: SseEvent): TranslatedEvent[] {
    if (event.data.trim() === "[DONE]") return this.#finish(true);
    const data = sseJson(this.#provider, event);
    throwIfError(data, this.#provider);
    const out: TranslatedEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      this.#id = str(data.id) ?? "";
      this.#model = str(data.model) ?? "";
      out.push({ type: "stream_start", id: this.#id, model: this.#model });
    }
    if (data.usage && typeof data.usage === "object") this.#usage = readUsage(data.usage);
    for (const rawChoice of arr(data.choices)) {
      const choice = obj(rawChoice);
      // We never ask for n > 1; a stray second choice must not mix into the first.
      if ((num(choice.index) ?? 0) !== 0) continue;
      const delta = obj(choice.delta);
      const reasoning = reasoningOf(delta);
      if (reasoning) {
        if (!this.#reasoningOpen) {
          this.#reasoningOpen = true;
          out.push({ type: "reasoning_start", reasoningId: "reasoning" });
        }
        this.#reasoning += reasoning;
        out.push({ type: "reasoning_delta", reasoningId: "reasoning", delta: reasoning });
      }
      const text = str(delta.content);
      if (text) {
        out.push(...this.#closeReasoning());
        if (!this.#textOpen) {
          this.#textOpen = true;
          out.push({ type: "text_start", textId: "text" });
        }
        this.#text += text;
        out.push({ type: "text_delta", textId: "text", delta: text });
      }
      for (const rawCall of arr(delta.tool_calls)) out.push(...this.#toolDelta(obj(rawCall)));
      const finish = str(choice.finish_reason);
      if (finish) {
        this.#finishRaw = finish;
        out.push(...this.#closeAll());
      }
    }
    return out;
  }

  /** Without [DONE] the stream is only complete if a finish reason arrived. */
  end(): TranslatedEvent[] {
    return this.#finishRaw === undefined ? [] : this.#finish(false);
  }

  #toolDelta(call: Loose): TranslatedEvent[] {
    const index = num(call.index) ?? 0;
    const fn = obj(call.function);
    let open = this.#calls.get(index);
    if (!open) {
      open = { id: "", name: "", args: "", started: false };
      this.#calls.set(index, open);
    }
    if (str(call.id)) open.id = str(call.id)!;
    if (str(fn.name)) open.name += str(fn.name)!;
    const fragment = typeof fn.arguments === "string"
      ? fn.arguments
      : fn.arguments === undefined
      ? ""
      : JSON.stringify(fn.arguments);
    const out: TranslatedEvent[] = [];
    if (!open.started && open.name !== "") {
      out.push(...this.#closeReasoning());
      open.started = true;
      this.#sawToolCall = true;
      if (open.id === "") open.id = `call_${this.#id}_${index}`;
      out.push({ type: "tool_call_start", toolCallId: open.id, name: open.name });
      // Arguments that arrived before the name are replayed once the call has started.
      if (open.args !== "") {
        out.push({ type: "tool_call_delta", toolCallId: open.id, argumentsDelta: open.args });
      }
    }
    open.args += fragment;
    if (open.started && fragment !== "") {
      out.push({ type: "tool_call_delta", toolCallId: open.id, argumentsDelta: fragment });
    }
    return out;
  }

  #closeReasoning(): TranslatedEvent[] {
    if (!this.#reasoningOpen) return [];
    this.#reasoningOpen = false;
    return [{
      type: "reasoning_end",
      reasoningId: "reasoning",
      thinking: { text: this.#reasoning, provider: this.#provider },
    }];
  }

  #closeAll(): TranslatedEvent[] {
    const out = this.#closeReasoning();
    if (this.#textOpen) {
      this.#textOpen = false;
      out.push({ type: "text_end", textId: "text", text: this.#text });
    }
    for (const [index, call] of [...this.#calls].sort((a, b) => a[0] - b[0])) {
      if (!call.started) {
        throw new InvalidResponseError(
          `${this.#provider}: streamed tool call ${index} never named its function`,
          { provider: this.#provider },
        );
      }
      out.push({ type: "tool_call_end", toolCall: toolCallFromRaw(call.id, call.name, call.args) });
    }
    this.#calls.clear();
    return out;
  }

  #finish(done: boolean): TranslatedEvent[] {
    if (this.#finishRaw === undefined && done && !this.#started) {
      throw new InvalidResponseError(`${this.#provider}: stream ended with [DONE] and no content`, {
        provider: this.#provider,
      });
    }
    const out = this.#closeAll();
    out.push({
      type: "finish_signal",
      finishReason: finishReasonOf(this.#finishRaw, this.#sawToolCall),
      usage: this.#usage ?? makeUsage(0, 0),
      id: this.#id,
      model: this.#model,
    });
    return out;
  }
}
