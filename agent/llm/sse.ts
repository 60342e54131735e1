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
import { InvalidResponseError } from "./errors.ts";

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

/** How much of a body that holds no event is kept, to say what it was. */
const HEAD_CHARS = 64 * 1024;

/**
 * A body served as a stream that held no server-sent event at all: an HTML
 * page from a proxy, or a JSON error without `data:` framing. `body` is its
 * start, so a caller can read an error out of it.
 */
export class NotEventStreamError extends InvalidResponseError {
  /** The first 64 KiB of the body. */
  readonly body: string;

  /** Creates the error for a body that began with `body`. */
  constructor(body: string, provider?: string) {
    super(
      `${provider ?? "sse"}: the body is not a server-sent event stream: ${
        body.trim().slice(0, 300)
      }`,
      { provider, raw: body },
    );
    this.name = "NotEventStreamError";
    this.body = body;
  }
}

/** Whether every line of `text` is blank, a comment or an SSE field (an empty stream is one). */
function looksLikeEventStream(text: string): boolean {
  return text.split(/\r\n|\r|\n/).every((line) =>
    line.trim() === "" || line.startsWith(":") || /^(data|event|id|retry)(:|$)/.test(line)
  );
}

/** Limits on one stream. */
export interface SseOptions {
  /**
   * The most bytes read without completing an event (one huge event, or a
   * line that never ends) before the stream fails; unset: no limit. The count
   * restarts at each chunk that completes an event, so it may run over by up
   * to one network chunk.
   */
  readonly maxEventBytes?: number;
  /** Named in the error, e.g. "anthropic". */
  readonly provider?: string;
}

/**
 * Parses a byte stream as server-sent events, yielding the events completed
 * by each chunk together: one await per chunk rather than per event.
 * Stopping the iteration early cancels the underlying stream. An event
 * beyond `maxEventBytes` ends it with an InvalidResponseError: the parser
 * buffers an unfinished event whole, so without the limit a server could
 * fill memory with one event that never ends. A body that ends without a
 * single event but with some text is a NotEventStreamError carrying it.
 */
export async function* parseSseBatches(
  body: ReadableStream<Uint8Array>,
  options: SseOptions = {},
): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser();
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  const limit = options.maxEventBytes ?? Infinity;
  let pending = 0;
  let finished = false;
  // Until the first event, the body's start is kept: if no event ever comes,
  // it is what the server said instead.
  let dispatched = false;
  let head = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        const last = parser.push(decoder.decode());
        if (last.length > 0) yield last;
        else if (!dispatched && !looksLikeEventStream(head)) {
          throw new NotEventStreamError(head, options.provider);
        }
        return;
      }
      const text = decoder.decode(value, { stream: true });
      if (!dispatched && head.length < HEAD_CHARS) head += text.slice(0, HEAD_CHARS - head.length);
      const events = parser.push(text);
      if (events.length > 0) {
        dispatched = true;
        head = "";
        pending = 0;
        yield events;
      } else if ((pending += value.length) > limit) {
        const provider = options.provider ?? "sse";
        throw new InvalidResponseError(
          `${provider}: a stream event is larger than ${limit} bytes (maxEventBytes)`,
          { provider: options.provider },
        );
      }
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
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  options: SseOptions = {},
): AsyncGenerator<SseEvent> {
  for await (const batch of parseSseBatches(body, options)) yield* batch;
}
