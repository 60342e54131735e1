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
    // indexOf scans natively; each position is searched for at most once per kind.
    let lf = input.indexOf("\n");
    let cr = input.indexOf("\r");
    while (true) {
      if (lf !== -1 && lf < start) lf = input.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = input.indexOf("\r", start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      this.#line(input.slice(start, end), events);
      start = end + 1;
      if (end === cr) {
        if (end + 1 < input.length) {
          if (input.charCodeAt(end + 1) === 0x0a) start = end + 2;
        } else {
          this.#pendingCr = true;
        }
      }
    }
    this.#buffer = input.slice(start);
    return events;
  }

  #line(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.#dispatch(events);
      return;
    }
    const colon = line.indexOf(":");
    if (colon === 0) return; // comment, often a keep-alive
    const field = colon === -1 ? line : line.slice(0, colon);
    // One optional space after the colon belongs to the syntax, not the value.
    const valueStart = colon === -1
      ? line.length
      : line.charCodeAt(colon + 1) === 0x20
      ? colon + 2
      : colon + 1;
    if (field === "data") {
      this.#data.push(line.slice(valueStart));
      this.#hasData = true;
    } else if (field === "event") {
      this.#eventName = line.slice(valueStart);
    } else if (field === "id") {
      const value = line.slice(valueStart);
      if (!value.includes("\u0000")) this.#lastId = value;
    } else if (field === "retry") {
      const value = line.slice(valueStart);
      if (/^\d+$/.test(value)) this.#retry = Number(value);
    }
    // Unknown fields are ignored by the standard.
  }

  #dispatch(events: SseEvent[]): void {
    if (this.#hasData) {
      const data = this.#data.length === 1 ? this.#data[0] : this.#data.join("\n");
      const event = this.#eventName === "" ? "message" : this.#eventName;
      events.push(
        this.#retry === undefined
          ? { event, data, id: this.#lastId }
          : { event, data, id: this.#lastId, retry: this.#retry },
      );
    }
    this.#eventName = "";
    this.#data = [];
    this.#hasData = false;
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
