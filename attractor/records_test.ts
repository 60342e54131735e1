import assert from "node:assert/strict";
import { MemoryStore, type RegistryBundle, RegistryIndex } from "@forge/turnstore";
import {
  attractorBundle,
  attractorCatalog,
  CheckpointSaved,
  StageLifecycle,
  StageToAgentLink,
} from "./records.ts";

// The Rust Forge's attractor bundle ("forge.attractor.runtime.v2"), rebuilt
// from its published tag table: name, wire type.
const rust: Record<string, Record<string, [string, string]>> = {
  "forge.attractor.run_lifecycle": {
    1: ["kind", "string"],
    2: ["timestamp", "string"],
    3: ["run_id", "string"],
    4: ["graph_id", "string"],
    5: ["lineage_root_run_id", "string"],
    6: ["lineage_attempt", "u32"],
    7: ["status", "string"],
    8: ["reason", "string"],
    9: ["restart_target", "string"],
    10: ["dot_source_hash", "string"],
    11: ["dot_source_ref", "string"],
    12: ["graph_snapshot_hash", "string"],
    13: ["graph_snapshot_ref", "string"],
    14: ["sequence_no", "u64"],
  },
  "forge.attractor.stage_lifecycle": {
    1: ["kind", "string"],
    2: ["timestamp", "string"],
    3: ["run_id", "string"],
    4: ["node_id", "string"],
    5: ["stage_attempt_id", "string"],
    6: ["attempt", "u32"],
    7: ["status", "string"],
    8: ["notes", "string"],
    9: ["will_retry", "bool"],
    10: ["next_attempt", "u32"],
    11: ["delay_ms", "u64"],
    12: ["sequence_no", "u64"],
  },
  "forge.attractor.parallel_lifecycle": {
    1: ["kind", "string"],
    2: ["timestamp", "string"],
    3: ["run_id", "string"],
    4: ["node_id", "string"],
    5: ["branch_count", "u32"],
    6: ["branch_id", "string"],
    7: ["branch_index", "u32"],
    8: ["target_node", "string"],
    9: ["status", "string"],
    10: ["notes", "string"],
    11: ["success_count", "u32"],
    12: ["failure_count", "u32"],
    13: ["sequence_no", "u64"],
  },
  "forge.attractor.interview_lifecycle": {
    1: ["kind", "string"],
    2: ["timestamp", "string"],
    3: ["run_id", "string"],
    4: ["node_id", "string"],
    5: ["selected", "string"],
    6: ["default_selected", "string"],
    7: ["sequence_no", "u64"],
  },
  "forge.attractor.checkpoint_saved": {
    1: ["timestamp", "string"],
    2: ["run_id", "string"],
    3: ["node_id", "string"],
    4: ["stage_attempt_id", "string"],
    5: ["checkpoint_id", "string"],
    6: ["state_summary", "any"],
    7: ["checkpoint_hash", "string"],
    8: ["sequence_no", "u64"],
  },
  "forge.attractor.route_decision": {
    1: ["timestamp", "string"],
    2: ["run_id", "string"],
    3: ["node_id", "string"],
    4: ["stage_attempt_id", "string"],
    5: ["selected_edge", "string"],
    6: ["loop_restart", "bool"],
    7: ["terminated_status", "string"],
    8: ["terminated_reason", "string"],
    9: ["sequence_no", "u64"],
  },
  "forge.link.stage_to_agent": {
    1: ["timestamp", "string"],
    2: ["run_id", "string"],
    3: ["pipeline_context_id", "string"],
    4: ["node_id", "string"],
    5: ["stage_attempt_id", "string"],
    6: ["agent_session_id", "string"],
    7: ["agent_context_id", "string"],
    8: ["agent_head_turn_id", "string"],
    9: ["parent_turn_id", "string"],
    10: ["sequence_no", "u64"],
    11: ["thread_key", "string"],
  },
  "forge.attractor.dot_source": {
    1: ["timestamp", "string"],
    2: ["run_id", "string"],
    3: ["dot_source", "string"],
    4: ["artifact_blob_hash", "string"],
    5: ["content_hash", "string"],
    6: ["size_bytes", "u64"],
    7: ["sequence_no", "u64"],
  },
  "forge.attractor.graph_snapshot": {
    1: ["timestamp", "string"],
    2: ["run_id", "string"],
    3: ["graph_snapshot", "any"],
    4: ["artifact_blob_hash", "string"],
    5: ["content_hash", "string"],
    6: ["size_bytes", "u64"],
    7: ["sequence_no", "u64"],
  },
};

function rustBundle(): RegistryBundle {
  const types: RegistryBundle["types"] = {};
  for (const [typeId, tags] of Object.entries(rust)) {
    const fields: Record<string, { name: string; type: string }> = {};
    for (const [tag, [name, type]] of Object.entries(tags)) fields[tag] = { name, type };
    types[typeId] = { versions: { "1": { fields } } };
  }
  return { registry_version: 1, bundle_id: "forge.attractor.runtime.v2", types };
}

Deno.test("our pipeline bundle is accepted on a registry that holds the Rust Forge's", () => {
  const index = new RegistryIndex();
  const theirs = rustBundle();
  assert.equal(index.check(theirs), "new");
  index.admit(theirs);
  assert.equal(index.check(attractorBundle), "new", "no tag changes wire type across versions");
});

Deno.test("every pipeline type keeps the Rust type id and takes a new version", () => {
  for (const typeId of Object.keys(rust)) {
    const versions = Object.keys(attractorBundle.types[typeId]?.versions ?? {}).map(Number);
    // Version 1 is the Rust Forge's; ours start at 2 (the runner writes 3 for four types).
    assert.ok(versions.length > 0 && versions.every((v) => v >= 2), typeId);
    assert.ok(versions.includes(2), typeId);
  }
  assert.match(attractorBundle.bundle_id, /^forge\.attractor\.deno\.[0-9a-f]{12}$/);
});

Deno.test("no pipeline record repeats what the store owns", () => {
  const owned = /^(parent_turn_id|depth|context_id|turn_id|type_id|type_version|sequence_no)$/;
  for (const [typeId, entry] of Object.entries(attractorBundle.types)) {
    for (const version of Object.values(entry.versions)) {
      for (const field of Object.values(version.fields)) {
        assert.doesNotMatch(field.name, owned, `${typeId}.${field.name}`);
        assert.notEqual(field.type, "any", `${typeId}.${field.name} must be typed`);
      }
    }
  }
});

Deno.test("a checkpoint written as a typed turn reads back whole from the store", async () => {
  await using store = new MemoryStore();
  const ctx = await store.createContext();
  const state = JSON.stringify({
    current: "review",
    completed: ["plan", "code"],
    context: { k: 1 },
  });
  const value = {
    runId: "run-1",
    nodeId: "code",
    stageAttemptId: "code#1",
    checkpointId: "cp-7",
    at: 1_767_000_000_000,
    state,
    stateHash: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    completedNodes: ["plan", "code"],
    nextNodeId: "review",
  };
  const turn = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: CheckpointSaved.typeId,
    typeVersion: CheckpointSaved.version,
    payload: CheckpointSaved.encode(value),
  });
  const decoded = attractorCatalog.decode(await store.getTurn(turn.turnId));
  assert.deepEqual(decoded?.value, value);
});

Deno.test("stage and link records validate their enums and ids", () => {
  assert.throws(
    () =>
      StageLifecycle.encode({
        runId: "r",
        nodeId: "n",
        stageAttemptId: "n#1",
        attempt: 1,
        kind: "paused" as never,
        at: 1,
      }),
    /forge\.attractor\.stage_lifecycle v2: kind/,
  );
  assert.throws(
    () =>
      StageToAgentLink.encode({
        runId: "r",
        nodeId: "n",
        stageAttemptId: "n#1",
        agentSessionId: "s",
        at: 1,
        pipelineContextId: "ctx-1",
        agentContextId: "2",
      }),
    /pipelineContextId/,
  );
});
