import assert from "node:assert/strict";
import { responseText, userMessage } from "../llm/messages.ts";
import type { JsonObject } from "../llm/types.ts";
import { LoopbackServer } from "../llm/testdata/loopback_server.ts";
import { createProviderForProfile, providerKindForProfile } from "./provider_for.ts";
import { createProfile } from "./profile.ts";
import { anthropicProfile, geminiProfile, openaiProfile } from "./providers.ts";

Deno.test("profiles: each built-in profile names its provider; a custom one is refused by name", () => {
  assert.equal(providerKindForProfile(openaiProfile()), "openai");
  assert.equal(providerKindForProfile(anthropicProfile()), "anthropic");
  assert.equal(providerKindForProfile(geminiProfile()), "gemini");
  const custom = createProfile({ id: "mine", model: "m", tools: [], baseInstructions: "x" });
  assert.throws(() => providerKindForProfile(custom), /profile "mine" has no built-in provider/);
});

Deno.test("profiles: the Gemini profile talks to Gemini's native API with its own tools and options", async () => {
  await using server = LoopbackServer.start({ file: "gemini_text_thinking.json" });
  const profile = geminiProfile({
    providerOptions: { gemini: { safetySettings: [] } },
  });
  const provider = createProviderForProfile(profile, { apiKey: "k", baseUrl: server.baseUrl });
  const answer = await provider.complete({
    model: profile.model,
    messages: [userMessage("hi")],
    tools: profile.tools().map((t) => ({ ...t, parameters: t.parameters as JsonObject })),
    providerOptions: profile.providerOptions(),
  });
  assert.equal(answer.provider, "gemini");
  assert.equal(responseText(answer), "Deno 2.9 is out.");
  const received = server.received[0];
  assert.equal(received.path, `/v1/models/${profile.model}:generateContent`);
  const declarations = (received.body.tools as { functionDeclarations: { name: string }[] }[])[0]
    .functionDeclarations.map((d) => d.name);
  assert.ok(declarations.includes("read_many_files") && declarations.includes("list_dir"));
  assert.deepEqual(received.body.safetySettings, []);
});
