import assert from "node:assert/strict";
import { NotEventStreamError, parseSse, type SseEvent, SseParser } from "./sse.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => encoder.encode(chunk)));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse(stream)) events.push(event);
  return events;
}

Deno.test("sse: an event without a name is a 'message' and ends at a blank line", async () => {
  const events = await collect(streamOf("data: hello\n\n"));
  assert.deepEqual(events, [{ event: "message", data: "hello", id: "" }]);
});

Deno.test("sse: multi-line data is joined with newlines", async () => {
  const events = await collect(
    streamOf("event: note\ndata: one\ndata: two\ndata:\ndata: four\n\n"),
  );
  assert.equal(events.length, 1);
  assert.equal(events[0].event, "note");
  assert.equal(events[0].data, "one\ntwo\n\nfour");
});

Deno.test("sse: comment lines are ignored and do not end an event", async () => {
  const events = await collect(
    streamOf(": keep-alive\n\ndata: a\n: in between\ndata: b\n\n:trailing comment\n"),
  );
  assert.deepEqual(events.map((e) => e.data), ["a\nb"]);
});

Deno.test("sse: CRLF, CR and LF line ends are all accepted", async () => {
  const events = await collect(streamOf("event: x\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n"));
  assert.deepEqual(events.map((e) => [e.event, e.data]), [["x", "1"], ["message", "2"], [
    "message",
    "3",
  ]]);
});

Deno.test("sse: a CRLF split across chunks is one line end, not an empty line", async () => {
  const events = await collect(streamOf("data: a\r", "\ndata: b\r", "\n\r", "\n"));
  assert.deepEqual(events.map((e) => e.data), ["a\nb"]);
});

Deno.test("sse: a field split across chunks, even inside a UTF-8 character, is reassembled", async () => {
  const bytes = new TextEncoder().encode("data: héllo wörld\n\n");
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.slice(i, i + 3));
  const events: SseEvent[] = [];
  for await (const event of parseSse(ReadableStream.from(chunks))) events.push(event);
  assert.deepEqual(events.map((e) => e.data), ["héllo wörld"]);
});

Deno.test("sse: only one space after the colon is stripped; a line without colon is a field name", async () => {
  const events = await collect(streamOf("data:  two spaces\n\ndata\n\n"));
  assert.deepEqual(events.map((e) => e.data), [" two spaces", ""]);
});

Deno.test("sse: id persists across events and retry is read when numeric", async () => {
  const events = await collect(
    streamOf("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nretry: soon\nid: 8\ndata: c\n\n"),
  );
  assert.deepEqual(events.map((e) => [e.id, e.retry, e.data]), [
    ["7", 1500, "a"],
    ["7", 1500, "b"],
    ["8", 1500, "c"],
  ]);
});

Deno.test("sse: an event name without data dispatches nothing and does not leak into the next", async () => {
  const events = await collect(streamOf("event: lonely\n\ndata: x\n\n"));
  assert.deepEqual(events, [{ event: "message", data: "x", id: "" }]);
});

Deno.test("sse: an unfinished event at end of stream is discarded", async () => {
  const events = await collect(streamOf('data: done\n\ndata: {"partial":'));
  assert.deepEqual(events.map((e) => e.data), ["done"]);
});

Deno.test("sse: a leading byte-order mark is skipped", async () => {
  const events = await collect(streamOf("\uFEFFdata: x\n\n"));
  assert.deepEqual(events.map((e) => e.data), ["x"]);
});

Deno.test("sse: stopping early cancels the underlying stream", async () => {
  let cancelled = false;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(encoder.encode("data: tick\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const event of parseSse(stream)) {
    assert.equal(event.data, "tick");
    break;
  }
  assert.equal(cancelled, true);
});

Deno.test("sse: the incremental parser returns events as lines complete", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("data: a"), []);
  assert.deepEqual(parser.push("\n"), []);
  assert.deepEqual(parser.push("\n").map((e) => e.data), ["a"]);
});

Deno.test("sse: bytes beyond maxEventBytes without a complete event end the stream; complete events reset the count", async () => {
  // Many small events add up to far more than the limit: each resets the count.
  const small = Array.from({ length: 50 }, (_, i) => `data: ${"x".repeat(40)}${i}\n\n`);
  const ok = await Array.fromAsync(parseSse(streamOf(...small), { maxEventBytes: 100 }));
  assert.equal(ok.length, 50);
  const huge = streamOf(
    "data: start\n\n",
    "data: ",
    ...Array.from({ length: 20 }, () => "z".repeat(10)),
  );
  await assert.rejects(
    async () => {
      for await (const _ of parseSse(huge, { maxEventBytes: 100, provider: "p" })) { /* drain */ }
    },
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "invalid_response");
      assert.match(error.message, /^p: a stream event is larger than 100 bytes/);
      return true;
    },
  );
});

Deno.test("sse: a body with text but no event at all is a NotEventStreamError carrying the text; an empty one is not", async () => {
  await assert.rejects(
    () => collect(streamOf('{"error":', '{"message":"nope"}}\n')),
    (error: NotEventStreamError) => {
      assert.ok(error instanceof NotEventStreamError);
      assert.equal(error.code, "invalid_response");
      assert.equal(error.body, '{"error":{"message":"nope"}}\n');
      return true;
    },
  );
  assert.deepEqual(await collect(streamOf("", "\n")), []);
  // Comments only (keep-alives) are not text that stands for an answer.
  assert.deepEqual(await collect(streamOf(": ping\n\n")), []);
});
