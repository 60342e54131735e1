import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import { LlmError } from "./errors.ts";
import {
  assistantMessage,
  responseText,
  responseToolCalls,
  systemMessage,
  toolResultMessage,
  userMessage,
} from "./messages.ts";
import {
  ScriptedProvider,
  type ScriptedToolCall,
  type Transcript,
  TranscriptRecorder,
} from "./scripted.ts";
import type { LlmRequest, LlmStreamEvent, ToolDefinition } from "./types.ts";

const writeFile: ToolDefinition = {
  name: "write_file",
  description: "Write a file.",
  parameters: { type: "object", properties: { path: { type: "string" } } },
};

const ask = (text: string): LlmRequest => ({ model: "demo-model", messages: [userMessage(text)] });

Deno.test("scripted: replies come out in order, tool calls get deterministic ids", async () => {
  const provider = new ScriptedProvider([
    { text: "Writing.", toolCalls: [{ name: "write_file", arguments: { path: "a" } }] },
    { text: "Done." },
  ]);
  const first = await provider.complete(ask("go"));
  const second = await provider.complete(ask("next"));
  assert.equal(first.id, "scripted-1");
  assert.equal(responseText(first), "Writing.");
  assert.deepEqual(responseToolCalls(first), [{
    callId: "call_1_0",
    name: "write_file",
    arguments: { path: "a" },
    rawArguments: '{"path":"a"}',
  }]);
  assert.deepEqual(first.finishReason, { reason: "tool_calls" });
  assert.equal(responseText(second), "Done.");
  assert.deepEqual(second.finishReason, { reason: "stop" });
  assert.equal(provider.remaining, 0);
});

Deno.test("scripted: the same script and requests give identical responses", async () => {
  const script = [{ text: "x", thinking: "y", toolCalls: [{ name: "t" }] }];
  const a = await new ScriptedProvider(script).complete(ask("q"));
  const b = await new ScriptedProvider(script).complete(ask("q"));
  assert.deepEqual(a, b);
});

Deno.test("scripted: it records the requests it received, as copies", async () => {
  const provider = new ScriptedProvider([{ text: "ok" }]);
  const messages = [userMessage("hello")];
  await provider.complete({ model: "m", messages, tools: [writeFile] });
  messages.push(userMessage("mutated later"));
  assert.equal(provider.requests.length, 1);
  assert.equal(provider.requests[0].messages.length, 1);
  assert.deepEqual(provider.requests[0].tools?.map((t) => t.name), ["write_file"]);
});

Deno.test("scripted: streaming yields the same response as complete(), cut into events", async () => {
  const script = [{
    text: "A fairly long answer text.",
    toolCalls: [{ name: "write_file", arguments: { path: "p" } }],
  }];
  const completed = await new ScriptedProvider(script, { chunkSize: 8 }).complete(ask("q"));
  const events: LlmStreamEvent[] = [];
  const streamed = await foldStream(
    new ScriptedProvider(script, { chunkSize: 8 }).stream(ask("q")),
    (event) => events.push(event),
  );
  assert.deepEqual(streamed, completed);
  assert.deepEqual(
    events.filter((e) => e.type === "text_delta").map((e) => e.type === "text_delta" && e.delta),
    ["A fairly", " long an", "swer tex", "t."],
  );
  assert.equal(events[0].type, "stream_start");
  assert.equal(events.at(-1)!.type, "finish");
});

Deno.test("scripted: a scripted failure rejects complete() and ends a stream with an error event", async () => {
  const provider = new ScriptedProvider([
    { error: { code: "rate_limit", message: "slow down" } },
    { error: { code: "context_length", message: "too long" } },
  ]);
  await assert.rejects(
    provider.complete(ask("a")),
    (error: LlmError) =>
      error instanceof LlmError && error.code === "rate_limit" && error.retryable,
  );
  const events: LlmStreamEvent[] = [];
  for await (const event of provider.stream(ask("b"))) events.push(event);
  assert.equal(events.length, 1);
  assert.equal(events[0].type === "error" && events[0].error.code, "context_length");
});

Deno.test("scripted: running out of replies is a clear error, not a made-up answer", async () => {
  const provider = new ScriptedProvider([{ text: "only one" }]);
  await provider.complete(ask("1"));
  await assert.rejects(
    provider.complete(ask("2")),
    (error: LlmError) =>
      error.code === "configuration" && /no reply left for request #2/.test(error.message),
  );
});

Deno.test("scripted: an abort during a stream ends it with an aborted error", async () => {
  const provider = new ScriptedProvider([{ text: "x".repeat(200) }], { chunkSize: 10 });
  const controller = new AbortController();
  const events: LlmStreamEvent[] = [];
  for await (const event of provider.stream(ask("q"), controller.signal)) {
    events.push(event);
    if (event.type === "text_delta") controller.abort();
  }
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "text_start",
    "text_delta",
    "error",
  ]);
  await assert.rejects(provider.complete(ask("again"), AbortSignal.abort()), { code: "aborted" });
});

Deno.test("scripted: invalid replies are refused when enqueued", () => {
  assert.throws(
    () => new ScriptedProvider([{ toolCalls: [{ name: "" }] }]),
    (error: LlmError) => error.code === "configuration" && /toolCalls\.0\.name/.test(error.message),
  );
});

Deno.test("scripted: a transcript file replays its exchanges and checks each request", async () => {
  const provider = await ScriptedProvider.fromTranscriptFile(
    new URL("./testdata/scripted_transcript.json", import.meta.url),
  );
  const messages = [systemMessage("You are a coding agent."), userMessage("Create hello.txt")];
  const first = await provider.complete({ model: "demo-model", messages, tools: [writeFile] });
  assert.deepEqual(responseToolCalls(first)[0].arguments, { path: "hello.txt", content: "hi\n" });
  const second = await provider.complete({
    model: "demo-model",
    messages: [
      ...messages,
      first.message,
      toolResultMessage(responseToolCalls(first)[0].callId, "ok"),
    ],
    tools: [writeFile],
  });
  assert.equal(responseText(second), "Done: hello.txt exists.");
  assert.equal(second.id, "rec-2");
});

Deno.test("scripted: a request that strays from the transcript is an invalid_request naming the difference", async () => {
  const provider = await ScriptedProvider.fromTranscriptFile(
    new URL("./testdata/scripted_transcript.json", import.meta.url),
  );
  await assert.rejects(
    provider.complete({
      model: "demo-model",
      messages: [systemMessage("You are a coding agent."), userMessage("Create bye.txt")],
      tools: [writeFile],
    }),
    (error: LlmError) =>
      error.code === "invalid_request" && /request #1/.test(error.message) &&
      /messages\[1\] differs/.test(error.message),
  );
});

Deno.test("scripted: a malformed transcript is refused with the path of the problem", async () => {
  assert.throws(
    () => ScriptedProvider.fromTranscript({ version: 1, exchanges: [{}] } as unknown as Transcript),
    (error: LlmError) => error.code === "configuration" && /exchanges\.0/.test(error.message),
  );
  await assert.rejects(
    ScriptedProvider.fromTranscriptFile("/nonexistent/transcript.json"),
    (error: LlmError) =>
      error.code === "configuration" && /cannot read transcript/.test(error.message),
  );
});

Deno.test("scripted: a recorder's transcript replays the same conversation", async () => {
  const recorder = new TranscriptRecorder(
    new ScriptedProvider([{ toolCalls: [{ name: "write_file" }] }, { text: "bye" }]),
  );
  const r1 = await recorder.complete(ask("one"));
  const r2 = await foldStream(
    recorder.stream({ model: "demo-model", messages: [userMessage("one"), assistantMessage("x")] }),
  );
  const transcript = recorder.transcript();
  assert.equal(transcript.exchanges.length, 2);
  const replay = ScriptedProvider.fromTranscript(transcript);
  assert.deepEqual(await replay.complete(ask("one")), r1);
  assert.deepEqual(
    await replay.complete({
      model: "demo-model",
      messages: [userMessage("one"), assistantMessage("x")],
    }),
    r2,
  );
});

Deno.test("scripted: a transcript written with the earlier call-id name `id` replays with callId", async () => {
  // vocabulary-keep: a transcript in the earlier format, with `id` for the call id.
  const transcript = {
    version: 1,
    exchanges: [
      { reply: { toolCalls: [{ id: "old-1", name: "write_file", arguments: { path: "a" } }] } },
      {
        response: {
          id: "rec-2",
          model: "m",
          provider: "recorded",
          message: {
            role: "assistant",
            content: [{
              kind: "tool_call",
              toolCall: { id: "old-2", name: "read_file", arguments: {}, rawArguments: "{}" },
            }],
          },
          finishReason: { reason: "tool_calls" },
          usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
          warnings: [],
        },
      },
    ],
  } as unknown as Transcript;
  const replay = ScriptedProvider.fromTranscript(transcript);
  const first = responseToolCalls(await replay.complete(ask("go")));
  const second = responseToolCalls(await replay.complete(ask("next")));
  assert.equal(first[0].callId, "old-1");
  assert.equal(second[0].callId, "old-2");
  assert.ok(!("id" in second[0]), "the earlier name is not kept beside the new one");
  const direct = new ScriptedProvider([
    { toolCalls: [{ id: "js-1", name: "t" } as unknown as ScriptedToolCall] },
  ]);
  assert.equal(responseToolCalls(await direct.complete(ask("x")))[0].callId, "js-1");
});
