import assert from "node:assert/strict";
import { foldStream, responseToEvents, StreamAccumulator } from "./accumulate.ts";
import { ServerError } from "./errors.ts";
import { makeUsage, toolCallFromObject } from "./messages.ts";
import type { LlmResponse, LlmStreamEvent } from "./types.ts";

async function* from(events: LlmStreamEvent[]): AsyncGenerator<LlmStreamEvent> {
  for (const event of events) yield event;
}

const response: LlmResponse = {
  id: "r1",
  model: "m",
  provider: "p",
  message: {
    role: "assistant",
    content: [
      { kind: "thinking", thinking: { text: "think", signature: "s", provider: "p" } },
      { kind: "text", text: "hello world" },
      { kind: "tool_call", toolCall: toolCallFromObject("c1", "t", { a: 1 }) },
    ],
  },
  finishReason: { reason: "tool_calls" },
  usage: makeUsage(3, 4),
  warnings: [],
};

Deno.test("accumulate: a response turned into events folds back into the same response", async () => {
  const events = responseToEvents(response, 4);
  assert.deepEqual(await foldStream(from(events)), response);
  const accumulator = new StreamAccumulator("p");
  for (const event of events) accumulator.add(event);
  assert.deepEqual(
    accumulator.response({ finishReason: response.finishReason, usage: response.usage }),
    response,
  );
});

Deno.test("accumulate: parts keep the order their segments started, even when interleaved", () => {
  const accumulator = new StreamAccumulator("p");
  const events: LlmStreamEvent[] = [
    { type: "stream_start", id: "x", model: "m" },
    { type: "text_start", textId: "t1" },
    { type: "tool_call_start", callId: "c1", name: "read" },
    { type: "text_delta", textId: "t1", delta: "hi " },
    { type: "tool_call_delta", callId: "c1", argumentsDelta: '{"p":' },
    { type: "text_delta", textId: "t1", delta: "there" },
    { type: "tool_call_delta", callId: "c1", argumentsDelta: "1}" },
  ];
  for (const event of events) accumulator.add(event);
  assert.deepEqual(accumulator.content(), [
    { kind: "text", text: "hi there" },
    {
      kind: "tool_call",
      toolCall: { callId: "c1", name: "read", arguments: { p: 1 }, rawArguments: '{"p":1}' },
    },
  ]);
  assert.equal(accumulator.hasToolCalls(), true);
});

Deno.test("accumulate: foldStream throws the stream's error event", async () => {
  const error = new ServerError("overloaded");
  await assert.rejects(
    foldStream(from([{ type: "stream_start" }, { type: "error", error }])),
    (thrown) => thrown === error,
  );
});

Deno.test("accumulate: a stream with neither finish nor error is an invalid_response", async () => {
  await assert.rejects(foldStream(from([{ type: "stream_start" }])), { code: "invalid_response" });
});

Deno.test("accumulate: an iterator that throws a plain error becomes a network error", async () => {
  async function* broken(): AsyncGenerator<LlmStreamEvent> {
    yield { type: "stream_start" };
    throw new TypeError("socket closed");
  }
  await assert.rejects(
    foldStream(broken()),
    (e: ServerError) => e.code === "network" && /socket closed/.test(e.message),
  );
});

Deno.test("accumulate: deltas are appended in order, an end event's whole text replaces them, and deltas after it append to that", () => {
  const accumulator = new StreamAccumulator("p");
  const events: LlmStreamEvent[] = [
    { type: "text_start", textId: "t" },
    { type: "reasoning_start", reasoningId: "r" },
    { type: "tool_call_start", callId: "c", name: "read" },
    ...["a", "b", "", "c"].map((delta): LlmStreamEvent => ({
      type: "text_delta",
      textId: "t",
      delta,
    })),
    { type: "reasoning_delta", reasoningId: "r", delta: "mu" },
    { type: "reasoning_delta", reasoningId: "r", delta: "sing" },
    { type: "tool_call_delta", callId: "c", argumentsDelta: '{"p"' },
    { type: "tool_call_delta", callId: "c", argumentsDelta: ":2}" },
  ];
  for (const event of events) accumulator.add(event);
  // Read twice: reading folds the deltas in and must not lose or repeat them.
  for (let read = 0; read < 2; read++) {
    assert.deepEqual(accumulator.content(), [
      { kind: "text", text: "abc" },
      { kind: "thinking", thinking: { text: "musing", provider: "p" } },
      {
        kind: "tool_call",
        toolCall: { callId: "c", name: "read", arguments: { p: 2 }, rawArguments: '{"p":2}' },
      },
    ]);
  }
  accumulator.add({ type: "text_delta", textId: "t", delta: "d" });
  accumulator.add({ type: "text_end", textId: "t", text: "whole" });
  accumulator.add({ type: "text_delta", textId: "t", delta: "!" });
  assert.deepEqual(accumulator.content()[0], { kind: "text", text: "whole!" });
});
