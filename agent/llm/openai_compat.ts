/**
 * Adapter for OpenAI-compatible Chat Completions (`POST {base}/chat/completions`),
 * the protocol Ollama, llama.cpp server and vLLM speak. Reasoning text some
 * of them return (`reasoning_content` / `reasoning`) is read but never sent
 * back, since these servers do not accept it as input.
 *
 * @module
 */

import { ConfigurationError, InvalidResponseError } from "./errors.ts";
import { errorFromStreamBody, normalizeBaseUrl, readEnv, readRateLimit } from "./http.ts";
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
  ImageData,
  JsonObject,
  JsonValue,
  LlmRequest,
  LlmResponse,
  Usage,
} from "./types.ts";
import {
  arr,
  imageSource,
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
      case "user": {
        const results = message.content.filter((part) => part.kind === "tool_result");
        pushToolResults(messages, results);
        const images = message.content.filter((part) => part.kind === "image");
        if (images.length > 0) {
          messages.push({ role: "user", content: chatUserContent(message.content) });
        } else if (text !== "") {
          messages.push({ role: "user", content: text });
        }
        break;
      }
      case "tool":
        pushToolResults(messages, message.content.filter((part) => part.kind === "tool_result"));
        break;
      case "assistant": {
        const calls: JsonValue[] = [];
        for (const part of message.content) {
          if (part.kind !== "tool_call") continue;
          calls.push({
            id: part.toolCall.callId,
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
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        strict: format.strict ?? false,
        ...(format.description === undefined ? {} : { description: format.description }),
      },
    };
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

/** An image as a Chat Completions content part: a URL, or the bytes as a data URL. */
function imageUrlPart(image: ImageData): JsonObject {
  const url = imageSource(image, PROVIDER);
  return {
    type: "image_url",
    image_url: { url, ...(image.detail ? { detail: image.detail } : {}) },
  };
}

/** A user message's text and images as a content-part list. */
function chatUserContent(parts: readonly ContentPart[]): JsonValue[] {
  const content: JsonValue[] = [];
  for (const part of parts) {
    if (part.kind === "text" && part.text !== "") content.push({ type: "text", text: part.text });
    else if (part.kind === "image") content.push(imageUrlPart(part.image));
  }
  return content;
}

/**
 * Tool results as `tool` messages. A tool message carries text only, so the
 * images of the results follow in one user message that names their calls.
 */
function pushToolResults(messages: JsonValue[], parts: readonly ContentPart[]): void {
  const images: JsonValue[] = [];
  for (const part of parts) {
    if (part.kind !== "tool_result") continue;
    messages.push({
      role: "tool",
      tool_call_id: part.toolResult.callId,
      content: part.toolResult.content,
    });
    const own = part.toolResult.images ?? [];
    if (own.length === 0) continue;
    images.push({ type: "text", text: `Images from tool call ${part.toolResult.callId}:` });
    for (const image of own) images.push(imageUrlPart(image));
  }
  if (images.length > 0) messages.push({ role: "user", content: images });
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
    // DeepSeek reports cache hits as prompt_cache_hit_tokens.
    cacheReadTokens: num(obj(usage.prompt_tokens_details).cached_tokens) ??
      num(usage.prompt_cache_hit_tokens),
  });
}

/**
 * The text of a message or delta. `content` is a string for most servers;
 * Mistral sends a list of chunks (`text`, and `thinking` for reasoning models).
 */
function textOf(message: Loose): string | undefined {
  if (Array.isArray(message.content)) {
    const texts = message.content.map((c) => obj(c)).filter((c) => c.type === "text");
    return texts.length === 0 ? undefined : texts.map((c) => str(c.text) ?? "").join("");
  }
  return str(message.content) ?? str(message.refusal);
}

function reasoningOf(message: Loose): string | undefined {
  const direct = str(message.reasoning_content) ?? str(message.reasoning);
  if (direct !== undefined || !Array.isArray(message.content)) return direct;
  const thinking = message.content.map((c) => obj(c)).filter((c) => c.type === "thinking");
  if (thinking.length === 0) return undefined;
  return thinking.flatMap((c) =>
    typeof c.thinking === "string"
      ? [c.thinking]
      : arr(c.thinking).map((t) => str(obj(t).text) ?? "")
  ).join("");
}

/** An error chunk: `{error: …}` (OpenAI, OpenRouter, Groq) or `{object: "error", …}` (vLLM, Mistral). */
function throwIfError(data: Loose, provider: string): void {
  if (data.object === "error") throw errorFromStreamBody(provider, data);
  if (data.error === undefined || data.error === null) return;
  throw errorFromStreamBody(provider, data);
}

/** Message and delta fields this adapter reads; any other non-null field is kept as a provider part. */
const KNOWN_MESSAGE_FIELDS = new Set([
  "role",
  "content",
  "reasoning_content",
  "reasoning",
  "tool_calls",
  "refusal",
  "function_call",
  "name",
]);

/** Unknown message fields (annotations, audio, images, reasoning_details…) as provider parts. */
function otherFieldParts(message: Loose, provider: string): ContentPart[] {
  const parts: ContentPart[] = [];
  for (const [key, value] of Object.entries(message)) {
    if (KNOWN_MESSAGE_FIELDS.has(key) || value === null || value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    parts.push({ kind: "provider", provider, type: key, raw: { [key]: value as JsonValue } });
  }
  return parts;
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
  const text = textOf(message);
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
  content.push(...otherFieldParts(message, provider));
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
  /** Unknown delta fields, folded: strings appended, arrays concatenated, others replaced. */
  readonly #other = new Map<string, JsonValue>();

  constructor(provider: string) {
    this.#provider = provider;
  }

  push(event: SseEvent): TranslatedEvent[] {
    if (event.data.trim() === "[DONE]") return this.#finish(true);
    const data = sseJson(this.#provider, event);
    if (event.event === "error") throw errorFromStreamBody(this.#provider, data);
    throwIfError(data, this.#provider);
    const out: TranslatedEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      this.#id = str(data.id) ?? "";
      this.#model = str(data.model) ?? "";
      out.push({ type: "stream_start", id: this.#id, model: this.#model });
    } else if (this.#id === "" || this.#model === "") {
      // Azure's first chunk (prompt filter results) has no id or model; later ones do.
      if (this.#id === "") this.#id = str(data.id) ?? "";
      if (this.#model === "") this.#model = str(data.model) ?? "";
    }
    if (data.usage && typeof data.usage === "object") this.#usage = readUsage(data.usage);
    // Groq puts the stream's usage in x_groq.usage on the last chunk.
    else if (obj(data.x_groq).usage !== undefined) this.#usage = readUsage(obj(data.x_groq).usage);
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
      this.#foldOther(delta);
      const text = textOf(delta);
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

  #foldOther(delta: Loose): void {
    for (const [key, value] of Object.entries(delta)) {
      if (KNOWN_MESSAGE_FIELDS.has(key) || value === null || value === undefined) continue;
      const before = this.#other.get(key);
      if (typeof value === "string" && typeof before === "string") {
        this.#other.set(key, before + value);
      } else if (Array.isArray(value) && Array.isArray(before)) {
        this.#other.set(key, [...before, ...value as JsonValue[]]);
      } else {
        this.#other.set(key, value as JsonValue);
      }
    }
  }

  /** Without [DONE] the stream is only complete if a finish reason arrived. */
  end(): TranslatedEvent[] {
    return this.#finishRaw === undefined ? [] : this.#finish(false);
  }

  /**
   * The slot of a streamed call: its `index`; without one (some servers send
   * each call whole, unindexed) the call with the same id, a new slot for a
   * new id, else the last call.
   */
  #indexOf(call: Loose): number {
    const index = num(call.index);
    if (index !== undefined) return index;
    const id = str(call.id);
    const indexes = [...this.#calls.keys()];
    if (id !== undefined && id !== "") {
      for (const [at, open] of this.#calls) if (open.id === id) return at;
      return indexes.length === 0 ? 0 : Math.max(...indexes) + 1;
    }
    return indexes.length === 0 ? 0 : Math.max(...indexes);
  }

  #toolDelta(call: Loose): TranslatedEvent[] {
    const index = this.#indexOf(call);
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
      out.push({ type: "tool_call_start", callId: open.id, name: open.name });
      // Arguments that arrived before the name are replayed once the call has started.
      if (open.args !== "") {
        out.push({ type: "tool_call_delta", callId: open.id, argumentsDelta: open.args });
      }
    }
    open.args += fragment;
    if (open.started && fragment !== "") {
      out.push({ type: "tool_call_delta", callId: open.id, argumentsDelta: fragment });
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
    for (const part of otherFieldParts(Object.fromEntries(this.#other), this.#provider)) {
      out.push({ type: "part", part });
    }
    this.#other.clear();
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
