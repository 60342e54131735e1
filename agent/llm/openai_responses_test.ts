import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import { ConfigurationError, type LlmError } from "./errors.ts";
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
import { createOpenAiResponsesProvider } from "./openai_responses.ts";
import type { RetryAttempt } from "./retry.ts";
import type { LlmRequest, LlmStreamEvent, ToolDefinition } from "./types.ts";
import { LoopbackServer, withEnv } from "./testdata/loopback_server.ts";

const readFileTool: ToolDefinition = {
  name: "read_file",
  description: "Read a UTF-8 file.",
  parameters: {
    type: "object",
    properties: { path: { type: "string" } },
    required: ["path"],
  },
};

const fastRetry = { baseDelayMs: 1, maxDelayMs: 1000, jitter: false };

function provider(server: LoopbackServer, onRetry?: (a: RetryAttempt) => void) {
  return createOpenAiResponsesProvider({
    apiKey: "sk-test",
    baseUrl: server.baseUrl,
    retry: { ...fastRetry, onRetry },
  });
}

const conversation: LlmRequest = {
  model: "gpt-5",
  messages: [
    systemMessage("You are a coding agent."),
    developerMessage("Work in /repo."),
    userMessage("What does src/main.ts export?"),
    assistantMessage([
      {
        kind: "thinking",
        thinking: { text: "Read it.", signature: "enc-1", id: "rs_prev", provider: "openai" },
      },
      { kind: "thinking", thinking: { text: "claude's", signature: "sig", provider: "anthropic" } },
      { kind: "text", text: "Reading." },
      { kind: "tool_call", toolCall: toolCallFromObject("call_1", "read_file", { path: "a" }) },
    ]),
    toolResultMessage("call_1", "export function main() {}"),
  ],
  tools: [readFileTool],
  reasoningEffort: "medium",
  maxTokens: 2000,
  metadata: { session: "s1" },
  providerOptions: { openai: { store: false }, anthropic: { ignored: true } },
};

Deno.test("openai responses: the request body puts system text in instructions and calls/results as items", async () => {
  await using server = LoopbackServer.start({ file: "openai_responses_text.json" });
  await provider(server).complete(conversation);
  const [received] = server.received;
  assert.equal(received.path, "/v1/responses");
  assert.equal(received.headers.authorization, "Bearer sk-test");
  assert.deepEqual(received.body, {
    model: "gpt-5",
    instructions: "You are a coding agent.\n\nWork in /repo.",
    input: [
      {
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "What does src/main.ts export?" }],
      },
      {
        type: "reasoning",
        id: "rs_prev",
        summary: [{ type: "summary_text", text: "Read it." }],
        encrypted_content: "enc-1",
      },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Reading." }] },
      { type: "function_call", call_id: "call_1", name: "read_file", arguments: '{"path":"a"}' },
      { type: "function_call_output", call_id: "call_1", output: "export function main() {}" },
    ],
    tools: [{
      type: "function",
      name: "read_file",
      description: "Read a UTF-8 file.",
      parameters: readFileTool.parameters,
      strict: false,
    }],
    tool_choice: "auto",
    reasoning: { effort: "medium" },
    max_output_tokens: 2000,
    metadata: { session: "s1" },
    store: false,
  });
});

Deno.test("openai responses: complete() reads text, usage with reasoning and cached tokens", async () => {
  await using server = LoopbackServer.start({
    file: "openai_responses_text.json",
    headers: { "x-ratelimit-remaining-requests": "499", "x-ratelimit-limit-requests": "500" },
  });
  const response = await provider(server).complete({
    model: "gpt-5",
    messages: [userMessage("hi")],
  });
  assert.equal(response.id, "resp_02");
  assert.equal(response.provider, "openai");
  assert.equal(responseText(response), "The file exports main().");
  assert.deepEqual(response.finishReason, { reason: "stop", raw: "completed" });
  assert.deepEqual(response.usage, {
    inputTokens: 300,
    outputTokens: 18,
    totalTokens: 318,
    reasoningTokens: 10,
    cacheReadTokens: 256,
  });
  assert.deepEqual(response.rateLimit, { requestsRemaining: 499, requestsLimit: 500 });
  // An empty reasoning item (no summary, no encrypted content) carries nothing to keep.
  assert.equal(response.message.content.length, 1);
});

Deno.test("openai responses: a streamed tool call arrives as start, argument deltas and end", async () => {
  await using server = LoopbackServer.start({
    file: "openai_responses_tool_call.sse",
    chunkBytes: 7,
  });
  const events: LlmStreamEvent[] = [];
  const response = await foldStream(
    provider(server).stream({
      model: "gpt-5",
      messages: [userMessage("x")],
      tools: [readFileTool],
    }),
    (event) => events.push(event),
  );
  assert.equal(server.received[0].body.stream, true);
  const types = events.map((e) => e.type);
  assert.deepEqual(types, [
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
    "tool_call_end",
    "finish",
  ]);
  const deltas = events.flatMap((e) => e.type === "tool_call_delta" ? [e.argumentsDelta] : []);
  assert.equal(deltas.join(""), '{"path":"src/main.ts"}');
  assert.equal(responseText(response), "Let me look.");
  assert.equal(responseReasoning(response), "Need to read the file first.");
  assert.deepEqual(responseToolCalls(response), [{
    callId: "call_abc",
    name: "read_file",
    arguments: { path: "src/main.ts" },
    rawArguments: '{"path":"src/main.ts"}',
  }]);
  const thinking = response.message.content[0];
  assert.equal(
    thinking.kind === "thinking" && thinking.thinking.signature,
    "gAAAAB-encrypted-reasoning",
  );
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "completed" });
  assert.deepEqual(response.usage, {
    inputTokens: 120,
    outputTokens: 42,
    totalTokens: 162,
    reasoningTokens: 20,
    cacheReadTokens: 64,
  });
});

Deno.test("openai responses: a 429 is retried after the Retry-After the server asked for", async () => {
  await using server = LoopbackServer.start(
    { status: 429, file: "openai_rate_limit.json", headers: { "retry-after-ms": "20" } },
    { file: "openai_responses_text.json" },
  );
  const retries: RetryAttempt[] = [];
  const response = await provider(server, (a) => retries.push(a)).complete({
    model: "gpt-5",
    messages: [userMessage("hi")],
  });
  assert.equal(responseText(response), "The file exports main().");
  assert.equal(server.received.length, 2);
  assert.deepEqual(retries.map((r) => [r.error.code, r.error.status, r.delayMs]), [[
    "rate_limit",
    429,
    20,
  ]]);
});

Deno.test("openai responses: 500s that outlast the retries end as a ServerError", async () => {
  const fail = {
    status: 500,
    body: '{"error":{"message":"The server had an error","type":"server_error"}}',
  };
  await using server = LoopbackServer.start(fail, fail, fail);
  await assert.rejects(
    provider(server).complete({ model: "gpt-5", messages: [userMessage("hi")] }),
    (error: LlmError) => {
      assert.equal(error.code, "server");
      assert.equal(error.status, 500);
      assert.match(error.message, /HTTP 500: The server had an error/);
      return true;
    },
  );
  assert.equal(server.received.length, 3);
});

Deno.test("openai responses: context overflow and a bad key are typed and not retried", async () => {
  await using server = LoopbackServer.start(
    { status: 400, file: "openai_context_length.json" },
    { status: 401, file: "openai_auth.json" },
  );
  const p = provider(server);
  await assert.rejects(p.complete({ model: "gpt-5", messages: [userMessage("x")] }), {
    code: "context_length",
    providerCode: "context_length_exceeded",
  });
  await assert.rejects(p.complete({ model: "gpt-5", messages: [userMessage("x")] }), {
    code: "auth",
    status: 401,
  });
  assert.equal(server.received.length, 2);
});

Deno.test("openai responses: aborting mid-stream ends it with an 'aborted' error event", async () => {
  await using server = LoopbackServer.start({
    file: "openai_responses_tool_call.sse",
    hangAfterBytes: 2600,
  });
  const controller = new AbortController();
  const events: LlmStreamEvent[] = [];
  for await (
    const event of provider(server).stream(
      { model: "gpt-5", messages: [userMessage("x")] },
      controller.signal,
    )
  ) {
    events.push(event);
    if (event.type === "reasoning_delta") controller.abort();
  }
  const last = events.at(-1)!;
  assert.equal(last.type, "error");
  assert.equal(last.type === "error" && last.error.code, "aborted");
  assert.equal(events.some((e) => e.type === "finish"), false);
  await server.clientGone.promise;
});

Deno.test("openai responses: a stream cut before response.completed is a network error", async () => {
  const full = await Deno.readTextFile(
    new URL("./testdata/openai_responses_tool_call.sse", import.meta.url),
  );
  const cut = full.slice(0, full.indexOf("event: response.completed"));
  await using server = LoopbackServer.start({
    body: cut,
    headers: { "content-type": "text/event-stream" },
  });
  await assert.rejects(
    foldStream(provider(server).stream({ model: "gpt-5", messages: [userMessage("x")] })),
    { code: "network" },
  );
});

Deno.test("openai responses: a missing key names OPENAI_API_KEY", async () => {
  await withEnv({ OPENAI_API_KEY: undefined }, () => {
    assert.throws(
      () => createOpenAiResponsesProvider(),
      (error: unknown) =>
        error instanceof ConfigurationError && error.code === "configuration" &&
        error.message.includes("OPENAI_API_KEY"),
    );
  });
});

Deno.test("openai responses: the key and base URL come from the environment", async () => {
  await using server = LoopbackServer.start({ file: "openai_responses_text.json" });
  await withEnv({ OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: server.baseUrl }, async () => {
    await createOpenAiResponsesProvider({ retry: fastRetry }).complete({
      model: "gpt-5",
      messages: [userMessage("hi")],
    });
  });
  assert.equal(server.received[0].headers.authorization, "Bearer sk-env");
});

Deno.test("openai responses: stop sequences are refused, not silently dropped", async () => {
  await assert.rejects(
    () =>
      createOpenAiResponsesProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9/v1" }).complete({
        model: "gpt-5",
        messages: [userMessage("x")],
        stopSequences: ["END"],
      }),
    { code: "configuration" },
  );
});

function sse(...events: [string, unknown][]): string {
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}

Deno.test("openai responses: response.failed inside a stream becomes a typed error event", async () => {
  await using server = LoopbackServer.start({
    headers: { "content-type": "text/event-stream" },
    body: sse(
      ["response.created", {
        type: "response.created",
        response: { id: "resp_f", model: "gpt-5" },
      }],
      ["response.failed", {
        type: "response.failed",
        response: {
          id: "resp_f",
          status: "failed",
          error: { code: "server_error", message: "The model failed to generate a response." },
        },
      }],
    ),
  });
  const events: LlmStreamEvent[] = [];
  for await (const e of provider(server).stream({ model: "gpt-5", messages: [userMessage("x")] })) {
    events.push(e);
  }
  assert.deepEqual(events.map((e) => e.type), ["stream_start", "error"]);
  const last = events[1];
  assert.equal(last.type === "error" && last.error.code, "server");
  assert.match(last.type === "error" ? last.error.message : "", /failed to generate/);
});

Deno.test("openai responses: an incomplete response (max_output_tokens) finishes with reason 'length'", async () => {
  await using server = LoopbackServer.start({
    headers: { "content-type": "text/event-stream" },
    body: sse(
      ["response.created", { type: "response.created", response: { id: "r", model: "gpt-5" } }],
      ["response.output_text.delta", {
        type: "response.output_text.delta",
        item_id: "msg_1",
        content_index: 0,
        delta: "Trunc",
      }],
      ["response.incomplete", {
        type: "response.incomplete",
        response: {
          id: "r",
          model: "gpt-5",
          status: "incomplete",
          incomplete_details: { reason: "max_output_tokens" },
          usage: { input_tokens: 5, output_tokens: 16 },
        },
      }],
    ),
  });
  const response = await foldStream(
    provider(server).stream({ model: "gpt-5", messages: [userMessage("x")] }),
  );
  assert.deepEqual(response.finishReason, { reason: "length", raw: "max_output_tokens" });
  assert.equal(responseText(response), "Trunc");
});

Deno.test("openai responses: complete() reads function_call items; bad argument JSON is flagged, not thrown", async () => {
  await using server = LoopbackServer.start({
    body: JSON.stringify({
      id: "resp_t",
      model: "gpt-5",
      status: "completed",
      output: [
        {
          type: "function_call",
          id: "fc_1",
          call_id: "call_1",
          name: "grep",
          arguments: '{"q":"x"}',
        },
        { type: "function_call", id: "fc_2", call_id: "call_2", name: "grep", arguments: '{"q":' },
      ],
      usage: { input_tokens: 1, output_tokens: 2 },
    }),
  });
  const response = await provider(server).complete({
    model: "gpt-5",
    messages: [userMessage("x")],
  });
  const calls = responseToolCalls(response);
  assert.deepEqual(calls[0].arguments, { q: "x" });
  assert.equal(calls[0].argumentsError, undefined);
  assert.deepEqual(calls[1].arguments, {});
  assert.match(calls[1].argumentsError!, /not valid JSON/);
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "completed" });
});
