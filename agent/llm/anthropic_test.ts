import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import type { LlmError } from "./errors.ts";
import {
  assistantMessage,
  developerMessage,
  responseReasoning,
  responseText,
  responseToolCalls,
  systemMessage,
  toolCallFromObject,
  toolResultsMessage,
  userMessage,
} from "./messages.ts";
import type { RetryAttempt } from "./retry.ts";
import type { LlmRequest, LlmStreamEvent, ToolDefinition } from "./types.ts";
import { LoopbackServer, withEnv } from "./testdata/loopback_server.ts";

const shellTool: ToolDefinition = {
  name: "shell",
  description: "Run a shell command.",
  parameters: {
    type: "object",
    properties: { command: { type: "string" } },
    required: ["command"],
  },
};

function provider(server: LoopbackServer, onRetry?: (a: RetryAttempt) => void) {
  return createAnthropicProvider({
    apiKey: "sk-ant-test",
    baseUrl: server.baseUrl,
    retry: { baseDelayMs: 1, maxDelayMs: 1000, jitter: false, onRetry },
  });
}

const conversation: LlmRequest = {
  model: "claude-sonnet-4-5",
  messages: [
    systemMessage("You are a coding agent."),
    userMessage("Run the tests and list src."),
    developerMessage("Never push."),
    assistantMessage([
      {
        kind: "thinking",
        thinking: { text: "Two tools.", signature: "sig-1", provider: "anthropic" },
      },
      { kind: "thinking", thinking: { text: "opaque", redacted: true, provider: "anthropic" } },
      {
        kind: "thinking",
        thinking: { text: "openai summary", signature: "enc", provider: "openai" },
      },
      { kind: "text", text: "" },
      {
        kind: "tool_call",
        toolCall: toolCallFromObject("toolu_1", "shell", { command: "deno test" }),
      },
      {
        kind: "tool_call",
        toolCall: toolCallFromObject("toolu_2", "shell", { command: "ls src" }),
      },
    ]),
    toolResultsMessage([{ callId: "toolu_1", content: "exit 1: 2 failed", isError: true }]),
    toolResultsMessage([{ callId: "toolu_2", content: "main.ts", isError: false }]),
    userMessage("Go on."),
  ],
  tools: [shellTool],
  toolChoice: { mode: "required" },
  temperature: 0.2,
  stopSequences: ["</done>"],
  providerOptions: { anthropic: { beta_headers: ["interleaved-thinking-2025-05-14"], top_k: 5 } },
};

Deno.test("anthropic: system text is a parameter, tool results merge into one user turn, signed thinking round-trips, cache breakpoints on tools, system and the last block", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  await provider(server).complete(conversation);
  const [received] = server.received;
  assert.equal(received.path, "/v1/messages");
  assert.equal(received.headers["x-api-key"], "sk-ant-test");
  assert.equal(received.headers["anthropic-version"], "2023-06-01");
  assert.equal(received.headers["anthropic-beta"], "interleaved-thinking-2025-05-14");
  assert.equal(received.headers.authorization, undefined);
  assert.deepEqual(received.body, {
    model: "claude-sonnet-4-5",
    system: [{
      type: "text",
      text: "You are a coding agent.\n\nNever push.",
      cache_control: { type: "ephemeral" },
    }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Run the tests and list src." }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Two tools.", signature: "sig-1" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "tool_use", id: "toolu_1", name: "shell", input: { command: "deno test" } },
          { type: "tool_use", id: "toolu_2", name: "shell", input: { command: "ls src" } },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_1",
            content: "exit 1: 2 failed",
            is_error: true,
          },
          { type: "tool_result", tool_use_id: "toolu_2", content: "main.ts" },
          { type: "text", text: "Go on.", cache_control: { type: "ephemeral" } },
        ],
      },
    ],
    tools: [{
      name: "shell",
      description: "Run a shell command.",
      input_schema: shellTool.parameters,
      cache_control: { type: "ephemeral" },
    }],
    tool_choice: { type: "any" },
    max_tokens: 4096,
    temperature: 0.2,
    stop_sequences: ["</done>"],
    top_k: 5,
  });
});

Deno.test("anthropic: complete() reads tool_use blocks and counts cached prompt tokens as input", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  const response = await provider(server).complete({
    model: "claude-sonnet-4-5",
    messages: [userMessage("test")],
    tools: [shellTool],
  });
  assert.equal(responseText(response), "I'll run the tests.");
  assert.deepEqual(responseToolCalls(response).map((c) => [c.callId, c.name, c.arguments]), [[
    "toolu_01A",
    "shell",
    { command: "deno test", timeout_ms: 60000 },
  ]]);
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "tool_use" });
  assert.deepEqual(response.usage, {
    inputTokens: 960,
    outputTokens: 35,
    totalTokens: 995,
    cacheReadTokens: 900,
    cacheWriteTokens: 10,
  });
});

Deno.test("anthropic: a streamed thinking + tool_use turn folds into signed thinking, text and parsed arguments", async () => {
  await using server = LoopbackServer.start({
    file: "anthropic_thinking_tool_use.sse",
    chunkBytes: 5,
  });
  const events: LlmStreamEvent[] = [];
  const response = await foldStream(
    provider(server).stream({ model: "claude-sonnet-4-5", messages: [userMessage("ls")] }),
    (event) => events.push(event),
  );
  assert.equal(server.received[0].body.stream, true);
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "reasoning_start",
    "reasoning_delta",
    "reasoning_delta",
    "reasoning_end",
    "text_start",
    "text_delta",
    "text_delta",
    "text_end",
    "tool_call_start",
    "tool_call_delta",
    "tool_call_delta",
    "tool_call_delta",
    "tool_call_end",
    "finish",
  ]);
  assert.equal(response.id, "msg_02ABC");
  assert.equal(response.model, "claude-sonnet-4-5-20250929");
  assert.equal(responseReasoning(response), "The user wants the file listing.");
  const thinking = response.message.content[0];
  assert.equal(
    thinking.kind === "thinking" && thinking.thinking.signature,
    "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxsig",
  );
  assert.equal(responseText(response), "Listing files.");
  assert.deepEqual(responseToolCalls(response), [{
    callId: "toolu_02B",
    name: "list_dir",
    arguments: { path: "src", depth: 2 },
    rawArguments: '{"path": "src", "depth": 2}',
  }]);
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "tool_use" });
  assert.deepEqual(response.usage, {
    inputTokens: 1400,
    outputTokens: 87,
    totalTokens: 1487,
    reasoningTokens: 8, // estimated: 32 characters of thinking / 4
    cacheReadTokens: 1000,
    cacheWriteTokens: 0,
  });
});

Deno.test("anthropic: a 429 with Retry-After 0 is retried at once, then succeeds", async () => {
  await using server = LoopbackServer.start(
    { status: 429, file: "anthropic_rate_limit.json", headers: { "retry-after": "0" } },
    { file: "anthropic_thinking_tool_use.sse" },
  );
  const retries: RetryAttempt[] = [];
  const response = await foldStream(
    provider(server, (a) => retries.push(a)).stream({
      model: "claude-sonnet-4-5",
      messages: [userMessage("ls")],
    }),
  );
  assert.equal(responseText(response), "Listing files.");
  assert.equal(server.received.length, 2);
  assert.deepEqual(retries.map((r) => [r.error.code, r.error.providerCode, r.delayMs]), [[
    "rate_limit",
    "rate_limit_error",
    0,
  ]]);
});

Deno.test("anthropic: an in-stream overloaded error ends the stream after the partial text, without retry", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_overloaded.sse" });
  const events: LlmStreamEvent[] = [];
  for await (
    const event of provider(server).stream({
      model: "claude-sonnet-4-5",
      messages: [userMessage("x")],
    })
  ) events.push(event);
  assert.deepEqual(events.map((e) => e.type), [
    "stream_start",
    "text_start",
    "text_delta",
    "error",
  ]);
  const last = events.at(-1)!;
  assert.equal(last.type === "error" && last.error.code, "overloaded");
  assert.equal(last.type === "error" && last.error.retryable, true);
  assert.equal(last.type === "error" && last.error.providerCode, "overloaded_error");
  assert.equal(server.received.length, 1);
});

Deno.test("anthropic: 'prompt is too long' is a context_length error", async () => {
  await using server = LoopbackServer.start({
    status: 400,
    file: "anthropic_prompt_too_long.json",
  });
  await assert.rejects(
    provider(server).complete({ model: "claude-sonnet-4-5", messages: [userMessage("x")] }),
    (error: LlmError) => {
      assert.equal(error.code, "context_length");
      assert.match(error.message, /prompt is too long/);
      return true;
    },
  );
});

Deno.test("anthropic: tool choice 'none' leaves the tools out; 'named' picks one", async () => {
  await using server = LoopbackServer.start(
    { file: "anthropic_tool_use.json" },
    { file: "anthropic_tool_use.json" },
  );
  const p = provider(server);
  await p.complete({
    model: "m",
    messages: [userMessage("x")],
    tools: [shellTool],
    toolChoice: { mode: "none" },
  });
  await p.complete({
    model: "m",
    messages: [userMessage("x")],
    tools: [shellTool],
    toolChoice: { mode: "named", toolName: "shell" },
  });
  assert.equal("tools" in server.received[0].body, false);
  assert.equal("tool_choice" in server.received[0].body, false);
  assert.deepEqual(server.received[1].body.tool_choice, { type: "tool", name: "shell" });
});

Deno.test("anthropic: reasoning effort becomes a thinking budget below max_tokens", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  const p = provider(server);
  await p.complete({ model: "m", messages: [userMessage("x")], reasoningEffort: "low" });
  assert.deepEqual(server.received[0].body.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.equal(server.received[0].body.max_tokens, 2048 + 4096);
  await assert.rejects(
    p.complete({
      model: "m",
      messages: [userMessage("x")],
      reasoningEffort: "high",
      maxTokens: 1000,
    }),
    (error: LlmError) =>
      error.code === "configuration" && /maxTokens must exceed/.test(error.message),
  );
  assert.equal(server.received.length, 1);
});

Deno.test("anthropic: a missing key names ANTHROPIC_API_KEY", async () => {
  await withEnv({ ANTHROPIC_API_KEY: undefined }, () => {
    assert.throws(
      () => createAnthropicProvider(),
      (error: LlmError) =>
        error.code === "configuration" && error.message.includes("ANTHROPIC_API_KEY"),
    );
  });
});

Deno.test("anthropic: redacted thinking streams through opaque and a max_tokens stop is 'length'", async () => {
  const body = [
    ["message_start", {
      type: "message_start",
      message: { id: "m1", model: "claude", usage: { input_tokens: 3, output_tokens: 1 } },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["content_block_start", {
      type: "content_block_start",
      index: 1,
      content_block: { type: "text", text: "" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "text_delta", text: "cut" },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 1 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "max_tokens" },
      usage: { output_tokens: 10 },
    }],
    ["message_stop", { type: "message_stop" }],
  ].map(([name, data]) => `event: ${name}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`).join("");
  await using server = LoopbackServer.start({
    body,
    headers: { "content-type": "text/event-stream" },
    chunkBytes: 13,
  });
  const response = await foldStream(
    provider(server).stream({ model: "claude", messages: [userMessage("x")] }),
  );
  assert.deepEqual(response.message.content, [
    {
      kind: "thinking",
      thinking: { text: "EmwKAhgBEgy3va3pzix", redacted: true, provider: "anthropic" },
    },
    { kind: "text", text: "cut" },
  ]);
  assert.deepEqual(response.finishReason, { reason: "length", raw: "max_tokens" });
  assert.equal(response.usage.reasoningTokens, undefined);
});

Deno.test("anthropic: with promptCaching off the body carries no cache_control and system is a string", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  const p = createAnthropicProvider({
    apiKey: "k",
    baseUrl: server.baseUrl,
    promptCaching: false,
  });
  await p.complete(conversation);
  const body = server.received[0].body;
  assert.equal(body.system, "You are a coding agent.\n\nNever push.");
  assert.equal(JSON.stringify(body).includes("cache_control"), false);
});

Deno.test("anthropic: the end-of-conversation breakpoint skips thinking blocks, which cannot carry one", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  await provider(server).complete({
    model: "m",
    messages: [
      userMessage("q"),
      assistantMessage([
        { kind: "text", text: "partial" },
        { kind: "thinking", thinking: { text: "t", signature: "s", provider: "anthropic" } },
      ]),
    ],
  });
  const messages = server.received[0].body.messages as { content: Record<string, unknown>[] }[];
  assert.deepEqual(messages[1].content, [
    { type: "text", text: "partial", cache_control: { type: "ephemeral" } },
    { type: "thinking", thinking: "t", signature: "s" },
  ]);
  assert.equal("cache_control" in messages[0].content[0], false);
});
