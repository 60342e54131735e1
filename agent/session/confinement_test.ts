import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { agentCatalog } from "../records.ts";
import { makeWorkspace, scriptedSession } from "../testing/harness.ts";
import { ConfinedEnvironment } from "../env/confined.ts";
import { UNCONFINED } from "../env/confinement.ts";

Deno.test("without an OS sandbox the session offers no shell, and says so in its event and record", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  await using env = new ConfinedEnvironment({ workspace: ws.dir, sandbox: "none" });
  const store = new MemoryStore();
  const t = scriptedSession(ws, [{ text: "nothing to run" }], {
    env,
    store,
    persistence: "required",
  });
  await t.session.submit("go");
  await t.session.close();
  await t.ended;
  const tools = t.provider.requests[0].tools?.map((tool) => tool.name) ?? [];
  assert.ok(tools.includes("read_file"), tools.join(","));
  assert.ok(!tools.includes("shell"), `the shell was offered: ${tools.join(",")}`);
  const start = t.events.find((e) => e.kind === "session_start");
  assert.ok(start?.kind === "session_start");
  assert.equal(start.confinement.shell, "unavailable");
  assert.equal(start.confinement.sandbox, "none");
  const turns = await store.listTurns(t.session.contextId!);
  const started = agentCatalog.decode(turns[0])!.value as Record<string, unknown>;
  assert.equal(started.kind, "started");
  assert.equal(started.sandbox, "none");
  assert.equal(started.fileTools, "deno-permissions");
  assert.equal(started.shell, "unavailable");
  assert.equal(started.network, "none");
});

Deno.test("an opted-in unconfined shell is offered and recorded as unconfined", async () => {
  await using ws = await makeWorkspace();
  await using env = new ConfinedEnvironment({
    workspace: ws.dir,
    sandbox: "none",
    unconfinedShell: true,
    allowedHosts: ["example.test"],
  });
  const store = new MemoryStore();
  const t = scriptedSession(ws, [{ text: "ok" }], { env, store, persistence: "required" });
  await t.session.submit("go");
  await t.session.close();
  assert.ok(t.provider.requests[0].tools?.some((tool) => tool.name === "shell"));
  const turns = await store.listTurns(t.session.contextId!);
  const started = agentCatalog.decode(turns[0])!.value as Record<string, unknown>;
  assert.equal(started.shell, "unconfined");
  assert.equal(started.network, "allowed-hosts");
  assert.deepEqual(started.allowedHosts, ["example.test"]);
});

Deno.test("a local environment is recorded as unconfined", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "ok" }]);
  await t.session.submit("go");
  await t.session.close();
  await t.ended;
  const start = t.events.find((e) => e.kind === "session_start");
  assert.deepEqual(start?.kind === "session_start" && start.confinement, UNCONFINED);
});

Deno.test("a running shell command's output arrives as tool_call_output_delta events", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [
    {
      toolCalls: [{
        name: "shell",
        arguments: { command: "echo first; sleep 0.2; echo second >&2" },
      }],
    },
    { text: "done" },
  ]);
  await t.session.submit("go");
  await t.session.close();
  await t.ended;
  const deltas = t.events.filter((e) => e.kind === "tool_call_output_delta");
  assert.deepEqual(
    deltas.map((e) => e.kind === "tool_call_output_delta" && [e.toolName, e.stream, e.delta]),
    [["shell", "stdout", "first\n"], ["shell", "stderr", "second\n"]],
  );
  const end = t.events.findIndex((e) => e.kind === "tool_call_end");
  const last = t.events.lastIndexOf(deltas.at(-1)!);
  assert.ok(last < end, "the deltas come before tool_call_end");
  const callId = t.events.find((e) => e.kind === "tool_call_start");
  assert.ok(
    callId?.kind === "tool_call_start" &&
      deltas.every((e) => e.kind === "tool_call_output_delta" && e.callId === callId.callId),
  );
});
