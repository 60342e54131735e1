/**
 * Reading OpenAI Responses API output, non-streamed and streamed, so both
 * give the same parts: text, function calls, reasoning (summaries and raw
 * `reasoning_text`, as DeepSeek and OpenRouter send it), OpenAI's built-in
 * tools as typed server tool calls, and any other item kept as a provider
 * part. Streamed segments are keyed by `output_index` / `content_index`, never
 * by item id: some servers (GitHub Copilot) give every event a new item id.
 *
 * @module
 */

import { responseToEvents } from "./accumulate.ts";
import { errorFromStreamBody } from "./http.ts";
import type { StreamTranslator, TranslatedEvent } from "./http_provider.ts";
import { InvalidResponseError } from "./errors.ts";
import { makeUsage, toolCallFromRaw } from "./messages.ts";
import type { SseEvent } from "./sse.ts";
import type {
  ContentPart,
  FinishReason,
  JsonObject,
  JsonValue,
  LlmResponse,
  Thinking,
  Usage,
} from "./types.ts";
import { arr, type Loose, num, obj, responseObject, sseJsonOrSkip, str } from "./wire_util.ts";

const PROVIDER = "openai";

/** Output item types of tools OpenAI runs itself; each becomes a `server_tool_call` part. */
export const OPENAI_SERVER_TOOL_ITEMS: ReadonlySet<string> = new Set([
  "web_search_call",
  "file_search_call",
  "code_interpreter_call",
  "mcp_call",
  "image_generation_call",
  "tool_search_call",
]);

/** Token counts of a Responses usage object. */
export function readResponsesUsage(raw: unknown): Usage {
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
  return errorFromStreamBody(PROVIDER, { error: obj(response.error) }, "the response failed");
}

/** A reasoning item's readable text: its summaries, else its raw reasoning text. */
function reasoningText(item: Loose): string {
  const summary = arr(item.summary).map((s) => str(obj(s).text) ?? "").filter((t) => t !== "");
  if (summary.length > 0) return summary.join("\n\n");
  return arr(item.content)
    .map((c) => obj(c))
    .filter((c) => c.type === "reasoning_text" || c.type === "text")
    .map((c) => str(c.text) ?? "")
    .join("");
}

function thinkingFromItem(item: Loose): Thinking {
  const encrypted = str(item.encrypted_content);
  return {
    text: reasoningText(item),
    ...(encrypted === undefined ? {} : { signature: encrypted }),
    ...(str(item.id) ? { id: str(item.id) } : {}),
    provider: PROVIDER,
  };
}

function parsedArguments(value: unknown): JsonValue {
  if (typeof value !== "string") return (value ?? {}) as JsonValue;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A built-in tool item as a server tool call, or any other item as a provider part. */
export function otherItemToPart(item: Loose): ContentPart {
  const type = str(item.type) ?? "unknown";
  if (!OPENAI_SERVER_TOOL_ITEMS.has(type)) {
    return { kind: "provider", provider: PROVIDER, type, raw: item as JsonObject };
  }
  const base = type.slice(0, -"_call".length);
  const name = type === "mcp_call"
    ? `mcp:${str(item.server_label) ?? ""}/${str(item.name) ?? ""}`
    : base;
  const input = item.action ?? item.queries ?? item.code ??
    (item.arguments === undefined ? {} : parsedArguments(item.arguments));
  const output = item.results ?? item.outputs ?? item.output ?? item.result ?? item.error;
  return {
    kind: "server_tool_call",
    serverToolCall: {
      callId: str(item.id) ?? "",
      name,
      input: input as JsonValue,
      ...(output === undefined || output === null ? {} : { output: output as JsonValue }),
      ...(str(item.status) === undefined ? {} : { status: str(item.status) }),
      provider: PROVIDER,
      raw: item as JsonObject,
    },
  };
}

/** The parts of one output item, in order; empty text and reasoning are left out. */
function itemParts(item: Loose): ContentPart[] {
  switch (item.type) {
    case "message": {
      const parts: ContentPart[] = [];
      for (const c of arr(item.content)) {
        const part = obj(c);
        if (part.type === "output_text") {
          if (typeof part.text === "string" && part.text !== "") {
            parts.push({ kind: "text", text: part.text });
          }
        } else if (part.type === "refusal") {
          if (typeof part.refusal === "string") parts.push({ kind: "text", text: part.refusal });
        } else {
          parts.push({
            kind: "provider",
            provider: PROVIDER,
            type: str(part.type) ?? "unknown",
            raw: part as JsonObject,
          });
        }
      }
      return parts;
    }
    case "function_call":
      return [{
        kind: "tool_call",
        toolCall: toolCallFromRaw(
          str(item.call_id) ?? str(item.id) ?? "",
          str(item.name) ?? "",
          str(item.arguments) ?? "",
        ),
      }];
    case "reasoning": {
      const thinking = thinkingFromItem(item);
      return thinking.text !== "" || thinking.signature !== undefined
        ? [{ kind: "thinking", thinking }]
        : [];
    }
    default:
      return [otherItemToPart(item)];
  }
}

/** Reads a Responses API response object into the unified response. */
export function parseResponsesResponse(json: unknown): LlmResponse {
  const response = responseObject(PROVIDER, json);
  if (response.status === "failed") throw failureOf(response);
  // A compatible server may answer a stream request with a bare error body and status 200.
  if (!Array.isArray(response.output) && response.error !== undefined && response.error !== null) {
    throw errorFromStreamBody(PROVIDER, response);
  }
  if (!Array.isArray(response.output)) {
    throw new InvalidResponseError("openai: response has no output array", {
      provider: PROVIDER,
      raw: json,
    });
  }
  const content: ContentPart[] = [];
  for (const item of response.output) content.push(...itemParts(obj(item)));
  return {
    id: str(response.id) ?? "",
    model: str(response.model) ?? "",
    provider: PROVIDER,
    message: { role: "assistant", content },
    finishReason: finishReasonOf(response, content.some((p) => p.kind === "tool_call")),
    usage: readResponsesUsage(response.usage),
    warnings: [],
  };
}

/** Translates Responses API stream events (`response.*`) into unified events. */
export class ResponsesStreamTranslator implements StreamTranslator {
  /** output_index → call id, for argument deltas (item ids cannot be trusted). */
  readonly #callByIndex = new Map<number, string>();
  /** output_index → argument text that came before its call was announced. */
  readonly #pendingArgs = new Map<number, string>();
  /** Keys of open text segments → their text so far. */
  readonly #openTexts = new Map<string, string>();
  /** output_index of open reasoning segments. */
  readonly #openReasoning = new Set<number>();
  /**
   * Output indexes whose tool call has ended (a repeated done must not add a
   * second). By index, not call id: two calls a confused model gave the same
   * id are still two items.
   */
  readonly #endedCalls = new Set<number>();
  #sawToolCall = false;
  #sawOutput = false;
  /** Output indexes any event named; items the final response lists beyond them were never streamed. */
  readonly #seenIndexes = new Set<number>();

  push(event: SseEvent): TranslatedEvent[] {
    if (event.data === "[DONE]") return [];
    // Our event names all start with "response." (or are "error"); others may carry anything.
    const data = sseJsonOrSkip(
      PROVIDER,
      event,
      (name) => name.startsWith("response.") || name === "error",
    );
    if (data === undefined) return [{ type: "provider_event", name: event.event, raw: event.data }];
    const type = str(data.type) ?? event.event;
    const streamedIndex = num(data.output_index);
    if (streamedIndex !== undefined) this.#seenIndexes.add(streamedIndex);
    const index = streamedIndex ?? 0;
    switch (type) {
      case "response.created": {
        const response = obj(data.response);
        return [{ type: "stream_start", id: str(response.id), model: str(response.model) }];
      }
      case "response.output_item.added":
        return this.#itemAdded(index, obj(data.item));
      case "response.output_text.delta":
      case "response.refusal.delta": {
        const textId = `${index}:${num(data.content_index) ?? 0}`;
        const out = this.#openText(textId);
        const delta = str(data.delta) ?? "";
        this.#openTexts.set(textId, this.#openTexts.get(textId)! + delta);
        out.push({ type: "text_delta", textId, delta });
        return out;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const out = this.#openReasoningAt(index);
        out.push({
          type: "reasoning_delta",
          reasoningId: `r${index}`,
          delta: str(data.delta) ?? "",
        });
        return out;
      }
      case "response.function_call_arguments.delta": {
        const callId = this.#callByIndex.get(index);
        const delta = str(data.delta) ?? "";
        if (callId === undefined) {
          // Arguments before their call was announced wait for it (its name and id).
          this.#pendingArgs.set(index, (this.#pendingArgs.get(index) ?? "") + delta);
          return [];
        }
        return [{ type: "tool_call_delta", callId, argumentsDelta: delta }];
      }
      case "response.output_item.done":
        return this.#itemDone(index, obj(data.item));
      case "response.completed":
      case "response.incomplete": {
        const response = obj(data.response);
        const out = this.#fromFinalOutput(response);
        out.push({
          type: "finish_signal",
          finishReason: finishReasonOf(response, this.#sawToolCall),
          usage: readResponsesUsage(response.usage),
          id: str(response.id),
          model: str(response.model),
        });
        return out;
      }
      case "response.failed":
        throw failureOf(obj(data.response));
      case "error":
        throw errorFromStreamBody(PROVIDER, data, "stream error");
      case "response.in_progress":
      case "response.content_part.added":
      case "response.content_part.done":
      case "response.output_text.done":
      case "response.refusal.done":
      case "response.reasoning_summary_part.added":
      case "response.reasoning_summary_part.done":
      case "response.reasoning_summary_text.done":
      case "response.reasoning_text.done":
      case "response.function_call_arguments.done":
        return [];
      default:
        // Built-in tool progress (response.web_search_call.searching, …), annotations, and
        // event types added later: passed on, never fatal.
        return [{ type: "provider_event", name: type, raw: data }];
    }
  }

  end(): TranslatedEvent[] {
    return [];
  }

  #openText(textId: string): TranslatedEvent[] {
    this.#sawOutput = true;
    if (this.#openTexts.has(textId)) return [];
    this.#openTexts.set(textId, "");
    return [{ type: "text_start", textId }];
  }

  #openReasoningAt(index: number): TranslatedEvent[] {
    this.#sawOutput = true;
    if (this.#openReasoning.has(index)) return [];
    this.#openReasoning.add(index);
    return [{ type: "reasoning_start", reasoningId: `r${index}` }];
  }

  #itemAdded(index: number, item: Loose): TranslatedEvent[] {
    if (item.type === "function_call") {
      const callId = str(item.call_id) ?? str(item.id) ?? "";
      if (this.#callByIndex.get(index) === callId) return [];
      this.#callByIndex.set(index, callId);
      this.#sawToolCall = true;
      this.#sawOutput = true;
      const out: TranslatedEvent[] = [
        { type: "tool_call_start", callId: callId, name: str(item.name) ?? "" },
      ];
      const pending = this.#pendingArgs.get(index);
      if (pending !== undefined) {
        this.#pendingArgs.delete(index);
        out.push({ type: "tool_call_delta", callId: callId, argumentsDelta: pending });
      }
      return out;
    }
    if (item.type === "reasoning") return this.#openReasoningAt(index);
    return [];
  }

  #itemDone(index: number, item: Loose): TranslatedEvent[] {
    this.#sawOutput = true;
    if (item.type === "message") {
      const out: TranslatedEvent[] = [];
      arr(item.content).forEach((c, contentIndex) => {
        const part = obj(c);
        const textId = `${index}:${contentIndex}`;
        const text = str(part.text) ?? str(part.refusal);
        if (text === undefined) {
          out.push(
            ...itemParts({ type: "message", content: [part] }).map((p) => ({
              type: "part" as const,
              part: p,
            })),
          );
          return;
        }
        // A server that sends the finished item without deltas still gives its text.
        if (!this.#openTexts.has(textId)) {
          if (text === "") return;
          out.push(...this.#openText(textId), { type: "text_delta", textId, delta: text });
        }
        this.#openTexts.delete(textId);
        out.push({ type: "text_end", textId, text });
      });
      // Close any segment the final item did not list, keeping what streamed.
      for (const [textId, text] of this.#openTexts) {
        if (!textId.startsWith(`${index}:`)) continue;
        this.#openTexts.delete(textId);
        out.push({ type: "text_end", textId, text });
      }
      return out;
    }
    if (item.type === "function_call") {
      const callId = str(item.call_id) ?? this.#callByIndex.get(index) ?? str(item.id) ?? "";
      if (this.#endedCalls.has(index)) return [];
      this.#endedCalls.add(index);
      const out = this.#callByIndex.get(index) === callId
        ? []
        : this.#itemAdded(index, { ...item, call_id: callId });
      this.#sawToolCall = true;
      out.push({
        type: "tool_call_end",
        toolCall: toolCallFromRaw(callId, str(item.name) ?? "", str(item.arguments) ?? ""),
      });
      return out;
    }
    if (item.type === "reasoning") {
      const out = this.#openReasoningAt(index);
      this.#openReasoning.delete(index);
      out.push({
        type: "reasoning_end",
        reasoningId: `r${index}`,
        thinking: thinkingFromItem(item),
      });
      return out;
    }
    return [{ type: "part", part: otherItemToPart(item) }];
  }

  /**
   * Items the final response lists that no event streamed (a server that
   * sends only `response.completed`, or skips the events of some items) are
   * replayed from it, so the answer is whole. When events carried no output
   * index at all, anything streamed counts as the whole answer.
   */
  #fromFinalOutput(response: Loose): TranslatedEvent[] {
    if (!Array.isArray(response.output) || response.output.length === 0) return [];
    if (this.#sawOutput && this.#seenIndexes.size === 0) return [];
    const unseen = response.output.filter((_, index) => !this.#seenIndexes.has(index));
    if (unseen.length === 0) return [];
    const parsed = parseResponsesResponse({ ...response, output: unseen, status: "completed" });
    if (parsed.message.content.some((p) => p.kind === "tool_call")) this.#sawToolCall = true;
    return responseToEvents(parsed)
      .filter((e) => e.type !== "stream_start" && e.type !== "finish")
      .map((e) => {
        // Segment ids of their own, apart from the streamed "<index>:<content>" ones.
        if (e.type === "text_start" || e.type === "text_delta" || e.type === "text_end") {
          return { ...e, textId: `final:${e.textId}` };
        }
        if (
          e.type === "reasoning_start" || e.type === "reasoning_delta" || e.type === "reasoning_end"
        ) {
          return { ...e, reasoningId: `final:${e.reasoningId}` };
        }
        return e as TranslatedEvent;
      });
  }
}
