import assert from "node:assert/strict";
import { z } from "zod";
import { createAnthropicProvider } from "./anthropic.ts";
import type { StructuredOutputError } from "./errors.ts";
import { createGeminiProvider } from "./gemini.ts";
import { userMessage } from "./messages.ts";
import { createOpenAiCompatibleProvider } from "./openai_compat.ts";
import { createOpenAiResponsesProvider } from "./openai_responses.ts";
import { generateObject, jsonSchemaOf } from "./structured.ts";
import type { LlmProvider } from "./types.ts";
import { LoopbackServer } from "./testdata/loopback_server.ts";

const Release = z.object({
  name: z.string(),
  version: z.string(),
  tags: z.array(z.string()),
});

const answer = { name: "deno", version: "2.9", tags: ["runtime"] };
const answerText = JSON.stringify(answer);

/** Each provider with the native answer it sends for a structured request. */
const providers: {
  name: string;
  reply: unknown;
  make: (baseUrl: string) => LlmProvider;
  sent: (body: Record<string, unknown>) => unknown;
  expected: unknown;
}[] = [
  {
    name: "openai responses",
    make: (baseUrl) => createOpenAiResponsesProvider({ apiKey: "k", baseUrl }),
    reply: {
      id: "resp_s",
      model: "gpt-5.1",
      status: "completed",
      output: [{
        id: "msg_s",
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: answerText, annotations: [] }],
      }],
      usage: { input_tokens: 20, output_tokens: 12 },
    },
    sent: (body) => {
      const format = (body.text as { format: { type: string; name: string } }).format;
      return { type: format.type, name: format.name };
    },
    expected: { type: "json_schema", name: "release" },
  },
  {
    name: "chat completions",
    make: (baseUrl) => createOpenAiCompatibleProvider({ baseUrl }),
    reply: {
      id: "c1",
      model: "m",
      choices: [{
        index: 0,
        message: { role: "assistant", content: "```json\n" + answerText + "\n```" },
        finish_reason: "stop",
      }],
    },
    sent: (body) => {
      const format = body.response_format as { type: string; json_schema: { name: string } };
      return { type: format.type, name: format.json_schema.name };
    },
    expected: { type: "json_schema", name: "release" },
  },
  {
    name: "gemini",
    make: (baseUrl) => createGeminiProvider({ apiKey: "k", baseUrl }),
    reply: {
      candidates: [{
        content: { role: "model", parts: [{ text: answerText }] },
        finishReason: "STOP",
      }],
      usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 12, totalTokenCount: 32 },
      modelVersion: "gemini-3-pro-preview",
      responseId: "g1",
    },
    sent: (body) => {
      const config = body.generationConfig as { responseMimeType: string };
      return { type: config.responseMimeType, name: "release" };
    },
    expected: { type: "application/json", name: "release" },
  },
  {
    name: "anthropic (a forced tool call)",
    make: (baseUrl) => createAnthropicProvider({ apiKey: "k", baseUrl }),
    reply: {
      id: "msg_s",
      type: "message",
      role: "assistant",
      model: "claude-opus-4-6",
      content: [{ type: "tool_use", id: "toolu_s", name: "release", input: answer }],
      stop_reason: "tool_use",
      usage: { input_tokens: 20, output_tokens: 12 },
    },
    sent: (body) => {
      const choice = body.tool_choice as { type: string; name: string };
      return { type: choice.type, name: choice.name };
    },
    expected: { type: "tool", name: "release" },
  },
];

for (const { name, reply, make, sent, expected } of providers) {
  Deno.test(`structured output: ${name} gives a validated object from the same zod schema`, async () => {
    await using server = LoopbackServer.start({ body: JSON.stringify(reply) });
    const { object, response } = await generateObject(
      make(server.baseUrl),
      { model: "m", messages: [userMessage("Describe the latest Deno release.")] },
      { schema: Release, name: "release" },
    );
    assert.deepEqual(object, answer);
    assert.ok(response.usage.totalTokens >= 0);
    const body = server.received[0].body;
    assert.deepEqual(sent(body), expected);
    // The schema travels in each provider's own field.
    const schemaSent = JSON.stringify(body).includes('"tags":{"type":"array"');
    assert.ok(schemaSent, "the JSON schema is in the request");
  });
}

Deno.test("structured output: a mismatch is a typed error naming each wrong field by its path", async () => {
  const wrong = { name: "deno", version: 2.9, tags: ["runtime", 7] };
  await using server = LoopbackServer.start({
    body: JSON.stringify({
      id: "c1",
      model: "m",
      choices: [{
        index: 0,
        message: { role: "assistant", content: JSON.stringify(wrong) },
        finish_reason: "stop",
      }],
    }),
  });
  await assert.rejects(
    generateObject(
      createOpenAiCompatibleProvider({ baseUrl: server.baseUrl }),
      { model: "m", messages: [userMessage("x")] },
      { schema: Release, name: "release" },
    ),
    (error: StructuredOutputError) => {
      assert.equal(error.code, "invalid_output");
      assert.equal(error.retryable, false);
      assert.deepEqual(error.issues.map((issue) => issue.path), [["version"], ["tags", 1]]);
      assert.match(error.message, /version: .*; tags\.1: /);
      assert.equal(error.text, JSON.stringify(wrong));
      return true;
    },
  );
});

Deno.test("structured output: an answer that is not JSON is a typed error, not a crash", async () => {
  await using server = LoopbackServer.start({
    body: JSON.stringify({
      id: "c1",
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "Sure! Deno 2.9." } }],
    }),
  });
  await assert.rejects(
    generateObject(
      createOpenAiCompatibleProvider({ baseUrl: server.baseUrl }),
      { model: "m", messages: [userMessage("x")] },
      { schema: Release },
    ),
    (error: StructuredOutputError) =>
      error.code === "invalid_output" && /not JSON/.test(error.message) &&
      error.issues[0].path.length === 0,
  );
});

Deno.test("structured output: the schema must be an object and the name a valid identifier", async () => {
  assert.throws(() => jsonSchemaOf(z.string()), /needs an object schema/);
  assert.deepEqual(jsonSchemaOf(z.object({ a: z.number() })), {
    type: "object",
    properties: { a: { type: "number" } },
    required: ["a"],
    additionalProperties: false,
  });
  await assert.rejects(
    generateObject(createOpenAiCompatibleProvider({ baseUrl: "http://127.0.0.1:9/v1" }), {
      model: "m",
      messages: [],
    }, { schema: Release, name: "bad name" }),
    /must match/,
  );
});
