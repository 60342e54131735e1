import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import type { LlmError } from "./errors.ts";
import { createGeminiProvider } from "./gemini.ts";
import {
  responseReasoning,
  responseText,
  responseToolCalls,
  systemMessage,
  toolResultsMessage,
  userMessage,
} from "./messages.ts";
import { createProvider, providerKindFromEnv } from "./providers.ts";
import type { LlmRequest, ToolDefinition } from "./types.ts";
import { replay } from "./testdata/replay.ts";
import { LoopbackServer, withEnv } from "./testdata/loopback_server.ts";

const make = (baseUrl: string) =>
  createGeminiProvider({ apiKey: "gem-key", baseUrl, retry: { maxRetries: 0 } });

const readFile: ToolDefinition = {
  name: "read_file",
  description: "Read a file.",
  parameters: {
    type: "object",
    properties: { path: { type: "string" } },
    required: ["path"],
    additionalProperties: false,
  },
};

const request: LlmRequest = {
  model: "gemini-3-pro-preview",
  messages: [systemMessage("Be brief."), userMessage("Is Deno 2.9 out?")],
};

Deno.test("gemini: text and thought summaries stream from streamGenerateContent?alt=sse; usage counts thoughts and cached tokens; stream and complete agree", async () => {
  const { events, streamed, streamedSmall, completed, paths, bodies } = await replay(
    make,
    { ...request, reasoningEffort: "medium" },
    "gemini_text_thinking.sse",
    "gemini_text_thinking.json",
  );
  assert.deepEqual(paths, [
    "/v1/models/gemini-3-pro-preview:streamGenerateContent?alt=sse",
    "/v1/models/gemini-3-pro-preview:streamGenerateContent?alt=sse",
    "/v1/models/gemini-3-pro-preview:generateContent",
  ]);
  assert.deepEqual(bodies[0], {
    contents: [{ role: "user", parts: [{ text: "Is Deno 2.9 out?" }] }],
    systemInstruction: { parts: [{ text: "Be brief." }] },
    generationConfig: { thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } },
  });
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
    "part",
    "finish",
  ]);
  assert.equal(responseReasoning(streamed), "**Planning** I should check the version first.");
  assert.equal(responseText(streamed), "Deno 2.9 is out.");
  // The text's signature is kept right after it, to go back on the same part.
  assert.deepEqual(streamed.message.content[2], {
    kind: "thinking",
    thinking: { text: "", signature: "CiQB0e2Kb7sig-text", provider: "gemini" },
  });
  assert.deepEqual(streamed.usage, {
    inputTokens: 1200,
    outputTokens: 200,
    totalTokens: 1400,
    reasoningTokens: 160,
    cacheReadTokens: 1024,
  });
  assert.deepEqual(streamed.finishReason, { reason: "stop", raw: "STOP" });
  assert.equal(streamed.id, "gem-r1");
  assert.equal(streamed.model, "gemini-3-pro-preview");
  assert.deepEqual(streamedSmall.message, streamed.message);
  assert.deepEqual(completed!.message, streamed.message);
  assert.deepEqual(completed!.usage, streamed.usage);
});

Deno.test("gemini: parallel function calls keep their ids and signatures; the answer's finish reason is tool_calls", async () => {
  const { streamed, completed } = await replay(
    make,
    { ...request, tools: [readFile] },
    "gemini_function_calls.sse",
    "gemini_function_calls.json",
  );
  assert.deepEqual(responseToolCalls(streamed), [
    {
      callId: "fc-1",
      name: "read_file",
      arguments: { path: "deno.json" },
      rawArguments: '{"path":"deno.json"}',
      signature: "CiQB-sig-call",
    },
    {
      callId: "fc-2",
      name: "shell",
      arguments: { command: "deno --version" },
      rawArguments: '{"command":"deno --version"}',
    },
  ]);
  assert.deepEqual(streamed.finishReason, { reason: "tool_calls", raw: "STOP" });
  assert.deepEqual(completed!.message, streamed.message);
});

Deno.test("gemini: function results, signatures and thoughts go back in the shape Gemini wants", async () => {
  const { streamed } = await replay(make, request, "gemini_function_calls.sse");
  const { streamed: answered } = await replay(make, request, "gemini_text_thinking.sse");
  await using server = LoopbackServer.start({ file: "gemini_text_thinking.json" });
  await make(server.baseUrl).complete({
    model: "models/gemini-3-pro-preview",
    messages: [
      userMessage("Check."),
      answered.message,
      userMessage("Now the files."),
      streamed.message,
      toolResultsMessage([
        { callId: "fc-1", content: '{"name":"forge"}', isError: false },
        {
          callId: "fc-2",
          content: "deno: not found",
          isError: true,
          images: [{ data: "iVBORw0KGgo=", mediaType: "image/png" }],
        },
      ]),
    ],
    tools: [readFile],
    toolChoice: { mode: "named", toolName: "read_file" },
  });
  const body = server.received[0].body as Record<string, unknown>;
  assert.equal(server.received[0].path, "/v1/models/gemini-3-pro-preview:generateContent");
  assert.equal(server.received[0].headers["x-goog-api-key"], "gem-key");
  assert.deepEqual(body.contents, [
    { role: "user", parts: [{ text: "Check." }] },
    {
      role: "model",
      parts: [
        { text: "**Planning** I should check the version first.", thought: true },
        { text: "Deno 2.9 is out.", thoughtSignature: "CiQB0e2Kb7sig-text" },
      ],
    },
    { role: "user", parts: [{ text: "Now the files." }] },
    {
      role: "model",
      parts: [
        { text: "Checking both." },
        {
          functionCall: { id: "fc-1", name: "read_file", args: { path: "deno.json" } },
          thoughtSignature: "CiQB-sig-call",
        },
        { functionCall: { id: "fc-2", name: "shell", args: { command: "deno --version" } } },
      ],
    },
    {
      role: "user",
      parts: [
        {
          functionResponse: {
            id: "fc-1",
            name: "read_file",
            response: { result: '{"name":"forge"}' },
          },
        },
        { functionResponse: { id: "fc-2", name: "shell", response: { error: "deno: not found" } } },
        { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      ],
    },
  ]);
  assert.deepEqual(body.tools, [{
    functionDeclarations: [{
      name: "read_file",
      description: "Read a file.",
      parametersJsonSchema: readFile.parameters,
    }],
  }]);
  assert.deepEqual(body.toolConfig, {
    functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["read_file"] },
  });
});

Deno.test("gemini: a call without an id gets a local one that is never sent back as an id", async () => {
  const { streamed } = await replay(make, request, "gemini_call_without_id.sse");
  const [call] = responseToolCalls(streamed);
  assert.equal(call.callId, "gemini-call-0");
  await using server = LoopbackServer.start({ file: "gemini_text_thinking.json" });
  await make(server.baseUrl).complete({
    model: "gemini-3-pro-preview",
    messages: [
      userMessage("Find."),
      streamed.message,
      toolResultsMessage([{ callId: call.callId, content: "a.ts", isError: false }]),
    ],
  });
  const contents = server.received[0].body.contents as { parts: unknown[] }[];
  assert.deepEqual(contents[1].parts, [{
    functionCall: { name: "glob", args: { pattern: "**/*.ts" } },
  }]);
  assert.deepEqual(contents[2].parts, [
    { functionResponse: { name: "glob", response: { result: "a.ts" } } },
  ]);
});

Deno.test("gemini: code execution is a server tool call and result; grounding and unknown part types are kept", async () => {
  const { streamed, completed } = await replay(
    make,
    request,
    "gemini_code_execution.sse",
    "gemini_code_execution.json",
  );
  assert.deepEqual(
    streamed.message.content.map((p) => p.kind === "provider" ? `provider:${p.type}` : p.kind),
    [
      "server_tool_call",
      "server_tool_result",
      "provider:holographicData",
      "text",
      "provider:groundingMetadata",
    ],
  );
  const [call, result] = streamed.message.content;
  assert.ok(call.kind === "server_tool_call" && result.kind === "server_tool_result");
  assert.deepEqual(call.serverToolCall.input, { language: "PYTHON", code: "print(2+7)" });
  assert.equal(result.serverToolResult.callId, call.serverToolCall.callId);
  assert.deepEqual(result.serverToolResult.content, { outcome: "OUTCOME_OK", output: "9\n" });
  assert.equal(result.serverToolResult.isError, false);
  assert.deepEqual(completed!.message, streamed.message);
});

for (
  const [reason, unified] of [
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["MALFORMED_FUNCTION_CALL", "error"],
    ["MAX_TOKENS", "length"],
  ] as const
) {
  Deno.test(`gemini: finish reason ${reason} is '${unified}' and keeps the partial text`, async () => {
    const { streamed } = await replay(make, request, `gemini_finish_${reason.toLowerCase()}.sse`);
    assert.deepEqual(streamed.finishReason, { reason: unified, raw: reason });
    assert.equal(responseText(streamed), "Partial ");
  });
}

Deno.test("gemini: a blocked prompt finishes as content_filter with a warning, streamed or not", async () => {
  const { streamed, completed } = await replay(
    make,
    request,
    "gemini_prompt_blocked.sse",
    "gemini_prompt_blocked.json",
  );
  for (const response of [streamed, completed!]) {
    assert.deepEqual(response.finishReason, {
      reason: "content_filter",
      raw: "PROHIBITED_CONTENT",
    });
    assert.deepEqual(response.message.content, []);
    assert.equal(response.warnings[0].code, "prompt_blocked");
  }
});

Deno.test("gemini: a bad key (400 API_KEY_INVALID) is auth; RESOURCE_EXHAUSTED is a retried rate limit; an in-stream UNAVAILABLE is overloaded", async () => {
  await using server = LoopbackServer.start(
    { status: 400, file: "gemini_bad_key.json" },
    { status: 429, file: "gemini_rate_limit.json" },
    { file: "gemini_text_thinking.json" },
    { file: "gemini_stream_overloaded.sse", chunkBytes: 7 },
  );
  const provider = createGeminiProvider({
    apiKey: "gem-key",
    baseUrl: server.baseUrl,
    retry: { maxRetries: 1, baseDelayMs: 1, jitter: false },
  });
  await assert.rejects(provider.complete(request), (error: LlmError) => {
    assert.deepEqual([error.code, error.status, error.retryable], ["auth", 400, false]);
    return true;
  });
  const answer = await provider.complete(request);
  assert.equal(responseText(answer), "Deno 2.9 is out.");
  await assert.rejects(foldStream(provider.stream(request)), (error: LlmError) => {
    assert.deepEqual([error.code, error.retryable], ["overloaded", true]);
    assert.match(error.message, /overloaded/);
    return true;
  });
  assert.equal(server.received.length, 4);
});

Deno.test("gemini: the key comes from GEMINI_API_KEY, else GOOGLE_API_KEY; none names both", async () => {
  await using server = LoopbackServer.start(
    { file: "gemini_text_thinking.json" },
    { file: "gemini_text_thinking.json" },
  );
  await withEnv({ GEMINI_API_KEY: "from-gemini", GOOGLE_API_KEY: "from-google" }, async () => {
    await createGeminiProvider({ baseUrl: server.baseUrl }).complete(request);
  });
  await withEnv({ GEMINI_API_KEY: undefined, GOOGLE_API_KEY: "from-google" }, async () => {
    await createGeminiProvider({ baseUrl: server.baseUrl }).complete(request);
  });
  assert.deepEqual(server.received.map((r) => r.headers["x-goog-api-key"]), [
    "from-gemini",
    "from-google",
  ]);
  await withEnv({ GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined }, () => {
    assert.throws(() => createGeminiProvider(), /GEMINI_API_KEY.*GOOGLE_API_KEY/);
  });
});

Deno.test("gemini: chosen by name or from the environment", async () => {
  await withEnv({
    FORGE_LLM_PROVIDER: undefined,
    ANTHROPIC_API_KEY: undefined,
    OPENAI_API_KEY: undefined,
    GEMINI_API_KEY: "k",
  }, () => {
    assert.equal(providerKindFromEnv(), "gemini");
    assert.equal(createProvider("gemini").name, "gemini");
  });
});

Deno.test("gemini: a response schema is responseJsonSchema with a JSON MIME type; generationConfig options merge", async () => {
  await using server = LoopbackServer.start({ file: "gemini_text_thinking.json" });
  await make(server.baseUrl).complete({
    ...request,
    maxTokens: 100,
    responseFormat: { type: "json_schema", name: "a", schema: { type: "object" } },
    providerOptions: { gemini: { generationConfig: { candidateCount: 1 }, safetySettings: [] } },
  });
  const body = server.received[0].body;
  assert.deepEqual(body.generationConfig, {
    maxOutputTokens: 100,
    responseMimeType: "application/json",
    responseJsonSchema: { type: "object" },
    candidateCount: 1,
  });
  assert.deepEqual(body.safetySettings, []);
});

Deno.test("gemini: a stream answered as a JSON chunk list (alt=sse dropped by a proxy) still gives every chunk", async () => {
  await using server = LoopbackServer.start({ file: "gemini_function_calls_array.json" });
  const events = [];
  const response = await foldStream(make(server.baseUrl).stream(request), (e) => events.push(e));
  assert.deepEqual(responseText(response), "Checking both.");
  assert.deepEqual(responseToolCalls(response).map((c) => c.callId), ["fc-1", "fc-2"]);
  assert.deepEqual(response.finishReason, { reason: "tool_calls", raw: "STOP" });
  assert.equal(response.usage.totalTokens, 350);
});
