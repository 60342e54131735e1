/**
 * Server-sent events: bytes in, events out, as an async iterable. The parsing
 * is `eventsource-parser`, the same WHATWG parser the agent's model clients
 * use (see agent/llm/README.md for why a library and not our own).
 *
 * @module
 */

import { createParser } from "eventsource-parser";

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` name; "message" when absent. */
  readonly event: string;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
  /** The `id:` field, when sent. */
  readonly id?: string;
}

/** Parses an SSE byte stream into events; comments and heartbeats are skipped. */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let pending: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => {
      pending.push({
        event: message.event ?? "message",
        data: message.data,
        ...(message.id ? { id: message.id } : {}),
      });
    },
  });
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
      if (pending.length > 0) {
        const ready = pending;
        pending = [];
        yield* ready;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
  }
}
