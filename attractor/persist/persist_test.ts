import assert from "node:assert/strict";
import { BackendError, MemoryStore } from "@forge/turnstore";
import {
  comparable,
  LINEAR,
  LINEAR_SLOW_BUILD,
  runCancelledAtBuild,
  runDot,
  tempDir,
} from "../testing/helpers.ts";
import { resumePointFromDirectory, resumePointFromStore } from "./resume.ts";
import { preparePipeline } from "../engine/prepare.ts";
import {
  latestCheckpoint,
  readRun,
  routeDecisions,
  scanRunRecords,
  stageTimeline,
} from "../query.ts";

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
  await using full = await tempDir();
  const uninterrupted = await runDot(LINEAR, full.path);
  for (const from of ["store", "directory"] as const) {
    await using dir = await tempDir();
    await using store = new MemoryStore();
    const cancelled = await runCancelledAtBuild(dir.path, store);
    assert.equal(cancelled.status, "cancelled");
    const point = from === "store"
      ? await resumePointFromStore(store, cancelled.contextIds[0])
      : await resumePointFromDirectory(dir.path, store);
    assert.equal(point.checkpoint.next_node, "build");
    const source = from === "store" ? point.dotSource! : LINEAR_SLOW_BUILD;
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

Deno.test("--resume DIR: a checkpoint.json edited by hand wins over the store's, and the resume records that it did", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const gate =
    `digraph G { start [shape=Mdiamond]\n exit [shape=Msquare]\n a; b\n start -> a -> b -> exit }`;
  const abort = new AbortController();
  const first = await runDot(gate.replace("a; b", "a; b [simulate.delay_ms=5000]"), dir.path, {
    store,
    signal: abort.signal,
    onEvent: (e) => e.kind === "stage_started" && e.name === "b" && abort.abort(),
  });
  assert.equal(first.status, "cancelled");
  const path = `${dir.path}/checkpoint.json`;
  const edited = JSON.parse(await Deno.readTextFile(path));
  edited.context["context.approved"] = "by hand";
  await Deno.writeTextFile(path, JSON.stringify(edited));
  const point = await resumePointFromDirectory(dir.path, store);
  assert.match(
    point.note!,
    /checkpoint\.json differs from the store's latest checkpoint .*the file wins/,
  );
  const resumed = await runDot(gate, dir.path, {
    store,
    resume: { checkpoint: point.checkpoint, contextId: point.contextId, note: point.note },
  });
  assert.equal(resumed.context["context.approved"], "by hand");
  const kinds: string[] = [];
  for await (const e of scanRunRecords(store, first.contextIds[0])) {
    if (e.typeId === "forge.attractor.run_lifecycle" && e.value.kind === "resumed") {
      kinds.push(String(e.value.reason));
    }
  }
  assert.equal(kinds.length, 1);
  assert.match(kinds[0], /the file wins/);
});

/** A memory store whose appends fail once `failAfter` have succeeded. */
class FailingStore extends MemoryStore {
  appends = 0;
  constructor(readonly failAfter: number) {
    super();
  }
  override appendTurn(input: Parameters<MemoryStore["appendTurn"]>[0]) {
    if (++this.appends > this.failAfter) {
      return Promise.reject(new BackendError(`injected failure of append #${this.appends}`));
    }
    return super.appendTurn(input);
  }
}

Deno.test("persistence required: a write that cannot be stored stops the run; best_effort warns and finishes", async () => {
  await using dir = await tempDir();
  const required = new FailingStore(5);
  await assert.rejects(
    runDot(LINEAR, `${dir.path}/a`, { store: required, persistence: "required" }),
    (error: Error & { code?: string }) => error.code === "Persistence",
  );
  const warnings: string[] = [];
  const lenient = new FailingStore(5);
  const result = await runDot(LINEAR, `${dir.path}/b`, {
    store: lenient,
    persistence: "best_effort",
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(result.status, "success");
  assert.ok(warnings.length > 0);
  assert.match(warnings[0], /injected failure/);
  await required.close();
  await lenient.close();
});
