import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { comparable, runDot, tempDir } from "../testing/helpers.ts";
import { resumePointFromDirectory, resumePointFromStore } from "./resume.ts";
import { preparePipeline } from "../engine/prepare.ts";
import {
  latestCheckpoint,
  readRun,
  routeDecisions,
  scanRunRecords,
  stageTimeline,
} from "../query.ts";

const LINEAR = `digraph Linear {
  graph [goal="ship it"]
  start [shape=Mdiamond]
  exit [shape=Msquare]
  plan [prompt="Plan $goal"]
  build [prompt="Build", simulate.delay_ms=0]
  review [prompt="Review"]
  start -> plan -> build -> review -> exit
}`;

Deno.test("a persisted run writes its lifecycle, stages, routes and checkpoints as typed records", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const result = await runDot(LINEAR, dir.path, { store, persistence: "required" });
  assert.equal(result.status, "success");
  const [ctx] = result.contextIds;
  const kinds: string[] = [];
  for await (const e of scanRunRecords(store, ctx)) {
    kinds.unshift(`${e.typeId.split(".").pop()}:${e.value.kind ?? ""}`);
  }
  assert.deepEqual(kinds.slice(0, 3), [
    "dot_source:",
    "graph_snapshot:",
    "run_lifecycle:initialized",
  ]);
  assert.equal(kinds.at(-1), "run_lifecycle:finalized");
  assert.equal(kinds.filter((k) => k === "stage_lifecycle:started").length, 4);
  assert.equal(kinds.filter((k) => k === "checkpoint_saved:").length, 5);
  const info = await readRun(store, ctx);
  assert.equal(info?.status, "success");
  assert.equal(info?.graphId, "Linear");
  assert.equal(info?.currentNode, "exit");
  const timeline = await stageTimeline(store, ctx, { limit: 2 });
  assert.deepEqual(timeline.items.map((s) => s.nodeId), ["review", "build"]);
  assert.ok(
    timeline.items.every((s) =>
      s.state === "completed" && s.startedAt && s.durationMs !== undefined
    ),
  );
  const older = await stageTimeline(store, ctx, { limit: 10, before: timeline.nextCursor });
  assert.deepEqual(older.items.map((s) => s.nodeId), ["plan", "start"]);
  assert.equal(older.nextCursor, undefined);
  const routes = await routeDecisions(store, ctx);
  assert.deepEqual(
    routes.items.map((r) => `${r.nodeId}:${r.step}:${r.targetNode ?? ""}`).reverse(),
    [
      "start:weight:plan",
      "plan:weight:build",
      "build:weight:review",
      "review:weight:exit",
    ],
  );
});

Deno.test("a run cancelled mid-stage resumes from the store alone and from the directory alone, equal to an uninterrupted run", async () => {
  const slow = LINEAR.replace("simulate.delay_ms=0", "simulate.delay_ms=5000");
  await using full = await tempDir();
  const uninterrupted = await runDot(LINEAR, full.path);
  for (const from of ["store", "directory"] as const) {
    await using dir = await tempDir();
    await using store = new MemoryStore();
    const abort = new AbortController();
    const first = runDot(slow, dir.path, {
      store,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.kind === "stage_started" && e.name === "build") setTimeout(() => abort.abort(), 20);
      },
    });
    const cancelled = await first;
    assert.equal(cancelled.status, "cancelled");
    const point = from === "store"
      ? await resumePointFromStore(store, cancelled.contextIds[0])
      : await resumePointFromDirectory(dir.path, store);
    assert.equal(point.checkpoint.next_node, "build");
    const source = from === "store" ? point.dotSource! : slow;
    const { graph } = preparePipeline(
      source.replace("simulate.delay_ms=5000", "simulate.delay_ms=0"),
    );
    const resumed = await runDot(source, dir.path, {
      graph,
      store,
      resume: { checkpoint: point.checkpoint, contextId: point.contextId },
    });
    assert.deepEqual(comparable(resumed), comparable(uninterrupted), from);
    const stored = await latestCheckpoint(store, cancelled.contextIds[0]);
    assert.equal(stored?.checkpoint.final_status, "success");
  }
});
