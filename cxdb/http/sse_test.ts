import assert from "node:assert/strict";
import { parseSse, type SseEvent } from "./sse.ts";

function bytes(text: string, size: number): ReadableStream<Uint8Array> {
  const all = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
  return ReadableStream.from(chunks);
}

Deno.test("cxdb sse: events cut into 3-byte pieces, with names, ids, comments and CRLF", async () => {
  const text = ': hello\r\nevent: turn_appended\r\nid: 7\r\ndata: {"turn_id":"1"}\r\n\r\n' +
    "data: plain\ndata: two\n\n";
  const events: SseEvent[] = [];
  for await (const event of parseSse(bytes(text, 3))) events.push(event);
  assert.deepEqual(events, [
    { event: "turn_appended", data: '{"turn_id":"1"}', id: "7" },
    { event: "message", data: "plain\ntwo" },
  ]);
});

Deno.test("cxdb sse: the signal stops the iteration and releases the stream", async () => {
  const controller = new AbortController();
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new TextEncoder().encode("data: tick\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  let seen = 0;
  for await (const _ of parseSse(stream, controller.signal)) {
    if (++seen === 3) controller.abort();
  }
  assert.ok(seen >= 3);
  assert.equal(cancelled, true);
});
