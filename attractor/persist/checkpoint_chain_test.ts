// Checkpoint records past the text limit are deltas chained to a full state
// every CHECKPOINT_FULL_EVERY records; reading one back gives the exact
// checkpoint, resuming continues the chain, and a damaged chain is an error.
import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { comparable, runDot, tempDir } from "../testing/helpers.ts";
import { preparePipeline } from "../engine/prepare.ts";
import { CheckpointError, serializeCheckpoint } from "../engine/checkpoint.ts";
import { attractorCatalog, CheckpointSavedV5, type CheckpointSavedV5Value } from "../records.ts";
import { latestCheckpoint, scanRunRecords } from "../query.ts";
import { resumePointFromDirectory, resumePointFromStore } from "./resume.ts";
import { readCheckpointFile } from "./rundir.ts";
import { CHECKPOINT_FULL_EVERY } from "./run_records.ts";
import { checkpointStateJson, STATE_TEXT_LIMIT } from "./checkpoint_state.ts";

/** A linear pipeline of `n` stages, each setting a context key; `slowAt` waits long. */
function linear(n: number, slowAt?: number): string {
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  const attrs = (i: number) =>
    `prompt="stage ${i}", simulate.context.last="s${i}"` +
    (i === slowAt ? ", simulate.delay_ms=5000" : "");
  return `digraph Long {\n  graph [goal="long"]\n  start [shape=Mdiamond]\n  exit [shape=Msquare]\n` +
    ids.map((id, i) => `  ${id} [${attrs(i)}]\n`).join("") +
    `  start -> ${ids.join(" -> ")} -> exit\n}\n`;
}

/** The checkpoint records of a context, oldest first. */
async function checkpointRecords(store: MemoryStore, contextId: string) {
  const out: CheckpointSavedV5Value[] = [];
  for await (const e of scanRunRecords(store, contextId)) {
    if (e.typeId === CheckpointSavedV5.typeId) {
      assert.equal(e.typeVersion, 5);
      out.unshift(e.value as unknown as CheckpointSavedV5Value);
    }
  }
  return out;
}

/** Whole checkpoints compared without their timestamp. */
const same = (a: object, b: object) =>
  assert.equal(
    serializeCheckpoint({ ...a, timestamp: "" } as never),
    serializeCheckpoint({ ...b, timestamp: "" } as never),
  );

Deno.test("past the text limit a checkpoint record holds the stage's delta, a full state every CHECKPOINT_FULL_EVERY records, and reads back exactly", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const run = await runDot(linear(90), dir.path, { store });
  assert.equal(run.status, "success");
  const records = await checkpointRecords(store, run.contextIds[0]);
  assert.equal(records.length, 92); // start, 90 stages, the final one
  const deltas = records.filter((r) => r.stateDelta !== undefined);
  assert.ok(deltas.length >= 30, `${deltas.length} deltas`);
  let previous: CheckpointSavedV5Value | undefined;
  for (const r of records) {
    if (r.stateDelta !== undefined) {
      assert.equal(r.baseStateHash, previous!.stateHash);
      assert.equal(r.deltaDepth, previous!.deltaDepth + 1);
      assert.ok(r.deltaDepth <= CHECKPOINT_FULL_EVERY);
      // What a stage adds, not the run: well under the text limit at any length.
      assert.ok(r.stateDelta.length < 1_000, `${r.stateDelta.length} bytes`);
      assert.equal(r.state ?? r.stateBytes ?? r.stateBlobHash, undefined);
    } else {
      assert.equal(r.deltaDepth, 0);
    }
    assert.equal(r.completedCount, r.stageIndex);
    previous = r;
  }
  // Full states appear on schedule once deltas start.
  const fullAfterDeltas = records.filter((r, i) =>
    i > 0 && r.deltaDepth === 0 && records[i - 1].deltaDepth > 0
  );
  assert.ok(fullAfterDeltas.length >= 2, "the chain restarts from a full state");
  for (const [i, r] of records.entries()) {
    if (r.deltaDepth === 0 && i > 0 && records[i - 1].deltaDepth > 0) {
      assert.equal(records[i - 1].deltaDepth, CHECKPOINT_FULL_EVERY, "a full state when due");
    }
  }
  assert.ok(
    fullAfterDeltas.every((r) => (r.state ?? "").length > STATE_TEXT_LIMIT || r.stateBytes),
  );
  // A chain starts from a full state past the text limit: a small state is written whole.
  for (const [i, r] of records.entries()) {
    if (r.deltaDepth !== 1) continue;
    const base = records[i - 1];
    assert.equal(base.deltaDepth, 0);
    assert.ok(
      (base.state ?? "").length > STATE_TEXT_LIMIT || base.stateBytes || base.stateBlobHash,
      `the full state before checkpoint ${r.checkpointId} is past the text limit`,
    );
  }
  const latest = await latestCheckpoint(store, run.contextIds[0]);
  assert.equal(latest?.checkpoint.final_status, "success");
  assert.deepEqual(latest!.checkpoint, await readCheckpointFile(dir.path));
  assert.equal(latest!.chain.stateHash, records.at(-1)!.stateHash);
});

for (const from of ["store", "directory"] as const) {
  Deno.test(`a long run cancelled mid-stage resumes from the ${from} on a delta chain, continues it, and equals an uninterrupted run`, async () => {
    await using full = await tempDir();
    const uninterrupted = await runDot(linear(70), full.path);
    await using dir = await tempDir();
    await using store = new MemoryStore();
    const abort = new AbortController();
    const cancelled = await runDot(linear(70, 60), dir.path, {
      store,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.kind === "stage_started" && e.name === "s60") setTimeout(() => abort.abort(), 20);
      },
    });
    assert.equal(cancelled.status, "cancelled");
    const contextId = cancelled.contextIds[0];
    const before = await checkpointRecords(store, contextId);
    assert.ok(before.at(-1)!.deltaDepth > 0, "the store's latest checkpoint is a delta");
    const point = from === "store"
      ? await resumePointFromStore(store, contextId)
      : await resumePointFromDirectory(dir.path, store);
    assert.equal(point.checkpoint.next_node, "s60");
    same(point.checkpoint, await readCheckpointFile(dir.path));
    // The chain's full state, as the reader measured it: what the next delta is weighed against.
    const fullRecord = before.at(-1 - before.at(-1)!.deltaDepth)!;
    assert.equal(fullRecord.deltaDepth, 0);
    assert.deepEqual(point.chain, {
      stateHash: before.at(-1)!.stateHash,
      deltaDepth: before.at(-1)!.deltaDepth,
      fullStateBytes: (await checkpointStateJson(store, fullRecord)).length,
      checkpointId: before.at(-1)!.checkpointId,
    });
    assert.ok(point.chain!.fullStateBytes! > STATE_TEXT_LIMIT);
    const { graph } = preparePipeline(linear(70));
    const resumed = await runDot(linear(70, 60), dir.path, {
      graph,
      store,
      resume: { checkpoint: point.checkpoint, contextId, chain: point.chain },
    });
    assert.deepEqual(comparable(resumed), comparable(uninterrupted));
    // The resumed run adopted the checkpoint's outcome objects instead of rebuilding them.
    assert.equal(resumed.checkpoint!.node_outcomes.s0, point.checkpoint.node_outcomes.s0);
    const after = await checkpointRecords(store, contextId);
    const first = after[before.length];
    // Only what the resumed stage changed, though every outcome was parsed back from the store.
    if (first.stateDelta !== undefined) assert.ok(first.stateDelta.length < 1_000);
    // The first checkpoint after the resume continues the chain (unless it was due a full state).
    assert.equal(first.baseStateHash ?? before.at(-1)!.stateHash, before.at(-1)!.stateHash);
    assert.equal(
      first.deltaDepth,
      before.at(-1)!.deltaDepth < CHECKPOINT_FULL_EVERY ? before.at(-1)!.deltaDepth + 1 : 0,
    );
    const latest = await latestCheckpoint(store, contextId);
    assert.deepEqual(latest!.checkpoint, await readCheckpointFile(dir.path));
  });
}

Deno.test("a hand-edited checkpoint.json wins on --resume DIR and the next record is a full state", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const abort = new AbortController();
  const first = await runDot(linear(60, 55), dir.path, {
    store,
    signal: abort.signal,
    onEvent: (e) => e.kind === "stage_started" && e.name === "s55" && abort.abort(),
  });
  const contextId = first.contextIds[0];
  const count = (await checkpointRecords(store, contextId)).length;
  const path = `${dir.path}/checkpoint.json`;
  const edited = JSON.parse(await Deno.readTextFile(path));
  edited.context["context.approved"] = "by hand";
  await Deno.writeTextFile(path, JSON.stringify(edited));
  const point = await resumePointFromDirectory(dir.path, store);
  assert.match(point.note!, /the file wins/);
  assert.equal(point.chain, undefined, "the store's chain does not lead to the edited state");
  const resumed = await runDot(linear(60), dir.path, {
    store,
    resume: { checkpoint: point.checkpoint, contextId, note: point.note, chain: point.chain },
  });
  assert.equal(resumed.context["context.approved"], "by hand");
  const after = await checkpointRecords(store, contextId);
  assert.equal(after[count].deltaDepth, 0);
  const latest = await latestCheckpoint(store, contextId);
  assert.equal(latest!.checkpoint.context["context.approved"], "by hand");
  assert.deepEqual(latest!.checkpoint, await readCheckpointFile(dir.path));
});

Deno.test("a damaged delta chain is a CheckpointError naming the checkpoint, never a wrong state", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const run = await runDot(linear(50), dir.path, { store });
  const turns = await store.listTurns(run.contextIds[0], { limit: 1_000 });
  /** A copy of the run's context with the newest delta changed by `edit`. */
  const copyWith = async (edit: (v: CheckpointSavedV5Value) => CheckpointSavedV5Value) => {
    const copy = await store.createContext();
    const last = turns.findLastIndex((t) => t.typeId === CheckpointSavedV5.typeId);
    for (const [i, turn] of turns.entries()) {
      let payload = turn.payload;
      if (i === last) {
        const value = attractorCatalog.decode(turn)!.value as unknown as CheckpointSavedV5Value;
        assert.ok(value.stateDelta !== undefined, "the newest record is a delta");
        payload = CheckpointSavedV5.encode(edit(value));
      }
      await store.appendTurn({
        contextId: copy.contextId,
        typeId: turn.typeId,
        typeVersion: turn.typeVersion,
        payload,
      });
    }
    return copy.contextId;
  };
  const altered = await copyWith((v) => ({
    ...v,
    stateDelta: v.stateDelta!.replace('"success"', '"fail"'),
  }));
  await assert.rejects(
    latestCheckpoint(store, altered),
    (e) => e instanceof CheckpointError && /does not match its state hash/.test(e.message),
  );
  const unlinked = await copyWith((v) => ({ ...v, baseStateHash: "ab".repeat(32) }));
  await assert.rejects(
    latestCheckpoint(store, unlinked),
    (e) =>
      e instanceof CheckpointError && /its delta applies to state abababababab/.test(e.message),
  );
});
