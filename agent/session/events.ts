/**
 * The typed event stream of a session (coding-agent-loop spec §2.9): every
 * step of the loop is an event, delivered to any number of subscribers as an
 * async iterable.
 *
 * @module
 */

import type { Confinement } from "../env/confinement.ts";

/** How a session left the loop for one input. */
export type StopReason =
  | "completed"
  | "awaiting_input"
  | "round_limit"
  | "model_call_limit"
  | "aborted";

/** Fields every event carries. */
export interface EventBase {
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** The session that emitted the event. */
  readonly sessionId: string;
}

/** Every event of a session, discriminated by `kind`. */
export type SessionEvent = EventBase & SessionEventData;

/** The payload of each event kind. */
export type SessionEventData =
  | {
    readonly kind: "session_start";
    readonly profileId: string;
    readonly model: string;
    readonly depth: number;
    readonly contextId?: string;
    /** What confines the session's tools (also in its started record). */
    readonly confinement: Confinement;
  }
  | {
    readonly kind: "session_end";
    readonly finalState: "closed" | "aborted" | "failed";
    readonly contextId?: string;
  }
  | {
    readonly kind: "user_input";
    readonly content: string;
    /** The question this input answers, when the session was awaiting input. */
    readonly answers?: string;
  }
  | {
    /** The model asked the user something; the next submit answers it (spec §2.3). */
    readonly kind: "awaiting_input";
    /** The assistant's text that ends with the question. */
    readonly question: string;
  }
  | { readonly kind: "processing_end"; readonly stopReason: StopReason; readonly rounds: number }
  | { readonly kind: "assistant_text_start" }
  | { readonly kind: "assistant_text_delta"; readonly delta: string }
  | {
    readonly kind: "assistant_text_end";
    readonly text: string;
    readonly reasoning?: string;
    readonly toolCallCount: number;
  }
  | {
    readonly kind: "tool_call_start";
    readonly callId: string;
    readonly toolName: string;
    readonly arguments: string;
  }
  | {
    readonly kind: "tool_call_end";
    readonly callId: string;
    readonly toolName: string;
    /** The FULL, untruncated output (the model saw `truncated ? shortened : output`). */
    readonly output: string;
    readonly isError: boolean;
    readonly truncated: boolean;
    readonly durationMs: number;
  }
  | {
    /** Output of a running tool (the shell's stdout or stderr), as it arrives. */
    readonly kind: "tool_call_output_delta";
    readonly callId: string;
    readonly toolName: string;
    readonly stream: "stdout" | "stderr";
    /** The new text (whole UTF-8 characters). */
    readonly delta: string;
  }
  | { readonly kind: "steering_injected"; readonly content: string }
  | {
    readonly kind: "model_call_limit";
    readonly limit: "max_tool_rounds_per_input" | "max_model_calls";
    readonly value: number;
  }
  | { readonly kind: "loop_detection"; readonly message: string }
  | { readonly kind: "warning"; readonly message: string; readonly source: WarningSource }
  | { readonly kind: "error"; readonly message: string; readonly code?: string }
  | {
    readonly kind: "subagent_spawned";
    readonly agentId: string;
    readonly childSessionId: string;
    readonly depth: number;
    readonly task: string;
    readonly childContextId?: string;
  }
  | {
    readonly kind: "subagent_closed";
    readonly agentId: string;
    readonly status: "completed" | "failed" | "closed";
  }
  | { readonly kind: "subagent_event"; readonly agentId: string; readonly event: SessionEvent };

/** What a warning is about. */
export type WarningSource = "persistence" | "context_window" | "llm";

/** The kinds of event. */
export type SessionEventKind = SessionEventData["kind"];

/**
 * Fans events out to subscribers. Each subscriber has its own queue, so a
 * slow reader never loses events; a subscriber sees what is emitted after it
 * subscribed, and its iteration ends when the hub closes.
 */
export class EventHub {
  #subscribers = new Set<Subscriber>();
  #closed = false;

  /** Delivers `event` to every subscriber. */
  emit(event: SessionEvent): void {
    for (const s of this.#subscribers) s.push(event);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every subscription after its queued events. */
  close(): void {
    this.#closed = true;
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }

  /** Subscribes; `signal` ends the subscription early. */
  subscribe(signal?: AbortSignal): AsyncIterableIterator<SessionEvent> {
    const sub = new Subscriber(() => this.#subscribers.delete(sub));
    if (this.#closed || signal?.aborted) sub.end();
    else {
      this.#subscribers.add(sub);
      signal?.addEventListener("abort", () => {
        sub.end();
        this.#subscribers.delete(sub);
      }, { once: true });
    }
    return sub;
  }
}

class Subscriber implements AsyncIterableIterator<SessionEvent> {
  #queue: SessionEvent[] = [];
  #waiting?: (r: IteratorResult<SessionEvent>) => void;
  #ended = false;
  #detach: () => void;

  constructor(detach: () => void) {
    this.#detach = detach;
  }

  push(event: SessionEvent): void {
    if (this.#ended) return;
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ value: event, done: false });
    } else this.#queue.push(event);
  }

  end(): void {
    this.#ended = true;
    if (this.#waiting && this.#queue.length === 0) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<SessionEvent>> {
    const event = this.#queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<SessionEvent>> {
    this.#queue = [];
    this.end();
    this.#detach();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SessionEvent> {
    return this;
  }
}
