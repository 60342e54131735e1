/**
 * A pipeline run persisting to a CXDB server that restarts in the middle of
 * the run, in modes `required` and `best_effort`, as attractor/README.md
 * documents it: a restart the retry policy covers is invisible (the run
 * succeeds, every record stored once, in order); a server that stays down
 * fails a `required` run with a PersistenceError naming the record, leaves a
 * consistent checkpoint, and the run resumes from the store once the server is
 * back; in `best_effort` the run warns and goes on. Nothing is stored twice.
 * A stage handler of the pipeline stops (and restarts) the in-repo peer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CxdbPeer, startPeer } from "../cxdb/testing/peer.ts";
import { openCxdbStore } from "../cxdb/store/store.ts";
import { recordWrites, storedWriteNumbers } from "./write_numbers.ts";
import {
  defaultHandlers,
  type Handler,
  type HandlerInput,
  PersistenceError,
  type PipelineEvent,
  preparePipeline,
  resumePointFromStore,
  runPipeline,
} from "../attractor/mod.ts";
import { readCheckpointFile } from "../attractor/runner.ts";
import { attractorCatalog } from "../attractor/records.ts";

const PIPELINE = `digraph Restart {
  graph [goal="survive a restart"]
  start  [shape=Mdiamond]
  exit   [shape=Msquare]
  plan   [prompt="plan"]
  outage [type="outage", label="outage"]
  build  [prompt="build"]
  back   [type="back", label="back"]
  review [prompt="review"]
  start -> plan -> outage -> build -> back -> review -> exit
}`;

const ORDER = ["start", "plan", "outage", "build", "back", "review"];

/** The turns the server stored for a context, as the numbers of the writes that made them. */
const stored = (url: string, contextId: string, number: Map<string, number>) =>
  storedWriteNumbers(url, contextId, number, attractorCatalog);

type Hook = (input: HandlerInput) => Promise<void>;

/** Handlers with `outage` and `back` stages running the given hooks. */
function handlersWith(outage: Hook, back: Hook = async () => {}) {
  const hook = (fn: Hook): Handler => ({
    async execute(input) {
      await fn(input);
      return { status: "success", notes: "hook ran" };
    },
  });
  return defaultHandlers().register("outage", hook(outage)).register("back", hook(back));
}

/** Stops the server once every record queued before this stage is stored. */
const stopAfterQueued = (peer: CxdbPeer): Hook => async (input) => {
  await input.recorder.settle();
  await peer.stop();
};

function prepared() {
  return preparePipeline(PIPELINE, { knownTypes: ["outage", "back"] }).graph;
}

/**
 * A peer, a CXDB store on it that numbers every write, and a run directory;
 * disposed in reverse (the store closed, the directory removed, the peer
 * stopped).
 */
async function pipelineFixture(prefix: string, query = "") {
  const logs = await Deno.makeTempDir({ prefix });
  const peer = await startPeer();
  const raw = await openCxdbStore(`${peer.url}${query}`);
  const { store, number } = recordWrites(raw);
  return {
    logs,
    peer,
    raw,
    store,
    number,
    async [Symbol.asyncDispose]() {
      await raw.close();
      await Deno.remove(logs, { recursive: true });
      await peer[Symbol.asyncDispose]();
    },
  };
}

for (const mode of ["required", "best_effort"] as const) {
  Deno.test(`pipeline, persistence ${mode}: a CXDB restart inside the retry policy is invisible, every record stored once, in order`, async () => {
    await using fixture = await pipelineFixture("cxdb-restart-pipeline-");
    const { logs, peer, raw, store, number } = fixture;
    const warnings: string[] = [];
    const result = await runPipeline({
      graph: prepared(),
      dotSource: PIPELINE,
      logsRoot: logs,
      runId: "restart",
      handlers: handlersWith(async () => {
        await peer.stop();
        setTimeout(() => peer.start(), 250);
      }),
      store,
      persistence: mode,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(result.status, "success", result.failureReason);
    assert.deepEqual(result.completedNodes, ORDER);
    assert.deepEqual(warnings, [], "no warning");
    assert.equal(result.contextIds.length, 1);
    const sequence = await stored(peer.url, result.contextIds[0], number);
    assert.deepEqual(sequence, sequence.map((_, i) => i + 1), "every record once, in order");
    assert.equal(sequence.length, number.size, "every write was stored");
    // sources (2) + initialized + per stage (started, completed, route, checkpoint) + finalized
    assert.ok(sequence.length >= 3 + 4 * ORDER.length, `${sequence.length} records`);
    const point = await resumePointFromStore(raw, result.contextIds[0]);
    assert.equal(point.checkpoint.final_status, "success");
  });
}

Deno.test("pipeline, persistence required: a CXDB server that stays down fails the run with a PersistenceError naming the record; the checkpoint stays consistent and the run resumes from the store once the server is back", async () => {
  await using fixture = await pipelineFixture("cxdb-down-pipeline-", "&attempts=2&timeoutMs=2000");
  const { logs, peer, raw, store, number } = fixture;
  const events: PipelineEvent[] = [];
  const error = await runPipeline({
    graph: prepared(),
    dotSource: PIPELINE,
    logsRoot: logs,
    runId: "down",
    handlers: handlersWith(stopAfterQueued(peer)),
    store,
    persistence: "required",
    onEvent: (e) => events.push(e),
  }).then((r) => r, (e) => e);
  assert.ok(error instanceof PersistenceError, `a PersistenceError, got ${String(error)}`);
  assert.equal(error.code, "Persistence");
  // Writes are pipelined: the first one that failed names itself (a record
  // of the outage stage or after it: all before were stored), and the run
  // stops at its next checkpoint, or at its end before the final one.
  assert.match(
    error.event,
    /^[a-z_]+( of stage (outage|build|back|review|exit) \(attempt \d\))?$/,
  );
  assert.doesNotMatch(error.event, /^(dot_source|graph_snapshot|run_initialized)$/);
  assert.ok(
    error.message.startsWith(`persisting ${error.event} of run down#1 failed: `),
    error.message,
  );
  assert.match(error.message, /cannot connect to CXDB/);
  const failed = events.filter((e) => e.kind === "pipeline_failed");
  assert.equal(failed.length, 1, "the run ended failed");
  assert.ok(!events.some((e) => e.kind === "pipeline_completed"));

  // The checkpoint on disk is a consistent one taken before the failure
  // surfaced: a prefix of the run, not final, naming where to go on.
  const onDisk = await readCheckpointFile(logs);
  const done = onDisk.completed_nodes;
  const next = (n: number) => n === ORDER.length ? "exit" : ORDER[n];
  assert.ok(done.length >= 2, done.join(","));
  assert.ok(done.includes("plan"));
  assert.deepEqual(done, ORDER.slice(0, done.length));
  assert.equal(onDisk.next_node, next(done.length));
  assert.equal(onDisk.final_status, undefined);

  // The server comes back: what was stored is one unbroken run, its latest
  // checkpoint the same as the file's, and the run resumes from the store.
  peer.start();
  const manifest = JSON.parse(await Deno.readTextFile(join(logs, "manifest.json")));
  const contextId: string = manifest.context_id;
  const before = await stored(peer.url, contextId, number);
  assert.deepEqual(before, before.map((_, i) => i + 1), "what was stored is one unbroken run");
  const point = await resumePointFromStore(raw, contextId);
  const inStore = point.checkpoint.completed_nodes;
  assert.ok(inStore.length <= done.length, "the store is not ahead of the file");
  assert.ok(inStore.includes("plan"), "everything before the outage was stored");
  assert.deepEqual(inStore, ORDER.slice(0, inStore.length));
  assert.equal(point.checkpoint.next_node, next(inStore.length));

  const resumed = await runPipeline({
    graph: prepared(),
    dotSource: point.dotSource!,
    logsRoot: logs,
    handlers: handlersWith(async () => {}),
    store,
    persistence: "required",
    resume: { checkpoint: point.checkpoint, contextId },
  });
  assert.equal(resumed.status, "success", resumed.failureReason);
  assert.equal(resumed.runId, "down");
  assert.deepEqual(resumed.completedNodes, ORDER);
  assert.deepEqual(resumed.contextIds, [contextId], "the same context continues");
  const after = await stored(peer.url, contextId, number);
  assert.deepEqual(after.slice(0, before.length), before);
  assert.equal(new Set(after).size, after.length, "nothing stored twice");
  assert.deepEqual(after, [...after].sort((a, b) => a - b), "in call order");
  assert.equal((await resumePointFromStore(raw, contextId)).checkpoint.final_status, "success");
});

Deno.test("pipeline, persistence best_effort: a CXDB server down for a while gives warnings, the run goes on and succeeds, and nothing is stored twice", async () => {
  await using fixture = await pipelineFixture("cxdb-down-pipeline-", "&attempts=2&timeoutMs=2000");
  const { logs, peer, raw, store, number } = fixture;
  const warnings: string[] = [];
  const result = await runPipeline({
    graph: prepared(),
    dotSource: PIPELINE,
    logsRoot: logs,
    runId: "flaky",
    // `back` brings the server back once a write has been given up on.
    handlers: handlersWith(stopAfterQueued(peer), async () => {
      for (let i = 0; i < 400 && warnings.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      peer.start();
    }),
    store,
    persistence: "best_effort",
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(result.status, "success", "the run went on");
  assert.deepEqual(result.completedNodes, ORDER);
  assert.ok(warnings.length > 0, "the lost writes were reported");
  assert.ok(
    warnings.every((w) => /^persisting \S+( of stage \S+ \(attempt \d+\))? of run flaky#1/.test(w)),
    warnings.join("\n"),
  );
  const sequence = await stored(peer.url, result.contextIds[0], number);
  assert.equal(new Set(sequence).size, sequence.length, "nothing stored twice");
  assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), "in call order");
  assert.ok(
    sequence.at(-1)! > sequence.length,
    "some records were lost while the server was down",
  );
  // What was stored after the server came back chains on: the run's end is
  // in the store, and the store alone says the run succeeded.
  assert.equal(
    (await resumePointFromStore(raw, result.contextIds[0])).checkpoint.final_status,
    "success",
  );
  assert.deepEqual((await readCheckpointFile(logs)).completed_nodes, ORDER);
});
