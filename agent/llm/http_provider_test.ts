/**
 * The stream of HttpLlmProvider hands out the events of one network chunk
 * without a trip through its async generator per event. These tests pin what
 * a consumer sees in the middle of a chunk, where that shortcut acts, to what
 * the plain generator gave: aborts, concurrent calls, return, throw, and
 * events after the finish.
 */
import assert from "node:assert/strict";
import { createAnthropicProvider } from "./anthropic.ts";
import type { LlmError } from "./errors.ts";
import type { LlmStreamEvent } from "./types.ts";

const encoder = new TextEncoder();

function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

const START = sseEvent("message_start", {
  type: "message_start",
  message: { id: "msg_1", model: "m", usage: { input_tokens: 3 } },
});
/** A text block that starts with text: one SSE event, two stream events. */
const TEXT_START = sseEvent("content_block_start", {
  type: "content_block_start",
  index: 0,
  content_block: { type: "text", text: "a" },
});
const delta = (text: string) =>
  sseEvent("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text },
  });
const END = [
  sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
  sseEvent("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn" },
    usage: { output_tokens: 5 },
  }),
  sseEvent("message_stop", { type: "message_stop" }),
].join("");
const WHOLE = START + TEXT_START + delta("b") + delta("c") + delta("d") + END;

/**
 * A provider whose every response is `chunks`, then a connection that stays
 * open (so a body left early is cancelled, not closed); `cancelled` counts
 * cancelled bodies.
 */
function providerOf(chunks: string[]) {
  const state = { cancelled: 0 };
  const provider = createAnthropicProvider({
    apiKey: "k",
    baseUrl: "http://model.invalid/v1",
    retry: { maxRetries: 0 },
    fetch: () => {
      let next = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (next === chunks.length) return new Promise(() => {});
          controller.enqueue(encoder.encode(chunks[next++]));
        },
        cancel() {
          state.cancelled++;
        },
      });
      return Promise.resolve(
        new Response(body, { headers: { "content-type": "text/event-stream" } }),
      );
    },
  });
  return { provider, state };
}

const REQUEST = { model: "m", messages: [] };

/** Splits `text` into pieces of `size` characters (ASCII here, so bytes too). */
function cut(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

const summary = (event: LlmStreamEvent): string =>
  event.type === "text_delta"
    ? `text_delta:${event.delta}`
    : event.type === "error"
    ? `error:${(event.error as LlmError).code}`
    : event.type;

Deno.test("http stream: an abort between two events of one chunk is seen at the next SSE event, not the next stream event", async () => {
  const { provider, state } = providerOf([WHOLE]);
  const controller = new AbortController();
  const seen: string[] = [];
  for await (const event of provider.stream(REQUEST, controller.signal)) {
    seen.push(summary(event));
    // text_start and text_delta "a" come from one SSE event: the delta still comes.
    if (event.type === "text_start") controller.abort();
  }
  assert.deepEqual(seen, ["stream_start", "text_start", "text_delta:a", "error:aborted"]);
  assert.equal(state.cancelled, 1, "the body is released");
});

Deno.test("http stream: calls to next() made at once get the events in order, as one at a time does, however the body is cut", async () => {
  let whole: string[] | undefined;
  for (const size of [WHOLE.length, 97, 7, 1]) {
    const sequential =
      (await Array.fromAsync(providerOf(cut(WHOLE, size)).provider.stream(REQUEST)))
        .map(summary);
    assert.equal(sequential.at(-1), "finish");
    whole ??= sequential;
    assert.deepEqual(sequential, whole, `chunks of ${size}`);
    const stream = providerOf(cut(WHOLE, size)).provider.stream(REQUEST);
    const results = await Promise.all(
      Array.from({ length: sequential.length + 2 }, () => stream.next()),
    );
    assert.deepEqual(
      results.map((result) => result.done ? "done" : summary(result.value)),
      [...sequential, "done", "done"],
      `chunks of ${size}`,
    );
  }
});

Deno.test("http stream: return() in the middle of a chunk ends the stream and releases the body; a next() asked before it is answered first", async () => {
  const { provider, state } = providerOf([WHOLE]);
  const stream = provider.stream(REQUEST);
  assert.equal(summary((await stream.next()).value as LlmStreamEvent), "stream_start");
  const [before, ended, after] = await Promise.all([
    stream.next(),
    stream.return(undefined),
    stream.next(),
  ]);
  assert.equal(summary(before.value as LlmStreamEvent), "text_start");
  assert.deepEqual(ended, { value: undefined, done: true });
  assert.deepEqual(after, { value: undefined, done: true });
  assert.equal(state.cancelled, 1);
});

Deno.test("http stream: throw() in the middle of a chunk ends the stream with an error event, then done", async () => {
  const { provider, state } = providerOf([WHOLE]);
  const stream = provider.stream(REQUEST);
  await stream.next();
  await stream.next();
  const thrown = await stream.throw(new Error("consumer gave up"));
  assert.equal(thrown.done, false);
  const event = thrown.value as LlmStreamEvent;
  assert.equal(event.type, "error");
  const error = (event as { error: LlmError }).error;
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /consumer gave up/);
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  assert.equal(state.cancelled, 1);
});

Deno.test("http stream: events after the finish in the same chunk are never read; the stream ends with finish", async () => {
  const trailing = sseEvent("error", {
    type: "error",
    error: { type: "overloaded_error", message: "too late" },
  });
  const { provider } = providerOf([WHOLE + trailing + "not an event at all\n\n"]);
  const events = await Array.fromAsync(provider.stream(REQUEST));
  assert.equal(events.at(-1)?.type, "finish");
  const finish = events.at(-1) as Extract<LlmStreamEvent, { type: "finish" }>;
  assert.deepEqual(finish.response.message.content, [{ kind: "text", text: "abcd" }]);
});

Deno.test("http stream: a stream read through `await using` and left early releases its body", async () => {
  const { provider, state } = providerOf([WHOLE]);
  {
    await using stream = provider.stream(REQUEST);
    assert.equal(summary((await stream.next()).value as LlmStreamEvent), "stream_start");
  }
  assert.equal(state.cancelled, 1);
});
