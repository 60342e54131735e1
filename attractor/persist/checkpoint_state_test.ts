import assert from "node:assert/strict";
import { blake3Hex, MemoryStore } from "@forge/turnstore";
import { comparable, LINEAR, runCancelledAtBuild, runDot, tempDir } from "../testing/helpers.ts";
import { preparePipeline } from "../engine/prepare.ts";
import { CheckpointError } from "../engine/checkpoint.ts";
import {
  attractorCatalog,
  CheckpointSavedV3,
  type CheckpointSavedV3Value,
  CheckpointSavedV4,
  type CheckpointSavedV4Value,
  CheckpointSavedV5,
  type CheckpointSavedV5Value,
} from "../records.ts";
import { latestCheckpoint, scanRunRecords } from "../query.ts";
import { resumePointFromStore } from "./resume.ts";
import {
  checkpointStateJson,
  encodeCheckpointState,
  presentCheckpointState,
  STATE_INLINE_LIMIT,
  STATE_TEXT_LIMIT,
} from "./checkpoint_state.ts";

/** A checkpoint's JSON after `n` completed stages, shaped as the engine writes it. */
function checkpointJson(n: number): string {
  const nodes = Array.from({ length: n }, (_, i) => `stage_${String(i).padStart(4, "0")}`);
  return JSON.stringify({
    timestamp: "2026-11-30T21:00:00.000Z",
    current_node: nodes.at(-1) ?? "start",
    completed_nodes: nodes,
    node_retries: Object.fromEntries(nodes.map((id) => [id, 0])),
    node_outcomes: Object.fromEntries(
      nodes.map((
        id,
      ) => [id, { status: "success", notes: `[Simulated] Response for stage: ${id}` }]),
    ),
    node_visits: Object.fromEntries(nodes.map((id) => [id, 1])),
    context: { graph_goal: "ship it", last_stage: nodes.at(-1) ?? "" },
    run_id: "run-1",
    stage_index: n,
  });
}

const record = (fields: Partial<CheckpointSavedV4Value>): CheckpointSavedV4Value => ({
  runId: "run-1",
  nodeId: "n",
  stageAttemptId: "n#1",
  checkpointId: "cp-1",
  at: 1_767_000_000_000,
  stateHash: "00".repeat(32),
  completedNodes: [],
  dotSourceHash: "11".repeat(32),
  graphId: "G",
  lineageAttempt: 1,
  stageIndex: 0,
  ...fields,
});

Deno.test("a small checkpoint stays JSON text; a 1,000-stage one is deflated and stays inline", async () => {
  await using store = new MemoryStore();
  const small = checkpointJson(10);
  assert.ok(small.length <= STATE_TEXT_LIMIT);
  const s = encodeCheckpointState(small);
  assert.deepEqual(s.fields, {
    state: small,
    stateEncoding: "json",
    stateHash: blake3Hex(new TextEncoder().encode(small)),
  });
  assert.equal(s.blob, undefined);

  const large = checkpointJson(1_000);
  assert.ok(large.length > STATE_INLINE_LIMIT, `${large.length} bytes of JSON`);
  const l = encodeCheckpointState(large);
  assert.equal(l.blob, undefined);
  assert.equal(l.fields.state, undefined);
  assert.equal(l.fields.stateEncoding, "deflate_raw");
  assert.ok(l.fields.stateBytes!.length < large.length / 5, `${l.fields.stateBytes!.length} bytes`);
  // Through the record codec and back, byte for byte.
  const value = record(l.fields);
  const decoded = CheckpointSavedV4.decode(CheckpointSavedV4.encode(value));
  assert.ok(CheckpointSavedV4.encode(value).length < STATE_INLINE_LIMIT);
  assert.equal(await checkpointStateJson(store, decoded), large);
});

Deno.test("a state that does not deflate under the inline limit goes to a blob, still deflated", async () => {
  await using store = new MemoryStore();
  // Random node ids do not compress far enough.
  const random = crypto.getRandomValues(new Uint8Array(60 * 1024));
  const json = JSON.stringify({ context: { noise: btoa(String.fromCharCode(...random)) } });
  const encoded = encodeCheckpointState(json);
  assert.ok(encoded.blob && encoded.blob.length > STATE_INLINE_LIMIT);
  assert.equal(encoded.fields.stateBytes, undefined);
  const { hash } = await store.putBlob(encoded.blob);
  assert.equal(
    await checkpointStateJson(store, record({ ...encoded.fields, stateBlobHash: hash })),
    json,
  );
});

Deno.test("a damaged stored state is a CheckpointError naming the checkpoint, never a wrong state", async () => {
  await using store = new MemoryStore();
  const json = checkpointJson(200);
  const { fields } = encodeCheckpointState(json);
  const garbage = record({ ...fields, stateBytes: new Uint8Array([0xff, 0xfe, 0xfd, 0xfc]) });
  await assert.rejects(
    checkpointStateJson(store, garbage),
    (e) =>
      e instanceof CheckpointError && /cp-1 of run run-1: its deflate_raw state/.test(e.message),
  );
  const other = encodeCheckpointState(checkpointJson(201)).fields.stateBytes;
  await assert.rejects(
    checkpointStateJson(store, record({ ...fields, stateBytes: other })),
    (e) => e instanceof CheckpointError && /does not match its state hash/.test(e.message),
  );
  await assert.rejects(
    checkpointStateJson(store, record({ stateEncoding: "deflate_raw" })),
    (e) => e instanceof CheckpointError && /holds no state/.test(e.message),
  );
});

Deno.test("for display, a deflated state is shown inflated and its bytes as a note; text states as stored", () => {
  const json = checkpointJson(300);
  const { fields } = encodeCheckpointState(json);
  const shown = presentCheckpointState(record(fields) as unknown as Record<string, unknown>)!;
  assert.equal(shown.state, json);
  assert.equal(
    shown.stateBytes,
    `${fields.stateBytes!.length} bytes of deflate_raw, inflated into state (${json.length} bytes)`,
  );
  const text = encodeCheckpointState(checkpointJson(3)).fields;
  assert.equal(
    presentCheckpointState(record(text) as unknown as Record<string, unknown>),
    undefined,
  );
  const bad = record({ ...fields, stateBytes: new Uint8Array([1, 2, 3]) });
  assert.equal(presentCheckpointState(bad as unknown as Record<string, unknown>), undefined);
});

/**
 * Copies a run context into a new one as an earlier writer would have stored
 * it: every checkpoint a version 3 record (its state JSON inline or in a
 * blob) or a version 4 record (JSON text, or deflated when large). The other
 * record types did not change between the versions.
 */
async function asOlderVersion(
  store: MemoryStore,
  contextId: string,
  version: 3 | 4,
  stateIn: "inline" | "blob",
): Promise<string> {
  const turns = await store.listTurns(contextId, { limit: 1_000 });
  const copy = await store.createContext();
  for (const turn of turns) {
    let { typeVersion, payload } = turn;
    if (turn.typeId === CheckpointSavedV5.typeId && typeVersion === 5) {
      const v5 = attractorCatalog.decode(turn)!.value as unknown as CheckpointSavedV5Value;
      assert.equal(v5.stateDelta, undefined, "a small run's checkpoints are full");
      const {
        stateEncoding: _e,
        stateBytes: _b,
        stateDelta: _d,
        baseStateHash: _h,
        deltaDepth: _depth,
        completedCount: _c,
        ...common
      } = v5;
      const json = await checkpointStateJson(store, v5);
      const completedNodes = JSON.parse(json).completed_nodes as string[];
      if (version === 4) {
        const encoded = encodeCheckpointState(json);
        payload = CheckpointSavedV4.encode({ ...common, ...encoded.fields, completedNodes });
      } else {
        const v3: CheckpointSavedV3Value = stateIn === "inline"
          ? { ...common, completedNodes, state: json, stateBlobHash: undefined }
          : {
            ...common,
            completedNodes,
            state: undefined,
            stateBlobHash: (await store.putBlob(new TextEncoder().encode(json))).hash,
          };
        payload = CheckpointSavedV3.encode(v3);
      }
      typeVersion = version;
    }
    await store.appendTurn({
      contextId: copy.contextId,
      typeId: turn.typeId,
      typeVersion,
      payload,
    });
  }
  return copy.contextId;
}

const OLDER = [[3, "inline"], [3, "blob"], [4, "inline"]] as const;
for (const [version, stateIn] of OLDER) {
  Deno.test(`a run written with checkpoint version ${version} (state ${stateIn}) resumes from the store alone, equal to an uninterrupted run`, async () => {
    await using full = await tempDir();
    const uninterrupted = await runDot(LINEAR, full.path);
    await using dir = await tempDir();
    await using store = new MemoryStore();
    const cancelled = await runCancelledAtBuild(dir.path, store);
    assert.equal(cancelled.status, "cancelled");
    const old = await asOlderVersion(store, cancelled.contextIds[0], version, stateIn);
    const versions: number[] = [];
    for await (const e of scanRunRecords(store, old)) {
      if (e.typeId === CheckpointSavedV5.typeId) versions.push(e.typeVersion);
    }
    assert.ok(versions.length === 2 && versions.every((v) => v === version), `${versions}`);

    const point = await resumePointFromStore(store, old);
    assert.equal(point.checkpoint.next_node, "build");
    assert.deepEqual(point.checkpoint.completed_nodes, ["start", "plan"]);
    const { graph } = preparePipeline(point.dotSource!.replace("delay_ms=5000", "delay_ms=0"));
    const resumed = await runDot(point.dotSource!, dir.path, {
      graph,
      store,
      resume: { checkpoint: point.checkpoint, contextId: point.contextId, chain: point.chain },
    });
    assert.deepEqual(comparable(resumed), comparable(uninterrupted));
    // The resumed run writes version 5 after the older history, and reads it back.
    const latest = await latestCheckpoint(store, old);
    assert.equal(latest?.checkpoint.final_status, "success");
    assert.equal(latest?.record.stateEncoding, "json");
    assert.equal(latest?.record.deltaDepth, 0);
  });
}
