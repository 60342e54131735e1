import assert from "node:assert/strict";
import type { LlmError } from "./errors.ts";
import { userMessage } from "./messages.ts";
import {
  createProvider,
  createProviderFromEnv,
  parseProviderKind,
  providerKindFromEnv,
} from "./providers.ts";
import { LoopbackServer, withEnv } from "./testdata/loopback_server.ts";

const clean = {
  FORGE_LLM_PROVIDER: undefined,
  ANTHROPIC_API_KEY: undefined,
  OPENAI_API_KEY: undefined,
  FORGE_OPENAI_COMPAT_BASE_URL: undefined,
  OLLAMA_BASE_URL: undefined,
};

Deno.test("providers: the environment picks the provider, FORGE_LLM_PROVIDER first", async () => {
  await withEnv(
    { ...clean, OPENAI_API_KEY: "k" },
    () => assert.equal(providerKindFromEnv(), "openai"),
  );
  await withEnv(
    { ...clean, OPENAI_API_KEY: "k", ANTHROPIC_API_KEY: "k" },
    () => assert.equal(providerKindFromEnv(), "anthropic"),
  );
  await withEnv(
    { ...clean, ANTHROPIC_API_KEY: "k", FORGE_LLM_PROVIDER: "openai-compatible" },
    () => assert.equal(providerKindFromEnv(), "openai-compatible"),
  );
  await withEnv(
    { ...clean, OLLAMA_BASE_URL: "http://127.0.0.1:11434" },
    () => assert.equal(providerKindFromEnv(), "openai-compatible"),
  );
});

Deno.test("providers: nothing configured is an error naming every variable", async () => {
  await withEnv(clean, () => {
    assert.throws(
      () => providerKindFromEnv(),
      (error: LlmError) =>
        error.code === "configuration" &&
        ["FORGE_LLM_PROVIDER", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLLAMA_BASE_URL"].every((
          v,
        ) => error.message.includes(v)),
    );
  });
});

Deno.test("providers: unknown provider names are refused", () => {
  assert.equal(parseProviderKind(" Anthropic "), "anthropic");
  assert.equal(parseProviderKind("gemini"), "gemini");
  assert.throws(
    () => parseProviderKind("bard"),
    (error: LlmError) =>
      error.code === "configuration" && /unknown provider "bard"/.test(error.message),
  );
});

Deno.test("providers: createProvider builds a working adapter of the chosen kind", async () => {
  await using server = LoopbackServer.start({ file: "anthropic_tool_use.json" }, {
    file: "chat_text.json",
  });
  const anthropic = createProvider("anthropic", { apiKey: "k", baseUrl: server.baseUrl });
  assert.equal(anthropic.name, "anthropic");
  await anthropic.complete({ model: "m", messages: [userMessage("x")] });
  await withEnv({ ...clean, FORGE_OPENAI_COMPAT_BASE_URL: server.baseUrl }, async () => {
    const compat = createProviderFromEnv();
    assert.equal(compat.name, "openai-compatible");
    await compat.complete({ model: "m", messages: [userMessage("x")] });
  });
  assert.deepEqual(server.received.map((r) => r.path), ["/v1/messages", "/v1/chat/completions"]);
});
