import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import type { LlmError } from "./errors.ts";
import {
  assistantMessage,
  developerMessage,
  responseReasoning,
  responseText,
  responseToolCalls,
  systemMessage,
  toolCallFromObject,
  toolResultMessage,
  userMessage,
} from "./messages.ts";
import { createOpenAiCompatibleProvider } from "./openai_compat.ts";
import type { RetryAttempt } from "./retry.ts";
import type { LlmStreamEvent, ToolDefinition } from "./types.ts";
import { LoopbackServer, withEnv } from "./testdata/loopback_server.ts";

const readFileTool: ToolDefinition = {
  name: "read_file",
  description: "Read a file.",
  parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
};

const fastRetry = { baseDelayMs: 1, maxDelayMs: 1000, jitter: false };

function provider(server: LoopbackServer, onRetry?: (a: RetryAttempt) => void) {
  return createOpenAiCompatibleProvider({
    baseUrl: server.baseUrl,
    retry: { ...fastRetry, onRetry },
  });
}

Deno.test("openai-compatible: the body uses chat messages, assistant tool_calls and tool-role results", async () => {
  await using server = LoopbackServer.start({ file: "chat_tool_calls.sse" });
  await foldStream(
    provider(server).stream({
      model: "qwen2.5-coder:7b",
      messages: [
        systemMessage("You are a coding agent."),
        developerMessage("Be brief."),
        userMessage("Read a.ts"),
        assistantMessage([
          { kind: "thinking", thinking: { text: "hmm", provider: "openai-compatible" } },
          {
            kind: "tool_call",
            toolCall: toolCallFromObject("call_0", "read_file", { path: "a.ts" }),
          },
        ]),
        toolResultMessage("call_0", "no such file", { isError: true }),
      ],
      tools: [readFileTool],
      toolChoice: { mode: "named", toolName: "read_file" },
      maxTokens: 512,
      stopSequences: ["<|end|>"],
    }),
  );
  const [received] = server.received;
  assert.equal(received.path, "/v1/chat/completions");
  assert.equal(received.headers.authorization, undefined);
  assert.deepEqual(received.body, {
    model: "qwen2.5-coder:7b",
    messages: [
      { role: "system", content: "You are a coding agent." },
      { role: "system", content: "Be brief." },
      { role: "user", content: "Read a.ts" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_0",
          type: "function",
          function: { name: "read_file", arguments: '{"path":"a.ts"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_0", content: "no such file" },
    ],
    tools: [{
      type: "function",
      function: {
        name: "read_file",
        description: "Read a file.",
        parameters: readFileTool.parameters,
      },
    }],
    tool_choice: { type: "function", function: { name: "read_file" } },
    max_tokens: 512,
    stop: ["<|end|>"],
    stream: true,
    stream_options: { include_usage: true },
  });
});

Deno.test("openai-compatible: streamed tool calls by index fold into complete calls, with usage after finish", async () => {
  await using server = LoopbackServer.start({ file: "chat_tool_calls.sse", chunkBytes: 11 });
  const events: LlmStreamEvent[] = [];
  const response = await foldStream(
    provider(server).stream({ model: "qwen2.5-coder:7b", messages: [userMessage("read")] }),
    (event) => events.push(event),
  );
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "text_start",
    "text_delta",
    "tool_call_start",
    "tool_call_delta",
    "tool_call_delta",
    "tool_call_start",
    "tool_call_delta",
    "text_end",
    "tool_call_end",
    "tool_call_end",
    "finish",
  ]);
  assert.equal(responseText(response), "Checking both.");
  assert.deepEqual(responseToolCalls(response).map((c) => [c.callId, c.name, c.arguments]), [
    ["call_r1", "read_file", { path: "a.ts" }],
    ["call_r2", "read_file", { path: "b.ts" }],
  ]);
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "tool_calls" });
  assert.deepEqual(response.usage, { inputTokens: 210, outputTokens: 31, totalTokens: 241 });
  assert.equal(response.provider, "openai-compatible");
  assert.equal(response.model, "qwen2.5-coder:7b");
});

Deno.test("openai-compatible: complete() reads text and reasoning_content", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json" });
  const response = await provider(server).complete({ model: "m", messages: [userMessage("x")] });
  assert.equal(responseText(response), "All tests pass.");
  assert.equal(responseReasoning(response), "The output shows ok.");
  assert.deepEqual(response.finishReason, { reason: "stop", raw: "stop" });
  assert.deepEqual(response.usage, { inputTokens: 90, outputTokens: 12, totalTokens: 102 });
  assert.equal(server.received[0].body.stream, undefined);
});

Deno.test("openai-compatible: 500s on every attempt end the stream with a server error after the retries", async () => {
  const fail = { status: 500, file: "chat_server_error.json" };
  await using server = LoopbackServer.start(fail, fail, fail);
  const retries: RetryAttempt[] = [];
  const events: LlmStreamEvent[] = [];
  for await (
    const event of provider(server, (a) => retries.push(a)).stream({
      model: "m",
      messages: [userMessage("x")],
    })
  ) events.push(event);
  assert.equal(events.length, 1);
  const only = events[0];
  assert.equal(only.type, "error");
  assert.equal(only.type === "error" && only.error.code, "server");
  assert.match(
    only.type === "error" ? only.error.message : "",
    /HTTP 500: model runner has unexpectedly stopped/,
  );
  assert.equal(server.received.length, 3);
  assert.deepEqual(retries.map((r) => r.delayMs), [1, 2]);
});

Deno.test("openai-compatible: aborting mid-stream yields an aborted error and frees the connection", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.sse", hangAfterBytes: 400 });
  const controller = new AbortController();
  const events: LlmStreamEvent[] = [];
  for await (
    const event of provider(server).stream(
      { model: "m", messages: [userMessage("count")] },
      controller.signal,
    )
  ) {
    events.push(event);
    if (event.type === "text_delta") controller.abort();
  }
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "text_start",
    "text_delta",
    "error",
  ]);
  const last = events.at(-1)!;
  assert.equal(last.type === "error" && last.error.code, "aborted");
  await server.clientGone.promise;
});

Deno.test("openai-compatible: a whole text stream without usage still finishes", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.sse", chunkBytes: 3 });
  const response = await foldStream(
    provider(server).stream({ model: "m", messages: [userMessage("x")] }),
  );
  assert.equal(responseText(response), "One two three four.");
  assert.deepEqual(response.finishReason, { reason: "stop", raw: "stop" });
  assert.deepEqual(response.usage, { inputTokens: 0, outputTokens: 0, totalTokens: 0 });
});

Deno.test("openai-compatible: OLLAMA_BASE_URL is a server root to which /v1 is appended; the key is optional", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json" }, { file: "chat_text.json" });
  const root = server.baseUrl.replace(/\/v1$/, "");
  await withEnv(
    {
      FORGE_OPENAI_COMPAT_BASE_URL: undefined,
      OLLAMA_BASE_URL: root,
      FORGE_OPENAI_COMPAT_API_KEY: undefined,
    },
    () => createOpenAiCompatibleProvider().complete({ model: "m", messages: [userMessage("x")] }),
  );
  await withEnv(
    { FORGE_OPENAI_COMPAT_BASE_URL: server.baseUrl, FORGE_OPENAI_COMPAT_API_KEY: "local-key" },
    () => createOpenAiCompatibleProvider().complete({ model: "m", messages: [userMessage("x")] }),
  );
  assert.equal(server.received[0].path, "/v1/chat/completions");
  assert.equal(server.received[0].headers.authorization, undefined);
  assert.equal(server.received[1].headers.authorization, "Bearer local-key");
});

Deno.test("openai-compatible: no base URL is a configuration error naming both variables", async () => {
  await withEnv({ FORGE_OPENAI_COMPAT_BASE_URL: undefined, OLLAMA_BASE_URL: undefined }, () => {
    assert.throws(
      () => createOpenAiCompatibleProvider(),
      (error: LlmError) =>
        error.code === "configuration" &&
        error.message.includes("FORGE_OPENAI_COMPAT_BASE_URL") &&
        error.message.includes("OLLAMA_BASE_URL"),
    );
  });
  assert.throws(() => createOpenAiCompatibleProvider({ baseUrl: "not a url" }), {
    code: "configuration",
  });
});

Deno.test("openai-compatible: an error object inside the stream is reported, not swallowed", async () => {
  await using server = LoopbackServer.start({
    body:
      'data: {"error":{"message":"context length exceeded: 9000 > 8192","type":"invalid_request_error"}}\n\n',
    headers: { "content-type": "text/event-stream" },
  });
  await assert.rejects(
    foldStream(provider(server).stream({ model: "m", messages: [userMessage("x")] })),
    { code: "context_length" },
  );
});

Deno.test("openai-compatible: a connection refused is a network error after the retries", async () => {
  // Bind then close a port so nothing listens on it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const p = createOpenAiCompatibleProvider({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    retry: { ...fastRetry, maxRetries: 1 },
  });
  await assert.rejects(
    p.complete({ model: "m", messages: [userMessage("x")] }),
    (error: LlmError) =>
      error.code === "network" && error.retryable && /connection failed/.test(error.message),
  );
});

Deno.test("openai-compatible: a response slower than timeoutMs ends with code 'timeout', not retried", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json", hangAfterBytes: 20 });
  const p = createOpenAiCompatibleProvider({
    baseUrl: server.baseUrl,
    timeoutMs: 50,
    retry: fastRetry,
  });
  await assert.rejects(
    p.complete({ model: "m", messages: [userMessage("x")] }),
    (error: LlmError) => error.code === "timeout" && /took longer than 50 ms/.test(error.message),
  );
  assert.equal(server.received.length, 1);
  await server.clientGone.promise;
});

Deno.test("openai-compatible: a stream silent for longer than streamIdleTimeoutMs ends with a timeout error", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.sse", hangAfterBytes: 400 });
  const p = createOpenAiCompatibleProvider({
    baseUrl: server.baseUrl,
    streamIdleTimeoutMs: 50,
    retry: fastRetry,
  });
  const events: LlmStreamEvent[] = [];
  for await (const event of p.stream({ model: "m", messages: [userMessage("x")] })) {
    events.push(event);
  }
  // Everything before the silence (two deltas fit in 400 bytes) is delivered, then the timeout.
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "text_start",
    "text_delta",
    "text_delta",
    "error",
  ]);
  const last = events.at(-1)!;
  assert.equal(last.type === "error" && last.error.code, "timeout");
  await server.clientGone.promise;
});

Deno.test("openai-compatible: a slow consumer does not trip the idle timeout", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.sse", chunkBytes: 200 });
  const p = createOpenAiCompatibleProvider({
    baseUrl: server.baseUrl,
    streamIdleTimeoutMs: 30,
    retry: fastRetry,
  });
  const response = await foldStream(
    p.stream({ model: "m", messages: [userMessage("x")] }),
    () => {},
  );
  assert.equal(responseText(response), "One two three four.");
  // Now with pauses longer than the idle limit between events.
  await using again = LoopbackServer.start({ file: "chat_text.sse", chunkBytes: 200 });
  const slow = createOpenAiCompatibleProvider({
    baseUrl: again.baseUrl,
    streamIdleTimeoutMs: 30,
    retry: fastRetry,
  });
  let finished = false;
  for await (const event of slow.stream({ model: "m", messages: [userMessage("x")] })) {
    assert.notEqual(event.type, "error");
    if (event.type === "finish") finished = true;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  assert.equal(finished, true);
});

Deno.test("openai-compatible: aborting complete() while the body is arriving rejects with 'aborted'", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json", hangAfterBytes: 20 });
  const controller = new AbortController();
  const pending = provider(server).complete(
    { model: "m", messages: [userMessage("x")] },
    controller.signal,
  );
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending, { code: "aborted" });
  assert.equal(server.received.length, 1);
});

Deno.test("openai-compatible: a server that ignores stream:true and sends JSON is still streamed as events", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json" });
  const events: LlmStreamEvent[] = [];
  const response = await foldStream(
    provider(server).stream({ model: "m", messages: [userMessage("x")] }),
    (event) => events.push(event),
  );
  assert.equal(server.received[0].body.stream, true);
  assert.equal(responseText(response), "All tests pass.");
  assert.equal(events[0].type, "stream_start");
  assert.equal(events.some((e) => e.type === "text_delta"), true);
  assert.equal(events.some((e) => e.type === "reasoning_end"), true);
});

Deno.test("openai-compatible: a streamed call with broken argument JSON keeps the raw text and flags it", async () => {
  const chunk = (delta: unknown, finish: string | null = null) =>
    `data: ${
      JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })
    }\n\n`;
  await using server = LoopbackServer.start({
    headers: { "content-type": "text/event-stream" },
    body: chunk({
      tool_calls: [{
        index: 0,
        id: "call_x",
        function: { name: "shell", arguments: '{"cmd": "ls' },
      }],
    }) +
      chunk({}, "tool_calls") + "data: [DONE]\n\n",
  });
  const response = await foldStream(
    provider(server).stream({ model: "m", messages: [userMessage("x")] }),
  );
  const [call] = responseToolCalls(response);
  assert.equal(call.rawArguments, '{"cmd": "ls');
  assert.deepEqual(call.arguments, {});
  assert.match(call.argumentsError!, /not valid JSON/);
});
