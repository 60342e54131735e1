/**
 * Unique tool call ids. A tool result answers its call by id, so two calls of
 * one response with the same id (a confused model, a compatible server that
 * numbers every call "call_0", an empty id) would merge into one call while
 * streaming and leave the other without a result. Every later call that
 * repeats an id gets a new one (`<id>_2`, `<id>_3`, …) here, in the stream and
 * in the response alike, so each call keeps its own id through history and the
 * next request.
 *
 * @module
 */

import type { ContentPart, LlmResponse, LlmStreamEvent } from "./types.ts";

/** The id a repeated `id` gets: the first `<id>_<n>` (n ≥ 2) not yet taken. */
function freshId(id: string, taken: ReadonlySet<string>): string {
  const stem = id === "" ? "call" : id;
  for (let n = 2;; n++) {
    const candidate = `${stem}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** `id`, or a fresh one when it is empty or already taken; taken from now on. */
function claimId(id: string, taken: Set<string>): string {
  const given = taken.has(id) || id === "" ? freshId(id, taken) : id;
  taken.add(given);
  return given;
}

/**
 * The response with each tool call id unique within it; the same object when
 * the ids already were (the common case costs one pass and no copy).
 */
export function withUniqueCallIds(response: LlmResponse): LlmResponse {
  const content = uniqueCallIdsIn(response.message.content);
  if (content === response.message.content) return response;
  return { ...response, message: { ...response.message, content } };
}

/** `parts` with each tool call id unique; the same array when they already were. */
export function uniqueCallIdsIn(parts: readonly ContentPart[]): readonly ContentPart[] {
  const taken = new Set<string>();
  let changed: ContentPart[] | undefined;
  parts.forEach((part, index) => {
    if (part.kind !== "tool_call") return;
    const callId = claimId(part.toolCall.callId, taken);
    if (callId === part.toolCall.callId) return;
    changed ??= [...parts];
    changed[index] = { kind: "tool_call", toolCall: { ...part.toolCall, callId } };
  });
  return changed ?? parts;
}

/**
 * Renames repeated tool call ids in a stream of events, one instance per
 * stream. A start with an id already started opens a call under a new id;
 * deltas go to the latest call of that id (deltas of two open calls sharing
 * an id cannot be told apart), ends close the calls of that id in the order
 * they started (the end carries the whole call, so its arguments are right
 * whatever the deltas were).
 */
export class StreamCallIds {
  readonly #taken = new Set<string>();
  /** Wire id → the ids given to its calls, in start order, not yet ended. */
  readonly #open = new Map<string, string[]>();
  /** Wire id → the id its latest call got. */
  readonly #latest = new Map<string, string>();

  /** The event with its call id made unique; other events unchanged. */
  rewrite<E extends LlmStreamEvent>(event: E): E {
    switch (event.type) {
      case "tool_call_start": {
        const id = event.callId;
        const given = claimId(id, this.#taken);
        this.#latest.set(id, given);
        const open = this.#open.get(id) ?? [];
        open.push(given);
        this.#open.set(id, open);
        return given === id ? event : { ...event, callId: given };
      }
      case "tool_call_delta": {
        const given = this.#latest.get(event.callId) ?? event.callId;
        return given === event.callId ? event : { ...event, callId: given };
      }
      case "tool_call_end": {
        const call = event.toolCall;
        // No open call of that id: the call arrived whole, without a start.
        const given = this.#open.get(call.callId)?.shift() ?? claimId(call.callId, this.#taken);
        return given === call.callId ? event : { ...event, toolCall: { ...call, callId: given } };
      }
      default:
        return event;
    }
  }
}
