import assert from "node:assert/strict";
import { createAnthropicProvider } from "./anthropic.ts";
import { createGeminiProvider } from "./gemini.ts";
import { imageFromBase64, imageFromUrl, toolResultsMessage, userContent } from "./messages.ts";
import { createOpenAiCompatibleProvider } from "./openai_compat.ts";
import type { LlmError } from "./errors.ts";
import type { LlmRequest } from "./types.ts";
import { LoopbackServer } from "./testdata/loopback_server.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const request: LlmRequest = {
  model: "m",
  messages: [
    userContent([
      "Compare these.",
      imageFromBase64(PNG, "image/png"),
      imageFromUrl("https://example.com/b.jpg"),
    ]),
    {
      role: "assistant",
      content: [{
        kind: "tool_call",
        toolCall: { callId: "call_1", name: "screenshot", arguments: {}, rawArguments: "{}" },
      }],
    },
    toolResultsMessage([{
      callId: "call_1",
      toolName: "screenshot",
      content: "the page",
      isError: false,
      images: [{ data: PNG, mediaType: "image/png" }],
    }]),
  ],
};

Deno.test("images: Anthropic gets base64 and URL image blocks, and tool results as text + image blocks", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" });
  await createAnthropicProvider({ apiKey: "k", baseUrl: server.baseUrl, promptCaching: false })
    .complete(request);
  const messages = server.received[0].body.messages as { content: unknown[] }[];
  assert.deepEqual(messages[0].content, [
    { type: "text", text: "Compare these." },
    { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
    { type: "image", source: { type: "url", url: "https://example.com/b.jpg" } },
  ]);
  assert.deepEqual(messages[2].content, [{
    type: "tool_result",
    tool_use_id: "call_1",
    content: [
      { type: "text", text: "the page" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
    ],
  }]);
});

Deno.test("images: Gemini gets inlineData for bytes and fileData for a URL", async () => {
  await using server = LoopbackServer.start({ file: "gemini_text_thinking.json" });
  await createGeminiProvider({ apiKey: "k", baseUrl: server.baseUrl }).complete(request);
  const contents = server.received[0].body.contents as { parts: unknown[] }[];
  assert.deepEqual(contents[0].parts, [
    { text: "Compare these." },
    { inlineData: { mimeType: "image/png", data: PNG } },
    { fileData: { fileUri: "https://example.com/b.jpg" } },
  ]);
  assert.deepEqual(contents[2].parts.slice(1), [{
    inlineData: { mimeType: "image/png", data: PNG },
  }]);
});

Deno.test("images: an image without a source, or bytes without an image MIME type, is refused before sending", async () => {
  await using server = LoopbackServer.start();
  const provider = createOpenAiCompatibleProvider({ baseUrl: server.baseUrl });
  for (
    const [image, pattern] of [
      [{}, /exactly one of data and url/],
      [{ data: PNG, url: "https://x" }, /exactly one of data and url/],
      [{ data: PNG }, /image\/\* mediaType \(got none\)/],
      [{ data: PNG, mediaType: "text/plain" }, /got text\/plain/],
    ] as const
  ) {
    await assert.rejects(
      provider.complete({
        model: "m",
        messages: [{ role: "user", content: [{ kind: "image", image }] }],
      }),
      (error: LlmError) => error.code === "configuration" && pattern.test(error.message),
    );
  }
  assert.equal(server.received.length, 0);
});
