/**
 * Server-sent events over a byte stream. The line-level parsing is
 * `eventsource-parser` (the WHATWG event-stream rules, also used by the CXDB
 * HTTP client); this module adapts it to fetch bodies: UTF-8 decoding across
 * chunk boundaries, the last event id carried forward, events handed out in
 * per-chunk batches (one await per network read, not per event), and an
 * unfinished event at the end of the stream discarded rather than guessed at.
 *
 * @module
 */

import { createParser, type EventSourceParser } from "eventsource-parser";

/** One dispatched server-sent event. */
export interface SseEvent {
  /** The event name; "message" when the server named none. */
  readonly event: string;
  /** The data lines joined with "\n". */
  readonly data: string;
  /** The last event id seen on the stream ("" if none). */
  readonly id: string;
  /** A reconnection delay the server asked for, in milliseconds. */
  readonly retry?: number;
}

/** Incremental SSE parser: feed decoded text, collect the events it completes. */
export class SseParser {
  readonly #parser: EventSourceParser;
  #events: SseEvent[] = [];
  #lastId = "";
  #retry: number | undefined;
  #started = false;

  /** Creates a parser at the start of a stream. */
  constructor() {
    this.#parser = createParser({
      onEvent: (message) => {
        if (message.id !== undefined) this.#lastId = message.id;
        const event = message.event ?? "message";
        this.#events.push(
          this.#retry === undefined
            ? { event, data: message.data, id: this.#lastId }
            : { event, data: message.data, id: this.#lastId, retry: this.#retry },
        );
      },
      onRetry: (ms) => {
        this.#retry = ms;
      },
    });
  }

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    // A BOM survives only when the caller decoded without stripping it.
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#parser.feed(text);
    const events = this.#events;
    if (events.length > 0) this.#events = [];
    return events;
  }
}

/**
 * Parses a byte stream as server-sent events, yielding the events completed
 * by each chunk together: one await per chunk rather than per event.
 * Stopping the iteration early cancels the underlying stream.
 */
export async function* parseSseBatches(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser();
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        const last = parser.push(decoder.decode());
        if (last.length > 0) yield last;
        return;
      }
      const events = parser.push(decoder.decode(value, { stream: true }));
      if (events.length > 0) yield events;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Parses a byte stream as server-sent events. Stopping the iteration early
 * cancels the underlying stream, releasing the connection.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  for await (const batch of parseSseBatches(body)) yield* batch;
}
