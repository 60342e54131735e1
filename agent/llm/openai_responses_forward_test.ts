import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import type { LlmError } from "./errors.ts";
import { responseReasoning, responseText, responseToolCalls, userMessage } from "./messages.ts";
import { createOpenAiResponsesProvider } from "./openai_responses.ts";
import type { ContentPart, LlmRequest } from "./types.ts";
import { replay } from "./testdata/replay.ts";
import { LoopbackServer } from "./testdata/loopback_server.ts";

const make = (baseUrl: string) =>
  createOpenAiResponsesProvider({ apiKey: "sk-test", baseUrl, retry: { maxRetries: 0 } });

const request: LlmRequest = { model: "gpt-5.1", messages: [userMessage("Is Deno 2.9 out?")] };

function kinds(content: readonly ContentPart[]): string[] {
  return content.map((part) =>
    part.kind === "server_tool_call"
      ? `server:${part.serverToolCall.name}`
      : part.kind === "provider"
      ? `provider:${part.type}`
      : part.kind
  );
}

Deno.test("openai responses: built-in tool items (web search, file search, code interpreter, MCP, image generation) become typed server tool calls; unknown items and parts are kept", async () => {
  const { events, streamed, streamedSmall, completed } = await replay(
    make,
    request,
    "openai_responses_builtin_tools.sse",
    "openai_responses_builtin_tools.json",
  );
  assert.deepEqual(kinds(streamed.message.content), [
    "server:web_search",
    "server:file_search",
    "server:code_interpreter",
    "server:mcp:tracker/lookup_issue",
    "server:image_generation",
    "provider:future_item",
    "text",
    "provider:output_hologram",
  ]);
  const [search, files, code, mcp, image] = streamed.message.content;
  assert.ok(search.kind === "server_tool_call");
  assert.equal((search.serverToolCall.input as { query: string }).query, "deno 2.9 release");
  assert.equal(search.serverToolCall.status, "completed");
  assert.ok(files.kind === "server_tool_call");
  assert.deepEqual(files.serverToolCall.input, ["release checklist"]);
  assert.equal((files.serverToolCall.output as { filename: string }[])[0].filename, "checklist.md");
  assert.ok(code.kind === "server_tool_call");
  assert.deepEqual(code.serverToolCall.input, "print(2+7)");
  assert.deepEqual(code.serverToolCall.output, [{ type: "logs", logs: "9\n" }]);
  assert.ok(mcp.kind === "server_tool_call");
  assert.deepEqual(mcp.serverToolCall.input, { id: 13 });
  assert.equal(mcp.serverToolCall.output, "issue 13: open");
  assert.ok(image.kind === "server_tool_call");
  assert.equal(image.serverToolCall.output, "iVBORw0KGgo=");
  assert.equal(responseText(streamed), "Deno 2.9 is out.");
  assert.deepEqual(streamed.finishReason, { reason: "stop", raw: "completed" });
  // Progress events of built-in tools and events not known yet are passed on.
  const names = events.flatMap((e) => e.type === "provider_event" ? [e.name] : []);
  assert.ok(names.includes("response.web_search_call.searching"));
  assert.ok(names.includes("response.future_item.progress"));
  assert.deepEqual(streamedSmall.message, streamed.message);
  assert.deepEqual(completed!.message, streamed.message);
  assert.deepEqual(completed!.usage, streamed.usage);
});

Deno.test("openai responses: raw reasoning text (response.reasoning_text.delta) is read, streamed and not", async () => {
  const { events, streamed, completed } = await replay(
    make,
    request,
    "openai_responses_reasoning_text.sse",
    "openai_responses_reasoning_text.json",
  );
  const deltas = events.flatMap((e) => e.type === "reasoning_delta" ? [e.delta] : []);
  assert.deepEqual(deltas, ["The user greets. ", "Reply briefly."]);
  assert.equal(responseReasoning(streamed), "The user greets. Reply briefly.");
  assert.equal(responseText(streamed), "Hello!");
  assert.equal(streamed.usage.reasoningTokens, 14);
  assert.deepEqual(completed!.message, streamed.message);
});

Deno.test("openai responses: a server that gives every event a new item id (GitHub Copilot) gets no duplicated reasoning, text or calls", async () => {
  const { events, streamed } = await replay(make, request, "openai_responses_copilot_ids.sse");
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
    "tool_call_end",
    "finish",
  ]);
  assert.deepEqual(kinds(streamed.message.content), ["thinking", "text", "tool_call"]);
  assert.equal(responseReasoning(streamed), "Check the file.");
  assert.equal(responseText(streamed), "Reading it.");
  assert.deepEqual(responseToolCalls(streamed).map((c) => [c.callId, c.arguments]), [
    ["call_cp", { path: "a.ts" }],
  ]);
  assert.deepEqual(streamed.finishReason.reason, "tool_calls");
});

Deno.test("openai responses: an in-stream insufficient_quota is a non-retryable quota error, not a server error", async () => {
  await using server = LoopbackServer.start({ file: "openai_responses_quota.sse", chunkBytes: 7 });
  const events = [];
  for await (const event of make(server.baseUrl).stream(request)) events.push(event);
  const last = events.at(-1)!;
  assert.ok(last.type === "error");
  assert.deepEqual([last.error.code, last.error.retryable, last.error.providerCode], [
    "quota",
    false,
    "insufficient_quota",
  ]);
  assert.equal(server.received.length, 1);
});

Deno.test("openai responses: an error event with a numeric code 400 is an invalid request", async () => {
  await using server = LoopbackServer.start({ file: "openai_responses_error_400.sse" });
  await assert.rejects(foldStream(make(server.baseUrl).stream(request)), (error: LlmError) => {
    assert.deepEqual([error.code, error.retryable, error.status], ["invalid_request", false, 400]);
    assert.match(error.message, /Token limit reached/);
    return true;
  });
});

Deno.test("openai responses: images go as input_image parts; tool results with images as an output list; a schema as text.format", async () => {
  await using server = LoopbackServer.start({ file: "openai_responses_text.json" });
  await make(server.baseUrl).complete({
    model: "gpt-5.1",
    messages: [
      {
        role: "user",
        content: [
          { kind: "text", text: "What is in these?" },
          { kind: "image", image: { url: "https://example.com/a.png", detail: "high" } },
          { kind: "image", image: { data: "iVBORw0KGgo=", mediaType: "image/png" } },
        ],
      },
      {
        role: "tool",
        content: [{
          kind: "tool_result",
          toolResult: {
            callId: "call_1",
            content: "screenshot taken",
            isError: false,
            images: [{ data: "R0lGOD", mediaType: "image/gif" }],
          },
        }],
      },
    ],
    responseFormat: {
      type: "json_schema",
      name: "answer",
      schema: { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
      strict: true,
    },
  });
  const body = server.received[0].body as {
    input: { content?: unknown[]; output?: unknown }[];
    text: unknown;
  };
  assert.deepEqual(body.input[0].content, [
    { type: "input_text", text: "What is in these?" },
    { type: "input_image", image_url: "https://example.com/a.png", detail: "high" },
    { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
  ]);
  assert.deepEqual(body.input[1].output, [
    { type: "input_text", text: "screenshot taken" },
    { type: "input_image", image_url: "data:image/gif;base64,R0lGOD", detail: "auto" },
  ]);
  assert.deepEqual(body.text, {
    format: {
      type: "json_schema",
      name: "answer",
      schema: { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
      strict: true,
    },
  });
});

Deno.test("openai responses: a server answering a stream request with a bare JSON error body gets that error", async () => {
  await using server = LoopbackServer.start({
    body: JSON.stringify({ error: { code: "insufficient_quota", message: "quota spent" } }),
  });
  await assert.rejects(foldStream(make(server.baseUrl).stream(request)), (error: LlmError) => {
    assert.deepEqual([error.code, error.retryable], ["quota", false]);
    return true;
  });
});

Deno.test("openai responses: items the final response lists but no event streamed are not lost; nothing streamed is doubled", async () => {
  const { streamed: partly } = await replay(make, request, "openai_responses_partly_streamed.sse");
  assert.deepEqual(partly.message.content.map((p) => p.kind), ["text", "server_tool_call"]);
  assert.equal(responseText(partly), "Found it.");
  const { streamed: only } = await replay(make, request, "openai_responses_completed_only.sse");
  assert.deepEqual(only.message.content, [{ kind: "text", text: "Found it." }]);
});

Deno.test("openai responses: argument deltas that come before their call is announced make one call, not two", async () => {
  const { streamed } = await replay(make, request, "openai_responses_args_first.sse");
  assert.deepEqual(responseToolCalls(streamed).map((c) => [c.callId, c.name, c.arguments]), [
    ["call_7", "shell", { command: "ls" }],
  ]);
  assert.equal(streamed.finishReason.reason, "tool_calls");
});
