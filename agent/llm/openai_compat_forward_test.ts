import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import type { LlmError } from "./errors.ts";
import { responseReasoning, responseText, userMessage } from "./messages.ts";
import { createOpenAiCompatibleProvider } from "./openai_compat.ts";
import type { LlmRequest } from "./types.ts";
import { replay } from "./testdata/replay.ts";
import { LoopbackServer } from "./testdata/loopback_server.ts";

const make = (baseUrl: string) =>
  createOpenAiCompatibleProvider({ baseUrl, retry: { maxRetries: 0 } });

const request: LlmRequest = { model: "m", messages: [userMessage("Is Deno 2.9 out?")] };

Deno.test("openai-compatible: fields we do not model (annotations, images) are kept as provider parts, streamed and not, and the answer goes on", async () => {
  const { streamed, streamedSmall, completed } = await replay(
    make,
    request,
    "chat_unknown_fields.sse",
    "chat_unknown_fields.json",
  );
  assert.equal(responseText(streamed), "Deno 2.9 is out.");
  assert.equal(responseReasoning(streamed), "Look it up. Then answer.");
  assert.deepEqual(
    streamed.message.content.map((p) => p.kind === "provider" ? `provider:${p.type}` : p.kind),
    ["thinking", "text", "provider:annotations", "provider:images"],
  );
  assert.deepEqual(streamedSmall.message, streamed.message);
  assert.deepEqual(completed!.message, streamed.message);
  assert.deepEqual(completed!.usage, streamed.usage);
});

Deno.test("openai-compatible: Mistral's content chunks give text and thinking", async () => {
  const { streamed, completed } = await replay(
    make,
    request,
    "chat_mistral_chunks.sse",
    "chat_mistral_chunks.json",
  );
  assert.equal(responseText(streamed), "4");
  assert.equal(responseReasoning(streamed), "Two plus two.");
  assert.deepEqual(completed!.message, streamed.message);
});

for (
  const [file, code, status] of [
    ["chat_tool_use_failed.sse", "invalid_request", undefined],
    ["chat_error_code_400.sse", "invalid_request", 400],
    ["chat_quota.sse", "quota", undefined],
  ] as const
) {
  Deno.test(`openai-compatible: the in-stream error of ${file} is ${code}, not retried`, async () => {
    await using server = LoopbackServer.start({ file, chunkBytes: 7 });
    await assert.rejects(foldStream(make(server.baseUrl).stream(request)), (error: LlmError) => {
      assert.deepEqual([error.code, error.retryable, error.status], [code, false, status]);
      return true;
    });
    assert.equal(server.received.length, 1);
  });
}

Deno.test("openai-compatible: tool_use_failed over HTTP 400 is an invalid request, not retried", async () => {
  await using server = LoopbackServer.start({ status: 400, file: "chat_tool_use_failed.json" });
  await assert.rejects(make(server.baseUrl).complete(request), (error: LlmError) => {
    assert.deepEqual([error.code, error.retryable, error.providerCode], [
      "invalid_request",
      false,
      "tool_use_failed",
    ]);
    return true;
  });
});

Deno.test("openai-compatible: images go as image_url parts; tool images follow the tool messages; a schema is response_format", async () => {
  await using server = LoopbackServer.start({ file: "chat_text.json" });
  await make(server.baseUrl).complete({
    model: "m",
    messages: [
      {
        role: "user",
        content: [
          { kind: "text", text: "What is this?" },
          { kind: "image", image: { data: "iVBORw0KGgo=", mediaType: "image/png", detail: "low" } },
        ],
      },
      {
        role: "tool",
        content: [{
          kind: "tool_result",
          toolResult: {
            callId: "c1",
            content: "shot",
            isError: false,
            images: [{ url: "https://example.com/s.png" }],
          },
        }],
      },
    ],
    responseFormat: { type: "json_schema", name: "a", schema: { type: "object" } },
  });
  const body = server.received[0].body as { messages: unknown[]; response_format: unknown };
  assert.deepEqual(body.messages, [
    {
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        {
          type: "image_url",
          image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
        },
      ],
    },
    { role: "tool", tool_call_id: "c1", content: "shot" },
    {
      role: "user",
      content: [
        { type: "text", text: "Images from tool call c1:" },
        { type: "image_url", image_url: { url: "https://example.com/s.png" } },
      ],
    },
  ]);
  assert.deepEqual(body.response_format, {
    type: "json_schema",
    json_schema: { name: "a", schema: { type: "object" }, strict: false },
  });
});

Deno.test("openai-compatible: parallel tool calls sent whole without an index (Gemini's compatible API) stay two calls", async () => {
  const { streamed } = await replay(make, request, "chat_unindexed_tool_calls.sse");
  assert.deepEqual(
    streamed.message.content.map((p) =>
      p.kind === "tool_call" ? [p.toolCall.callId, p.toolCall.arguments] : p.kind
    ),
    [["call_a", { path: "a.ts" }], ["call_b", { path: "b.ts" }]],
  );
  assert.equal(streamed.finishReason.reason, "tool_calls");
});

Deno.test("openai-compatible: Azure's first chunk without id or model (prompt filter results) does not blank them", async () => {
  const { streamed } = await replay(make, request, "chat_azure_filter_first.sse");
  assert.equal(streamed.id, "chatcmpl-az");
  assert.equal(streamed.model, "gpt-4o-2024-11-20");
  assert.equal(responseText(streamed), "Hi");
});

Deno.test("openai-compatible: vLLM's in-stream {object: 'error'} chunk ends the stream with its error, not a silent empty answer", async () => {
  await using server = LoopbackServer.start({ file: "chat_vllm_error.sse", chunkBytes: 7 });
  await assert.rejects(foldStream(make(server.baseUrl).stream(request)), (error: LlmError) => {
    assert.deepEqual([error.code, error.status], ["context_length", 400]);
    return true;
  });
});

Deno.test("openai-compatible: Groq's usage in x_groq and its reasoning field are read", async () => {
  const { streamed } = await replay(make, request, "chat_groq_usage.sse");
  assert.equal(responseText(streamed), "Hello!");
  assert.equal(responseReasoning(streamed), "Greet back.");
  assert.deepEqual(streamed.usage, { inputTokens: 20, outputTokens: 8, totalTokens: 28 });
});

Deno.test("openai-compatible: DeepSeek's reasoning_content, reasoning tokens and cache hits are read", async () => {
  const { streamed } = await replay(make, request, "chat_deepseek_reasoner.sse");
  assert.equal(responseReasoning(streamed), "Think.");
  assert.equal(responseText(streamed), "Done.");
  assert.deepEqual(streamed.usage, {
    inputTokens: 100,
    outputTokens: 10,
    totalTokens: 110,
    reasoningTokens: 4,
    cacheReadTokens: 64,
  });
  const { streamed: chat } = await replay(make, request, "chat_deepseek_cache_hits.sse");
  assert.equal(chat.usage.cacheReadTokens, 32);
});
