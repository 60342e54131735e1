import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { createAnthropicProvider } from "../llm/anthropic.ts";
import { LoopbackServer } from "../llm/testdata/loopback_server.ts";
import { readSession } from "../query.ts";
import { agentCatalog, type AssistantTurnValue } from "../records.ts";
import { makeWorkspace, scriptedSession } from "../testing/harness.ts";

Deno.test("server tool calls, their results and unknown blocks reach the stored assistant record, and the next request carries them back", async () => {
  await using ws = await makeWorkspace();
  await using server = LoopbackServer.start(
    { file: "anthropic_server_tools.sse", chunkBytes: 7 },
    { file: "anthropic_unknown_blocks.sse" },
  );
  const store = new MemoryStore();
  const t = scriptedSession(ws, [], {
    provider: createAnthropicProvider({ apiKey: "k", baseUrl: server.baseUrl }),
    persistence: "required",
    store,
    streaming: true,
    detectQuestions: false,
  });
  const first = await t.session.submit("Is Deno 2.9 out?");
  assert.equal(first.text, "Let me look that up.Deno 2.9 is out.");
  await t.session.submit("And then?");
  await t.session.close();
  const assistant = (await store.listTurns(t.session.contextId!))
    .filter((turn) => turn.typeId === "forge.agent.assistant_turn")
    .map((turn) => agentCatalog.decode(turn)!.value as unknown as AssistantTurnValue);
  assert.deepEqual(assistant[0].parts!.map((p) => [p.kind, p.name, p.callId]), [
    ["server_tool_call", "web_search", "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"],
    ["server_tool_result", "web_search_tool_result", "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"],
    ["server_tool_call", "web_fetch", "srvtoolu_02Fetch"],
    ["server_tool_result", "web_fetch_tool_result", "srvtoolu_02Fetch"],
    ["server_tool_call", "bash_code_execution", "srvtoolu_03Code"],
    ["server_tool_result", "bash_code_execution_tool_result", "srvtoolu_03Code"],
    ["server_tool_call", "mcp:tracker/lookup_issue", "mcptoolu_04"],
    ["server_tool_result", "mcp_tool_result", "mcptoolu_04"],
  ]);
  assert.deepEqual(JSON.parse(assistant[0].parts![0].raw), {
    type: "server_tool_use",
    id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
    name: "web_search",
    input: { query: "deno 2.9 release" },
  });
  assert.deepEqual(assistant[1].parts!.map((p) => [p.kind, p.provider, p.name]), [
    ["provider", "anthropic", "compaction"],
    ["provider", "anthropic", "hologram"],
  ]);
  // Read back from the store alone, the transcript shows them too.
  const view = await readSession(store, t.session.contextId!);
  const answers = view.transcript.filter((entry) => entry.kind === "assistant");
  assert.deepEqual(
    answers.map((entry) => entry.kind === "assistant" ? entry.parts?.length : -1),
    [8, 2],
  );
  // The second request sends the first answer's server tool blocks back verbatim.
  const messages = server.received[1].body.messages as {
    role: string;
    content: { type: string }[];
  }[];
  assert.deepEqual(messages[1].content.map((b) => b.type).slice(0, 3), [
    "text",
    "server_tool_use",
    "web_search_tool_result",
  ]);
});
