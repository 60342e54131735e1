/**
 * Reading Gemini `generateContent` answers, whole or as the chunks of
 * `streamGenerateContent?alt=sse`, into the same parts: text, thought
 * summaries (`thought: true`), function calls with their ids and
 * `thoughtSignature`s, code execution as server tool calls and results,
 * images, grounding metadata and any part type not known yet as provider
 * parts. A signature on a text part is kept as a signature-only thinking part
 * right after that text, so it can be sent back on the same part.
 *
 * @module
 */

import { StreamAccumulator } from "./accumulate.ts";
import { InvalidResponseError } from "./errors.ts";
import type { StreamTranslator, TranslatedEvent } from "./http_provider.ts";
import { errorFromStreamBody } from "./http.ts";
import { makeUsage, toolCallFromValue } from "./messages.ts";
import type { SseEvent } from "./sse.ts";
import type {
  ContentPart,
  FinishReason,
  JsonObject,
  LlmResponse,
  Thinking,
  ToolCall,
  Usage,
} from "./types.ts";
import { arr, type Loose, num, obj, responseObject, sseJson, str } from "./wire_util.ts";

/** The provider name of the Gemini adapter. */
export const GEMINI_PROVIDER = "gemini";
const PROVIDER = GEMINI_PROVIDER;

/** Prefix of call ids we make up when Gemini sends none; they are never sent back as ids. */
export const GEMINI_LOCAL_CALL_ID = "gemini-call-";

const FINISH_REASONS: Record<string, FinishReason["reason"]> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  BLOCKLIST: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
  MALFORMED_FUNCTION_CALL: "error",
  UNEXPECTED_TOOL_CALL: "error",
  TOO_MANY_TOOL_CALLS: "error",
};

/** The unified finish reason for a Gemini `finishReason` (or a prompt `blockReason`). */
export function geminiFinishReason(raw: string | undefined, sawToolCall: boolean): FinishReason {
  if (raw === undefined) return { reason: sawToolCall ? "tool_calls" : "other" };
  if (raw === "STOP" && sawToolCall) return { reason: "tool_calls", raw };
  return { reason: FINISH_REASONS[raw] ?? "other", raw };
}

/**
 * Gemini's usage: `candidatesTokenCount` leaves out thinking, which we count
 * as output (as the other providers do); the prompt includes cached and
 * tool-use prompt tokens.
 */
export function readGeminiUsage(raw: unknown): Usage {
  const usage = obj(raw);
  const thoughts = num(usage.thoughtsTokenCount);
  const input = (num(usage.promptTokenCount) ?? 0) + (num(usage.toolUsePromptTokenCount) ?? 0);
  return makeUsage(input, (num(usage.candidatesTokenCount) ?? 0) + (thoughts ?? 0), {
    reasoningTokens: thoughts,
    cacheReadTokens: num(usage.cachedContentTokenCount),
  });
}

/** One Gemini part, classified. */
type Piece =
  | { kind: "text"; text: string; signature?: string }
  | { kind: "thought"; text: string; signature?: string }
  | { kind: "call"; call: ToolCall }
  | { kind: "whole"; part: ContentPart; signature?: string };

/** Numbers calls and code runs that come without ids, the same way streamed or not. */
class Counter {
  calls = 0;
  code = 0;
}

function readPiece(part: Loose, counter: Counter): Piece | undefined {
  const signature = str(part.thoughtSignature);
  const sig = signature === undefined ? {} : { signature };
  if (typeof part.text === "string") {
    return part.thought === true
      ? { kind: "thought", text: part.text, ...sig }
      : { kind: "text", text: part.text, ...sig };
  }
  if (part.functionCall !== undefined) {
    const call = obj(part.functionCall);
    const id = str(call.id) ?? `${GEMINI_LOCAL_CALL_ID}${counter.calls}`;
    counter.calls++;
    const made = toolCallFromValue(id, str(call.name) ?? "", call.args);
    return { kind: "call", call: signature === undefined ? made : { ...made, signature } };
  }
  const raw = part as JsonObject;
  if (part.executableCode !== undefined) {
    const code = obj(part.executableCode);
    const id = str(code.id) ?? `code-${counter.code++}`;
    return {
      kind: "whole",
      part: {
        kind: "server_tool_call",
        serverToolCall: {
          callId: id,
          name: "code_execution",
          input: { language: str(code.language) ?? "", code: str(code.code) ?? "" },
          provider: PROVIDER,
          raw,
        },
      },
      ...sig,
    };
  }
  if (part.codeExecutionResult !== undefined) {
    const result = obj(part.codeExecutionResult);
    const outcome = str(result.outcome) ?? "";
    return {
      kind: "whole",
      part: {
        kind: "server_tool_result",
        serverToolResult: {
          callId: str(result.id) ?? `code-${Math.max(0, counter.code - 1)}`,
          name: "code_execution_result",
          content: { outcome, output: str(result.output) ?? "" },
          isError: outcome !== "" && outcome !== "OUTCOME_OK",
          provider: PROVIDER,
          raw,
        },
      },
      ...sig,
    };
  }
  if (part.inlineData !== undefined) {
    const data = obj(part.inlineData);
    const mediaType = str(data.mimeType) ?? "application/octet-stream";
    if (mediaType.startsWith("image/")) {
      return {
        kind: "whole",
        part: { kind: "image", image: { data: str(data.data) ?? "", mediaType } },
        ...sig,
      };
    }
  }
  if (Object.keys(part).length === 1 && signature !== undefined) {
    return { kind: "text", text: "", signature };
  }
  const type = Object.keys(part).find((key) => key !== "thoughtSignature") ?? "unknown";
  return { kind: "whole", part: { kind: "provider", provider: PROVIDER, type, raw }, ...sig };
}

function signatureThinking(signature: string): ContentPart {
  return { kind: "thinking", thinking: { text: "", signature, provider: PROVIDER } };
}

/** Candidate-level facts we keep as parts: search grounding and URL context. */
function candidateExtras(candidate: Loose): ContentPart[] {
  const parts: ContentPart[] = [];
  for (const key of ["groundingMetadata", "urlContextMetadata"]) {
    const value = candidate[key];
    if (value !== undefined && value !== null) {
      parts.push({
        kind: "provider",
        provider: PROVIDER,
        type: key,
        raw: { [key]: value } as JsonObject,
      });
    }
  }
  return parts;
}

/**
 * Reads a `generateContent` response into the unified response. An array is
 * the chunk list `streamGenerateContent` sends without `alt=sse` (a proxy may
 * drop the parameter): its chunks are folded as a stream would be.
 */
export function parseGenerateContentResponse(json: unknown): LlmResponse {
  if (Array.isArray(json)) return foldChunks(json);
  const response = responseObject(PROVIDER, json);
  if (response.error !== undefined) throw errorFromStreamBody(PROVIDER, response);
  const first = arr(response.candidates)[0];
  // Only a blocked prompt comes back without a candidate; anything else
  // without one is not an answer, and must not pass for an empty one.
  if (
    (first === null || typeof first !== "object" || Array.isArray(first)) &&
    str(obj(response.promptFeedback).blockReason) === undefined
  ) {
    throw new InvalidResponseError(
      "gemini: response has no candidates[0] object (and no promptFeedback.blockReason)",
      { provider: PROVIDER, raw: json },
    );
  }
  const candidate = obj(first);
  const counter = new Counter();
  const content: ContentPart[] = [];
  let text: { text: string; signature?: string } | undefined;
  let thought: { text: string; signature?: string } | undefined;
  const flush = () => {
    if (thought !== undefined) {
      const thinking: Thinking = {
        text: thought.text,
        ...(thought.signature === undefined ? {} : { signature: thought.signature }),
        provider: PROVIDER,
      };
      content.push({ kind: "thinking", thinking });
      thought = undefined;
    }
    if (text !== undefined) {
      if (text.text !== "") content.push({ kind: "text", text: text.text });
      if (text.signature !== undefined) content.push(signatureThinking(text.signature));
      text = undefined;
    }
  };
  for (const raw of arr(obj(candidate.content).parts)) {
    const piece = readPiece(obj(raw), counter);
    if (piece === undefined) continue;
    if (piece.kind === "text") {
      if (thought !== undefined) flush();
      text ??= { text: "" };
      text.text += piece.text;
      if (piece.signature !== undefined) text.signature = piece.signature;
    } else if (piece.kind === "thought") {
      if (text !== undefined) flush();
      thought ??= { text: "" };
      thought.text += piece.text;
      if (piece.signature !== undefined) thought.signature = piece.signature;
    } else {
      flush();
      if (piece.kind === "call") content.push({ kind: "tool_call", toolCall: piece.call });
      else {
        content.push(piece.part);
        if (piece.signature !== undefined) content.push(signatureThinking(piece.signature));
      }
    }
  }
  flush();
  content.push(...candidateExtras(candidate));
  const blocked = str(obj(response.promptFeedback).blockReason);
  const finishRaw = str(candidate.finishReason) ?? blocked;
  return {
    id: str(response.responseId) ?? "",
    model: str(response.modelVersion) ?? "",
    provider: PROVIDER,
    message: { role: "assistant", content },
    finishReason: geminiFinishReason(finishRaw, content.some((p) => p.kind === "tool_call")),
    usage: readGeminiUsage(response.usageMetadata),
    warnings: blocked === undefined
      ? []
      : [{ code: "prompt_blocked", message: `gemini blocked the prompt: ${blocked}` }],
  };
}

function foldChunks(chunks: readonly unknown[]): LlmResponse {
  const translator = new GeminiStreamTranslator();
  const accumulator = new StreamAccumulator(PROVIDER);
  const events = chunks.flatMap((chunk) =>
    translator.push({ event: "message", data: JSON.stringify(chunk), id: "" })
  );
  events.push(...translator.end());
  for (const event of events) {
    if (event.type === "finish_signal") return accumulator.response(event);
    accumulator.add(event);
  }
  throw new InvalidResponseError("gemini: the chunk list ended without a finish reason", {
    provider: PROVIDER,
    raw: chunks,
  });
}

/**
 * Translates `streamGenerateContent?alt=sse` chunks. Each chunk is a partial
 * response; consecutive text (or thought) parts continue one segment. The
 * stream has no end marker: it is complete when a chunk carried a
 * `finishReason` (or a prompt `blockReason`) and the body ends.
 */
export class GeminiStreamTranslator implements StreamTranslator {
  readonly #counter = new Counter();
  #started = false;
  #segment = 0;
  #open: { kind: "text" | "thought"; id: string; text: string; signature?: string } | undefined;
  #sawToolCall = false;
  #finishRaw: string | undefined;
  #usage: Usage | undefined;
  #id = "";
  #model = "";
  #extras: ContentPart[] = [];
  #blocked: string | undefined;

  push(event: SseEvent): TranslatedEvent[] {
    const data = sseJson(PROVIDER, event);
    if (data.error !== undefined) throw errorFromStreamBody(PROVIDER, data);
    const out: TranslatedEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      this.#id = str(data.responseId) ?? "";
      this.#model = str(data.modelVersion) ?? "";
      out.push({ type: "stream_start", id: this.#id, model: this.#model });
    }
    if (data.usageMetadata !== undefined) this.#usage = readGeminiUsage(data.usageMetadata);
    const blocked = str(obj(data.promptFeedback).blockReason);
    if (blocked !== undefined) this.#blocked = blocked;
    const candidate = obj(arr(data.candidates)[0]);
    for (const raw of arr(obj(candidate.content).parts)) {
      const piece = readPiece(obj(raw), this.#counter);
      if (piece !== undefined) this.#piece(piece, out);
    }
    const extras = candidateExtras(candidate);
    if (extras.length > 0) this.#extras = extras;
    const finish = str(candidate.finishReason);
    if (finish !== undefined) this.#finishRaw = finish;
    return out;
  }

  end(): TranslatedEvent[] {
    if (this.#finishRaw === undefined && this.#blocked === undefined) return [];
    const out: TranslatedEvent[] = [];
    this.#close(out);
    for (const part of this.#extras) out.push({ type: "part", part });
    out.push({
      type: "finish_signal",
      finishReason: geminiFinishReason(this.#finishRaw ?? this.#blocked, this.#sawToolCall),
      usage: this.#usage ?? makeUsage(0, 0),
      id: this.#id,
      model: this.#model,
      ...(this.#blocked === undefined ? {} : {
        warnings: [{
          code: "prompt_blocked",
          message: `gemini blocked the prompt: ${this.#blocked}`,
        }],
      }),
    });
    return out;
  }

  #piece(piece: Piece, out: TranslatedEvent[]): void {
    if (piece.kind === "text" || piece.kind === "thought") {
      if (this.#open !== undefined && this.#open.kind !== piece.kind) this.#close(out);
      if (this.#open === undefined) {
        const id = `${piece.kind}-${this.#segment++}`;
        this.#open = { kind: piece.kind, id, text: "" };
        if (piece.kind === "thought" || piece.text !== "") this.#startOpen(out);
      }
      const open = this.#open;
      if (piece.signature !== undefined) open.signature = piece.signature;
      if (piece.text === "") return;
      if (open.text === "" && piece.kind === "text") this.#startOpen(out);
      open.text += piece.text;
      out.push(
        piece.kind === "text"
          ? { type: "text_delta", textId: open.id, delta: piece.text }
          : { type: "reasoning_delta", reasoningId: open.id, delta: piece.text },
      );
      return;
    }
    this.#close(out);
    if (piece.kind === "call") {
      this.#sawToolCall = true;
      const call = piece.call;
      out.push(
        { type: "tool_call_start", callId: call.callId, name: call.name },
        { type: "tool_call_delta", callId: call.callId, argumentsDelta: call.rawArguments },
        { type: "tool_call_end", toolCall: call },
      );
      return;
    }
    out.push({ type: "part", part: piece.part });
    if (piece.signature !== undefined) {
      out.push({ type: "part", part: signatureThinking(piece.signature) });
    }
  }

  #startedIds = new Set<string>();

  #startOpen(out: TranslatedEvent[]): void {
    const open = this.#open!;
    if (this.#startedIds.has(open.id)) return;
    this.#startedIds.add(open.id);
    out.push(
      open.kind === "text"
        ? { type: "text_start", textId: open.id }
        : { type: "reasoning_start", reasoningId: open.id },
    );
  }

  #close(out: TranslatedEvent[]): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    if (open.kind === "thought") {
      out.push({
        type: "reasoning_end",
        reasoningId: open.id,
        thinking: {
          text: open.text,
          ...(open.signature === undefined ? {} : { signature: open.signature }),
          provider: PROVIDER,
        },
      });
      return;
    }
    if (this.#startedIds.has(open.id)) {
      out.push({ type: "text_end", textId: open.id, text: open.text });
    }
    if (open.signature !== undefined) {
      out.push({ type: "part", part: signatureThinking(open.signature) });
    }
  }
}
