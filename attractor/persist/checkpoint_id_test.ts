import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { LINEAR, runDot, tempDir } from "../testing/helpers.ts";
import { isCheckpointRecord, scanRunRecords } from "../query.ts";
import { nextCheckpointId } from "../engine/checkpoint.ts";
import { DurableInterviewer } from "../interview/durable.ts";
import { resumePointFromStore } from "./resume.ts";
import type { ForgeStore } from "@forge/turnstore";

/** Every checkpoint id of a context, oldest first. */
async function checkpointIds(store: ForgeStore, contextId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of scanRunRecords(store, contextId)) {
    if (isCheckpointRecord(e)) ids.unshift(String(e.value.checkpointId));
  }
  return ids;
}

const GATED = `digraph Gated {
  start [shape=Mdiamond]
  exit [shape=Msquare]
  plan [prompt="Plan"]
  gate [type="wait.human", label="Ship?"]
  start -> plan -> gate
  gate -> exit [label="[Y] Yes"]
  gate -> plan [label="[N] No"]
}`;

Deno.test("checkpoint ids: one per stage index, and a further checkpoint at the same index gets the next .n", () => {
  assert.equal(nextCheckpointId("r", 1, 7), "r:1:7");
  assert.equal(nextCheckpointId("r", 1, 7, "r:1:6"), "r:1:7");
  assert.equal(nextCheckpointId("r", 1, 7, "r:1:7"), "r:1:7.1");
  assert.equal(nextCheckpointId("r", 1, 7, "r:1:7.1"), "r:1:7.2");
  assert.equal(nextCheckpointId("r", 1, 7, "r:1:70"), "r:1:7", "another index is no repeat");
  assert.equal(nextCheckpointId("r", 2, 7, "r:1:7"), "r:2:7", "another attempt is no repeat");
});

Deno.test("the final checkpoint after the exit gets an id of its own, not the last stage's", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const result = await runDot(LINEAR, dir.path, { store, runId: "lin" });
  assert.equal(result.status, "success");
  const ids = await checkpointIds(store, result.contextIds[0]);
  assert.deepEqual(ids, ["lin:1:1", "lin:1:2", "lin:1:3", "lin:1:4", "lin:1:4.1"]);
});

Deno.test("waiting at a gate, waiting again after an unanswered resume, then answered: every checkpoint id is new", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const first = await runDot(GATED, dir.path, {
    store,
    runId: "g",
    interviewer: new DurableInterviewer(),
  });
  assert.equal(first.status, "waiting");
  const contextId = first.contextIds[0];
  const resumeWith = async (interviewer: DurableInterviewer) => {
    const point = await resumePointFromStore(store, contextId);
    return runDot(GATED, dir.path, {
      store,
      interviewer,
      resume: { checkpoint: point.checkpoint, contextId, chain: point.chain },
    });
  };
  assert.equal((await resumeWith(new DurableInterviewer())).status, "waiting");
  const done = await resumeWith(new DurableInterviewer(new Map([["gate", "[Y] Yes"]])));
  assert.equal(done.status, "success");
  const ids = await checkpointIds(store, contextId);
  assert.deepEqual(ids, ["g:1:1", "g:1:2", "g:1:2.1", "g:1:2.2", "g:1:3", "g:1:3.1"]);
  assert.equal(new Set(ids).size, ids.length);
});
