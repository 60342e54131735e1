import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { EARLIER_AGENT_RECORD_TYPES } from "./records_earlier.ts";
import { AGENT_RECORD_TYPES, agentBundle, agentCatalog } from "./records.ts";
import { readSession } from "./query.ts";

const earlier = (typeId: string) => {
  const type = EARLIER_AGENT_RECORD_TYPES.find((t) => t.typeId === typeId)!;
  return type as typeof type & { encode(value: unknown): Uint8Array };
};

Deno.test("every earlier version is an older version of a current type, and is not in the bundle", () => {
  for (const old of EARLIER_AGENT_RECORD_TYPES) {
    const current = AGENT_RECORD_TYPES.find((t) => t.typeId === old.typeId);
    assert.ok(current && current.version > old.version, `${old.typeId} v${old.version}`);
    assert.equal(agentBundle.types[old.typeId].versions[String(old.version)], undefined);
    assert.equal(agentCatalog.get(old.typeId, old.version), old);
  }
});

Deno.test("a session stored with the earlier versions still reads, its fork included", async () => {
  await using store = new MemoryStore();
  const append = (contextId: string, typeId: string, value: Record<string, unknown>) => {
    const type = earlier(typeId);
    return store.appendTurn({
      contextId,
      typeId,
      typeVersion: type.version,
      payload: type.encode(value),
    });
  };
  const parent = await store.createContext();
  const p = parent.contextId;
  await append(p, "forge.agent.session_lifecycle", {
    sessionId: "p",
    sequenceNo: 1,
    kind: "started",
    at: 1,
  });
  await append(p, "forge.agent.user_turn", { sessionId: "p", sequenceNo: 2, at: 2, content: "go" });
  const fork = await append(p, "forge.agent.tool_call_lifecycle", {
    sessionId: "p",
    sequenceNo: 3,
    callId: "c1",
    toolName: "spawn_agent",
    kind: "started",
    at: 3,
  });
  const child = await store.forkContext(fork.turnId);
  const c = child.contextId;
  await append(c, "forge.agent.session_lifecycle", {
    sessionId: "c",
    sequenceNo: 1,
    kind: "started",
    at: 4,
    parentSessionId: "p",
  });
  await append(c, "forge.agent.user_turn", {
    sessionId: "c",
    sequenceNo: 2,
    at: 5,
    content: "task",
  });
  await append(p, "forge.link.subagent_spawn", {
    sessionId: "p",
    sequenceNo: 4,
    at: 6,
    forkedFromTurnId: fork.turnId,
    childContextId: c,
    childSessionId: "c",
    subagentId: "agent-1",
    subagentDepth: 1,
    task: "task",
  });
  const view = await readSession(store, p);
  assert.equal(view.sessionId, "p");
  assert.deepEqual(view.transcript.map((e) => e.kind), ["user"]);
  assert.deepEqual(view.toolCalls.map((t) => t.toolName), ["spawn_agent"]);
  const sub = view.subagents[0].session!;
  assert.equal(sub.sessionId, "c");
  assert.equal(sub.parentSessionId, "p");
  assert.equal(sub.inheritedTurns, 3);
  assert.deepEqual(sub.transcript.map((e) => e.kind === "user" && e.content), ["task"]);
});
