/**
 * A Server-Sent Events parser over a byte stream, following the WHATWG
 * event-stream rules: `event:`/`data:`/`id:`/`retry:` fields, multi-line
 * data joined with "\n", comment lines, CR, LF and CRLF line ends (also when
 * a CRLF is split across chunks), a leading BOM, and an unfinished event at
 * end of stream discarded rather than guessed at.
 *
 * @module
 */

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

/** Incremental SSE parser: feed text, collect events. Exposed for tests and non-fetch sources. */
export class SseParser {
  #buffer = "";
  #started = false;
  #pendingCr = false;
  #eventName = "";
  #data: string[] = [];
  #hasData = false;
  #lastId = "";
  #retry: number | undefined;

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let input = this.#buffer + text;
    this.#buffer = "";
    // A CR at the end of the previous chunk already ended its line; a LF
    // right after it is the second half of that CRLF, not an empty line.
    if (this.#pendingCr && input.startsWith("\n")) input = input.slice(1);
    this.#pendingCr = false;
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const char = input.charCodeAt(i);
      if (char !== 0x0a && char !== 0x0d) continue;
      this.#line(input.slice(start, i), events);
      if (char === 0x0d) {
        if (i + 1 < input.length) {
          if (input.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.#pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.#buffer = input.slice(start);
    return events;
  }

  #line(line: string, events: SseEvent[]): void {
    if (line === "") {
      this.#dispatch(events);
      return;
    }
    if (line.startsWith(":")) return; // comment, often a keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#eventName = value;
        break;
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "id":
        if (!value.includes("\u0000")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored by the standard
    }
  }

  #dispatch(events: SseEvent[]): void {
    if (this.#hasData) {
      const event: SseEvent = {
        event: this.#eventName === "" ? "message" : this.#eventName,
        data: this.#data.join("\n"),
        id: this.#lastId,
        ...(this.#retry === undefined ? {} : { retry: this.#retry }),
      };
      events.push(event);
    }
    this.#eventName = "";
    this.#data = [];
    this.#hasData = false;
  }
}

/**
 * Parses a byte stream as server-sent events. Stopping the iteration early
 * cancels the underlying stream, releasing the connection.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        yield* parser.push(decoder.decode());
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
