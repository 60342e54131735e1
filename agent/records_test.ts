import assert from "node:assert/strict";
import {
  defineRecord,
  f,
  isTurnStoreError,
  type RegistryBundle,
  RegistryIndex,
} from "@forge/turnstore";
import {
  AGENT_BUNDLE_PREFIX,
  AGENT_RECORD_TYPES,
  agentBundle,
  agentCatalog,
  AssistantTurn,
  RUST_FORGE_AGENT_TAGS,
  SubagentSpawn,
  ToolCallLifecycle,
} from "./records.ts";

/** The Rust Forge's agent bundle, rebuilt from its tag table. */
function rustBundle(): RegistryBundle {
  const types: RegistryBundle["types"] = {};
  for (const [typeId, { version, tags }] of Object.entries(RUST_FORGE_AGENT_TAGS)) {
    const fields: Record<string, { name: string; type: string }> = {};
    for (const [tag, [name, type]] of Object.entries(tags)) fields[tag] = { name, type };
    types[typeId] = { versions: { [String(version)]: { fields } } };
  }
  return { registry_version: 1, bundle_id: "forge.agent.runtime.v2", types };
}

Deno.test("our agent bundle is accepted by a registry that already holds the Rust Forge's", () => {
  const index = new RegistryIndex();
  const theirs = rustBundle();
  assert.equal(index.check(theirs), "new");
  index.admit(theirs);
  const ours = agentBundle;
  assert.ok(ours.bundle_id.startsWith(`${AGENT_BUNDLE_PREFIX}.`));
  assert.equal(index.check(ours), "new");
  index.admit(ours);
  assert.equal(index.check(ours), "identical");
});

Deno.test("the registry check used above refuses a tag that changes wire type", () => {
  const index = new RegistryIndex();
  index.admit(rustBundle());
  // What a careless v3 would do: keep the name "timestamp" at tag 2 but make it unix_ms.
  const careless = defineRecord({
    typeId: "forge.agent.user_turn",
    version: 3,
    fields: { sessionId: f.string(1), at: f.unixMs(2) },
  });
  const bundle: RegistryBundle = {
    registry_version: 1,
    bundle_id: "careless",
    types: {
      "forge.agent.user_turn": {
        versions: {
          "3": {
            fields: {
              "1": { name: "session_id", type: "string" },
              "2": { name: "at", type: careless.fields[1].meta.wire },
            },
          },
        },
      },
    },
  };
  assert.throws(
    () => index.check(bundle),
    (e) =>
      isTurnStoreError(e, "Conflict") && /tag 2 of type forge\.agent\.user_turn/.test(e.message),
  );
});

Deno.test("every agent record keeps the Rust type ids at a newer version", () => {
  const ids = new Set(AGENT_RECORD_TYPES.map((t) => t.typeId));
  for (const typeId of Object.keys(RUST_FORGE_AGENT_TAGS)) {
    assert.ok(ids.has(typeId), `${typeId} is defined`);
    const ours = AGENT_RECORD_TYPES.find((t) => t.typeId === typeId)!;
    assert.ok(ours.version > RUST_FORGE_AGENT_TAGS[typeId].version, `${typeId} has a new version`);
  }
  assert.ok(ids.has("forge.link.subagent_spawn"));
  assert.ok(ids.has("forge.link.subagent_close"));
});

Deno.test("timestamps are unix_ms and kinds are enums in the bundle", () => {
  const bundle = agentBundle;
  const lifecycle = bundle.types["forge.agent.tool_call_lifecycle"].versions["3"].fields;
  assert.equal(lifecycle["15"].type, "unix_ms");
  assert.equal(lifecycle["14"].enum, "forge.agent.ToolCallLifecycleKind");
  const spawn = bundle.types["forge.link.subagent_spawn"].versions["3"].fields;
  assert.deepEqual(spawn["12"], { name: "child_context_id", type: "u64", semantic: "id" });
});

Deno.test("agent records round-trip through the catalog", () => {
  const assistant = {
    at: 1_767_000_000_000,
    text: "reading",
    toolCalls: [{ callId: "c1", name: "read_file", arguments: '{"file_path":"a"}' }],
    usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
  };
  const decoded = agentCatalog.decode({
    typeId: AssistantTurn.typeId,
    typeVersion: AssistantTurn.version,
    payload: AssistantTurn.encode(assistant),
  });
  assert.deepEqual(decoded?.value, assistant);
  const spawn = {
    at: 1,
    forkedFromTurnId: "12",
    childContextId: "18446744073709551615",
    childSessionId: "s-2",
    subagentId: "agent-1",
    subagentDepth: 1,
    task: "look around",
  };
  assert.deepEqual(SubagentSpawn.decode(SubagentSpawn.encode(spawn)), spawn);
  assert.throws(
    () => ToolCallLifecycle.encode({ callId: "c", toolName: "t" } as never),
    (e) => isTurnStoreError(e, "InvalidInput") && /tool_call_lifecycle/.test(e.message),
  );
});

Deno.test("no agent record repeats what the store owns or carries an untyped field", () => {
  // Causality is the parent edge; a payload names other contexts' turns only
  // as explicit cross-context joins (e.g. the turn a child context forks from).
  const owned = /^(parent_turn_id|depth|context_id|turn_id|type_id|type_version)$/;
  for (const [typeId, entry] of Object.entries(agentBundle.types)) {
    for (const version of Object.values(entry.versions)) {
      for (const field of Object.values(version.fields)) {
        assert.doesNotMatch(field.name, owned, `${typeId}.${field.name}`);
        assert.notEqual(field.type, "any", `${typeId}.${field.name} must be typed`);
      }
    }
  }
});

Deno.test("no agent record restates the DAG: no write counter, and a session id only where a reader needs it", () => {
  // The depth surrogate of earlier versions is gone from every record.
  for (const [typeId, entry] of Object.entries(agentBundle.types)) {
    for (const version of Object.values(entry.versions)) {
      for (const field of Object.values(version.fields)) {
        assert.notEqual(field.name, "sequence_no", `${typeId} carries a write counter`);
        if (field.name === "session_id") {
          assert.equal(typeId, "forge.agent.session_lifecycle", `${typeId} restates the session`);
        }
      }
    }
  }
});

Deno.test("the new versions leave the tags of dropped fields unused, so no tag changes its wire type", () => {
  const index = new RegistryIndex();
  index.admit(rustBundle());
  index.admit(agentBundle);
  const transcript = agentBundle.types["forge.agent.user_turn"].versions["4"].fields;
  assert.equal(transcript["1"], undefined);
  assert.equal(transcript["4"], undefined);
  const tools = agentBundle.types["forge.agent.tool_call_lifecycle"].versions["3"].fields;
  assert.equal(tools["9"], undefined);
  assert.deepEqual(tools["4"], { name: "call_id", type: "string" });
});
