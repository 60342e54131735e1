/**
 * Folding stream events into a response, and the reverse (a response as the
 * events that would have streamed it). Adapters use the accumulator to build
 * the response their `finish` event carries, so streamed and non-streamed
 * calls give the same shape.
 *
 * @module
 */

import { InvalidResponseError, LlmError, NetworkError } from "./errors.ts";
import { toolCallFromRaw } from "./messages.ts";
import type {
  ContentPart,
  FinishEvent,
  FinishReason,
  LlmResponse,
  LlmStreamEvent,
  LlmWarning,
  RateLimitInfo,
  Thinking,
  ToolCall,
  Usage,
} from "./types.ts";

/**
 * Deltas are kept as a list and appended only when read: the end event of a
 * segment usually brings the whole text (or call) anyway, and a list costs
 * the heap much less than a rope of one string per delta (tens of thousands
 * in a long answer, each kept alive and copied by the young-generation GC).
 */
type Slot =
  | { kind: "text"; key: string; text: string; deltas: string[]; ended: boolean }
  | { kind: "thinking"; key: string; text: string; deltas: string[]; final?: Thinking }
  | {
    kind: "tool_call";
    key: string;
    name: string;
    text: string;
    deltas: string[];
    final?: ToolCall;
  }
  | { kind: "part"; key: string; part: ContentPart };

/** The slot's text so far: what it was set to, then the deltas since, appended as they came. */
function textOf(slot: { text: string; deltas: string[] }): string {
  if (slot.deltas.length > 0) {
    let text = slot.text;
    for (const delta of slot.deltas) text += delta;
    slot.text = text;
    slot.deltas = [];
  }
  return slot.text;
}

/** Extra facts a finished response carries beyond its content. */
export interface FinishDetails {
  /** Why generation stopped. */
  readonly finishReason: FinishReason;
  /** Token counts. */
  readonly usage: Usage;
  /** Overrides the response id seen in `stream_start`. */
  readonly id?: string;
  /** Overrides the model seen in `stream_start`. */
  readonly model?: string;
  /** Non-fatal issues. */
  readonly warnings?: readonly LlmWarning[];
  /** Rate-limit headers. */
  readonly rateLimit?: RateLimitInfo;
}

/**
 * Accumulates stream events into the assistant message, keeping parts in the
 * order their segments started.
 */
export class StreamAccumulator {
  readonly #provider: string;
  #id = "";
  #model = "";
  readonly #slots: Slot[] = [];
  readonly #byKey = new Map<string, Slot>();
  #last: Slot | undefined;

  /** Creates an accumulator for responses of `provider`. */
  constructor(provider: string) {
    this.#provider = provider;
  }

  /**
   * Takes one event into account; `finish`, `error` and `provider_event`
   * change nothing, a `part` event adds its part as it is.
   */
  add(event: LlmStreamEvent): void {
    switch (event.type) {
      case "stream_start":
        if (event.id) this.#id = event.id;
        if (event.model) this.#model = event.model;
        return;
      case "text_start":
        this.#slot("text", event.textId);
        return;
      case "text_delta":
        this.#slot("text", event.textId).deltas.push(event.delta);
        return;
      case "text_end": {
        const slot = this.#slot("text", event.textId);
        slot.text = event.text;
        slot.deltas = [];
        slot.ended = true;
        return;
      }
      case "reasoning_start":
        this.#slot("thinking", event.reasoningId);
        return;
      case "reasoning_delta":
        this.#slot("thinking", event.reasoningId).deltas.push(event.delta);
        return;
      case "reasoning_end":
        this.#slot("thinking", event.reasoningId).final = event.thinking;
        return;
      case "tool_call_start":
        this.#slot("tool_call", event.callId).name = event.name;
        return;
      case "tool_call_delta":
        this.#slot("tool_call", event.callId).deltas.push(event.argumentsDelta);
        return;
      case "tool_call_end":
        this.#slot("tool_call", event.toolCall.callId).final = event.toolCall;
        return;
      case "part": {
        const slot: Slot = { kind: "part", key: "", part: event.part };
        this.#slots.push(slot);
        return;
      }
      default:
        return;
    }
  }

  /** The content accumulated so far, in order; empty text and reasoning are left out. */
  content(): ContentPart[] {
    const parts: ContentPart[] = [];
    for (const slot of this.#slots) {
      if (slot.kind === "text") {
        const text = textOf(slot);
        if (text !== "") parts.push({ kind: "text", text });
      } else if (slot.kind === "thinking") {
        const thinking = slot.final ?? { text: textOf(slot), provider: this.#provider };
        if (thinking.text !== "" || thinking.signature !== undefined) {
          parts.push({ kind: "thinking", thinking });
        }
      } else if (slot.kind === "part") {
        parts.push(slot.part);
      } else {
        parts.push({
          kind: "tool_call",
          toolCall: slot.final ?? toolCallFromRaw(slot.key, slot.name, textOf(slot)),
        });
      }
    }
    return parts;
  }

  /** Whether any tool call has been seen. */
  hasToolCalls(): boolean {
    return this.#slots.some((slot) => slot.kind === "tool_call");
  }

  /** Builds the response from what was accumulated plus the finish details. */
  response(details: FinishDetails): LlmResponse {
    const response: LlmResponse = {
      id: details.id ?? this.#id,
      model: details.model ?? this.#model,
      provider: this.#provider,
      message: { role: "assistant", content: this.content() },
      finishReason: details.finishReason,
      usage: details.usage,
      warnings: details.warnings ?? [],
      ...(details.rateLimit ? { rateLimit: details.rateLimit } : {}),
    };
    return response;
  }

  /** Builds the `finish` event that ends a stream. */
  finish(details: FinishDetails): FinishEvent {
    const response = this.response(details);
    return {
      type: "finish",
      finishReason: response.finishReason,
      usage: response.usage,
      response,
    };
  }

  #slot<K extends Slot["kind"]>(kind: K, key: string): Extract<Slot, { kind: K }> {
    // Deltas come in runs for one segment; skip the map for the common case.
    const last = this.#last;
    if (last !== undefined && last.kind === kind && last.key === key) {
      return last as Extract<Slot, { kind: K }>;
    }
    const mapKey = `${kind}\u0000${key}`;
    let slot = this.#byKey.get(mapKey);
    if (!slot) {
      slot = kind === "text"
        ? { kind: "text", key, text: "", deltas: [], ended: false }
        : kind === "thinking"
        ? { kind: "thinking", key, text: "", deltas: [] }
        : kind === "tool_call"
        ? { kind: "tool_call", key, name: "", text: "", deltas: [] }
        : { kind: "part", key, part: { kind: "text", text: "" } };
      this.#byKey.set(mapKey, slot);
      this.#slots.push(slot);
    }
    this.#last = slot;
    return slot as Extract<Slot, { kind: K }>;
  }
}

/**
 * Consumes a stream and resolves with its response: the one its `finish`
 * event carries. Rejects with the stream's `error` event, or with an
 * InvalidResponseError when the stream ends with neither.
 * `onEvent` sees every event first (e.g. to print text deltas).
 */
export async function foldStream(
  events: AsyncIterable<LlmStreamEvent>,
  onEvent?: (event: LlmStreamEvent) => void,
): Promise<LlmResponse> {
  try {
    for await (const event of events) {
      onEvent?.(event);
      if (event.type === "finish") return event.response;
      if (event.type === "error") throw event.error;
    }
  } catch (error) {
    if (error instanceof LlmError) throw error;
    throw new NetworkError(`stream failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  throw new InvalidResponseError("stream ended without a finish or error event");
}

/**
 * The events a stream of `response` would carry: start, then each part as a
 * start/delta/end segment (text split into `chunkSize`-character deltas), then
 * finish. Deterministic; used by the scripted provider.
 */
export function responseToEvents(response: LlmResponse, chunkSize = 16): LlmStreamEvent[] {
  const events: LlmStreamEvent[] = [{
    type: "stream_start",
    id: response.id,
    model: response.model,
  }];
  const chunks = (text: string) => {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += chunkSize) out.push(text.slice(i, i + chunkSize));
    return out;
  };
  response.message.content.forEach((part, index) => {
    const segmentId = `${index}`;
    if (part.kind === "text") {
      events.push({ type: "text_start", textId: segmentId });
      for (const delta of chunks(part.text)) {
        events.push({ type: "text_delta", textId: segmentId, delta });
      }
      events.push({ type: "text_end", textId: segmentId, text: part.text });
    } else if (part.kind === "thinking") {
      events.push({ type: "reasoning_start", reasoningId: segmentId });
      if (!part.thinking.redacted) {
        for (const delta of chunks(part.thinking.text)) {
          events.push({ type: "reasoning_delta", reasoningId: segmentId, delta });
        }
      }
      events.push({ type: "reasoning_end", reasoningId: segmentId, thinking: part.thinking });
    } else if (part.kind === "tool_call") {
      const call = part.toolCall;
      events.push({ type: "tool_call_start", callId: call.callId, name: call.name });
      for (const argumentsDelta of chunks(call.rawArguments)) {
        events.push({ type: "tool_call_delta", callId: call.callId, argumentsDelta });
      }
      events.push({ type: "tool_call_end", toolCall: call });
    } else {
      events.push({ type: "part", part });
    }
  });
  events.push({
    type: "finish",
    finishReason: response.finishReason,
    usage: response.usage,
    response,
  });
  return events;
}
