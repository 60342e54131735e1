import assert from "node:assert/strict";
import { createAnthropicProvider } from "./anthropic.ts";
import {
  assistantMessage,
  responseServerToolCalls,
  responseServerToolResults,
  responseText,
  userMessage,
} from "./messages.ts";
import type { ContentPart, LlmRequest } from "./types.ts";
import { replay } from "./testdata/replay.ts";
import { LoopbackServer } from "./testdata/loopback_server.ts";

const make = (baseUrl: string) =>
  createAnthropicProvider({ apiKey: "sk-ant-test", baseUrl, retry: { maxRetries: 0 } });

const request: LlmRequest = {
  model: "claude-opus-4-6",
  messages: [userMessage("Is Deno 2.9 out?")],
};

function kinds(content: readonly ContentPart[]): string[] {
  return content.map((part) =>
    part.kind === "server_tool_call"
      ? `call:${part.serverToolCall.name}`
      : part.kind === "server_tool_result"
      ? `result:${part.serverToolResult.name}${part.serverToolResult.isError ? "!" : ""}`
      : part.kind === "provider"
      ? `provider:${part.type}`
      : part.kind
  );
}

Deno.test("anthropic: server tools (web search, web fetch, code execution, MCP) stream through as typed parts and the answer goes on", async () => {
  const { events, streamed, streamedSmall, completed } = await replay(
    make,
    request,
    "anthropic_server_tools.sse",
    "anthropic_server_tools.json",
  );
  assert.equal(events.at(-1)?.type, "finish");
  assert.deepEqual(kinds(streamed.message.content), [
    "text",
    "call:web_search",
    "result:web_search_tool_result",
    "call:web_fetch",
    "result:web_fetch_tool_result!",
    "call:bash_code_execution",
    "result:bash_code_execution_tool_result",
    "call:mcp:tracker/lookup_issue",
    "result:mcp_tool_result",
    "text",
  ]);
  const search = streamed.message.content[1];
  assert.ok(search.kind === "server_tool_call");
  assert.deepEqual(search.serverToolCall.input, { query: "deno 2.9 release" });
  assert.equal(search.serverToolCall.callId, "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE");
  const result = streamed.message.content[2];
  assert.ok(result.kind === "server_tool_result");
  assert.equal(result.serverToolResult.callId, search.serverToolCall.callId);
  assert.equal(
    (result.serverToolResult.content as { url: string }[])[0].url,
    "https://deno.com/blog/v2.9",
  );
  assert.equal(responseText(streamed), "Let me look that up.Deno 2.9 is out.");
  assert.deepEqual(responseServerToolCalls(streamed).map((c) => c.name), [
    "web_search",
    "web_fetch",
    "bash_code_execution",
    "mcp:tracker/lookup_issue",
  ]);
  assert.deepEqual(responseServerToolResults(streamed).map((r) => r.isError), [
    false,
    true,
    false,
    false,
  ]);
  assert.equal(streamed.finishReason.reason, "stop");
  // The citation delta has no unified meaning; it is passed on, not fatal.
  assert.ok(events.some((e) => e.type === "provider_event" && e.name === "content_block_delta"));
  // stream() and complete() agree, whatever the cut.
  assert.deepEqual(streamedSmall.message, streamed.message);
  assert.deepEqual(completed!.message, streamed.message);
  assert.deepEqual(completed!.usage, streamed.usage);
});

Deno.test("anthropic: a compaction block and block and event types not known yet are kept as provider parts", async () => {
  const { events, streamed, completed } = await replay(
    make,
    request,
    "anthropic_unknown_blocks.sse",
    "anthropic_unknown_blocks.json",
  );
  assert.deepEqual(kinds(streamed.message.content), [
    "provider:compaction",
    "provider:hologram",
    "text",
  ]);
  const compaction = streamed.message.content[0];
  assert.ok(compaction.kind === "provider");
  assert.deepEqual(compaction.raw, {
    type: "compaction",
    content: "Summary: the user asked for a release check.",
  });
  assert.ok(events.some((e) => e.type === "provider_event" && e.name === "future_event"));
  // An event we do not know may even carry data that is not JSON.
  assert.ok(events.some((e) => e.type === "provider_event" && e.name === "telemetry"));
  assert.deepEqual(completed!.message, streamed.message);
});

Deno.test("anthropic: server tool and compaction blocks go back verbatim in the next request; other providers' parts do not", async () => {
  const { streamed } = await replay(make, request, "anthropic_server_tools.sse");
  const { streamed: compacted } = await replay(make, request, "anthropic_unknown_blocks.sse");
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  await make(server.baseUrl).complete({
    model: "claude-opus-4-6",
    messages: [
      userMessage("Is Deno 2.9 out?"),
      streamed.message,
      userMessage("And?"),
      assistantMessage([
        ...compacted.message.content,
        { kind: "provider", provider: "openai", type: "web_search_call", raw: { type: "x" } },
      ]),
      userMessage("Thanks."),
    ],
  });
  const messages = server.received[0].body.messages as { content: { type: string }[] }[];
  assert.deepEqual(messages[1].content.map((b) => b.type), [
    "text",
    "server_tool_use",
    "web_search_tool_result",
    "server_tool_use",
    "web_fetch_tool_result",
    "server_tool_use",
    "bash_code_execution_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "text",
  ]);
  assert.deepEqual(messages[1].content[1], {
    type: "server_tool_use",
    id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
    name: "web_search",
    input: { query: "deno 2.9 release" },
  });
  assert.deepEqual(messages[3].content.map((b) => b.type), ["compaction", "hologram", "text"]);
});

Deno.test("anthropic: a stop for a full context window is 'length'", async () => {
  await using server = LoopbackServer.start({
    body: JSON.stringify({
      id: "msg_w",
      type: "message",
      role: "assistant",
      model: "claude-opus-4-6",
      content: [{ type: "text", text: "Partial" }],
      stop_reason: "model_context_window_exceeded",
      usage: { input_tokens: 1, output_tokens: 1 },
    }),
  });
  const response = await make(server.baseUrl).complete(request);
  assert.deepEqual(response.finishReason, {
    reason: "length",
    raw: "model_context_window_exceeded",
  });
});

Deno.test("anthropic: a compatible server that sends a tool's input or a thinking signature whole in content_block_start keeps them", async () => {
  const { streamed } = await replay(make, request, "anthropic_proxy_whole_input.sse");
  const [call, thinking] = streamed.message.content;
  assert.ok(call.kind === "tool_call");
  assert.deepEqual(call.toolCall.arguments, { command: "ls" });
  assert.deepEqual(thinking, {
    kind: "thinking",
    thinking: { text: "Listing.", signature: "sig-whole", provider: "anthropic" },
  });
  assert.equal(streamed.finishReason.reason, "tool_calls");
});
