/**
 * `forge runs` and `forge inspect` over real runs of the pipeline runner
 * (simulation backend) persisted to a Deno KV file.
 */
import assert from "node:assert/strict";
import { defaultHandlers, preparePipeline, runPipeline } from "@forge/attractor";
import { openStore } from "@forge/stores";
import type { ForgeStore } from "@forge/turnstore";
import { captureCli } from "./cli_fixture.ts";
import { listRunRows } from "./runs.ts";
import { readRunReport } from "./inspect.ts";

const LINEAR = await Deno.readTextFile(new URL("../../examples/linear.dot", import.meta.url));
const PARALLEL = await Deno.readTextFile(new URL("../../examples/parallel.dot", import.meta.url));
const RETRY = await Deno.readTextFile(
  new URL("../../examples/retry_goal_gate.dot", import.meta.url),
);
const FAILING = `digraph Failing {
  start [shape=Mdiamond]
  exit  [shape=Msquare]
  build [prompt="Build", simulate.outcomes="fail"]
  start -> build -> exit
}`;

async function run(store: ForgeStore, dir: string, source: string) {
  const { graph } = preparePipeline(source);
  return await runPipeline({
    graph,
    dotSource: source,
    logsRoot: `${dir}/${crypto.randomUUID()}`,
    handlers: defaultHandlers(),
    store,
    sleep: () => Promise.resolve(),
    random: () => 0.5,
  });
}

const cli = (url: string, args: string[]) => captureCli([...args, "--store", url]);

Deno.test("runs and inspect over four real runs on a KV file", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "forge-runs-" });
  const url = `kv:${dir}/runs.kv`;
  try {
    const results = [];
    {
      await using store = await openStore(url);
      for (const source of [LINEAR, PARALLEL, FAILING, RETRY]) {
        results.push(await run(store, dir, source));
      }
    }
    const [linear, parallel, failing, retry] = results;
    assert.deepEqual(results.map((r) => r.status), ["success", "success", "fail", "success"]);

    await t.step("listRunRows lists runs newest first, not their forked contexts", async () => {
      await using store = await openStore(url);
      const { runs, nextBeforeContextId } = await listRunRows(store);
      assert.deepEqual(
        runs.map((r) => r.runId),
        [retry, failing, parallel, linear].map((r) => r.runId),
      );
      assert.equal(nextBeforeContextId, undefined);
      assert.deepEqual(runs.map((r) => r.status), [
        "succeeded",
        "failed",
        "succeeded",
        "succeeded",
      ]);
      assert.deepEqual(runs.map((r) => r.pipeline), [
        "RetryGoalGate",
        "Failing",
        "Parallel",
        "Linear",
      ]);
      const byName = Object.fromEntries(runs.map((r) => [r.pipeline, r]));
      assert.equal(`${byName.Linear.stagesDone}/${byName.Linear.stagesTotal}`, "3/3");
      assert.equal(`${byName.Parallel.stagesDone}/${byName.Parallel.stagesTotal}`, "6/6");
      assert.equal(byName.Failing.stagesTotal, 1);
      assert.match(byName.Failing.failureReason ?? "", /build/);
      for (const r of runs) assert.ok(r.durationMs! >= 0 && r.startedAt! > 0);
    });

    await t.step("filters and pages", async () => {
      await using store = await openStore(url);
      const failed = await listRunRows(store, { status: "failed" });
      assert.deepEqual(failed.runs.map((r) => r.runId), [failing.runId]);
      const linearOnly = await listRunRows(store, { pipeline: "Linear" });
      assert.deepEqual(linearOnly.runs.map((r) => r.runId), [linear.runId]);
      const first = await listRunRows(store, { limit: 2 });
      assert.equal(first.runs.length, 2);
      const second = await listRunRows(store, {
        limit: 2,
        beforeContextId: first.nextBeforeContextId,
      });
      assert.deepEqual(
        [...first.runs, ...second.runs].map((r) => r.runId),
        [retry, failing, parallel, linear].map((r) => r.runId),
      );
    });

    await t.step("forge runs prints a table, --json a page, and refuses a bad status", async () => {
      const text = await cli(url, ["runs"]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^RUN\s+PIPELINE\s+STATUS\s+STARTED\s+DURATION\s+STAGES\s+TOKENS/);
      assert.match(text.out, /Failing\s+failed/);
      const json = JSON.parse((await cli(url, ["runs", "--json", "--status", "succeeded"])).out);
      assert.equal(json.runs.length, 3);
      const bad = await cli(url, ["runs", "--status", "done"]);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--status must be running, waiting, succeeded, failed or cancelled/);
    });

    await t.step("inspect: retries, routes and why, checkpoints, usage", async () => {
      await using store = await openStore(url);
      const report = await readRunReport(store, retry.contextIds.at(-1)!);
      assert.ok(report);
      const implement = report.stages.filter((s) => s.nodeId === "implement");
      assert.ok(implement.length >= 3, "implement failed, was retried, replanned and passed");
      assert.ok(implement.some((s) => s.status === "fail"));
      assert.equal(implement.at(-1)?.status, "success");
      assert.ok(report.routes.some((r) => r.nodeId === "implement" && r.targetNode === "plan"));
      assert.equal(report.checkpoints.at(-1)?.finalStatus, "success");
      const text = await cli(url, ["inspect", retry.runId]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^run .* · pipeline RetryGoalGate · succeeded/);
      assert.match(text.out, /implement → plan\s+by condition, condition outcome=fail/);
      // An attempt the runner retried says so, as trace's timeline does ("retry").
      assert.match(text.out, /\n\s+2 implement #1\s+fail, retried\s/);
      assert.match(text.out, /\n\s+2 implement #2\s+fail\s/, "the last try failed: replanned");
      assert.match(text.out, /checkpoints \(\d+\):/);
      assert.match(text.out, /usage:\n[\s\S]*total/);
      const json = JSON.parse((await cli(url, ["inspect", retry.runId, "--json"])).out);
      assert.equal(json.run.runId, retry.runId);
      // stageCount, the name stageIndex had before, stays as its deprecated alias (library and JSON).
      assert.equal(typeof json.run.stageIndex, "number");
      assert.equal(json.run.stageCount, json.run.stageIndex);
      assert.equal(typeof json.run.stagesDone, "number");
    });

    await t.step(
      "a stage is a node but the start and exit: runs and inspect count the same stages done, " +
        "branches included, retries and revisits not",
      async () => {
        await using store = await openStore(url);
        const rows = (await listRunRows(store)).runs;
        for (const result of [parallel, retry, linear]) {
          const row = rows.find((r) => r.runId === result.runId)!;
          const report = (await readRunReport(store, result.contextIds.at(-1)!))!;
          assert.deepEqual(
            [report.run.stagesDone, report.run.stagesTotal],
            [row.stagesDone, row.stagesTotal],
          );
          const text = await cli(url, ["inspect", result.runId]);
          assert.match(
            text.out,
            new RegExp(`· ${row.stagesDone} of ${row.stagesTotal} stages done ·`),
          );
        }
        // Parallel: six stages, two of them in branches, which the run's own
        // stage index does not count; RetryGoalGate: three stages, run six times.
        const parallelRow = rows.find((r) => r.runId === parallel.runId)!;
        assert.equal(`${parallelRow.stagesDone}/${parallelRow.stagesTotal}`, "6/6");
        const retryRow = rows.find((r) => r.runId === retry.runId)!;
        assert.equal(`${retryRow.stagesDone}/${retryRow.stagesTotal}`, "3/3");
      },
    );

    await t.step(
      "inspect errors: an unknown stage names the stages; a non-run context is refused",
      async () => {
        const stage = await cli(url, ["inspect", linear.runId, "--stage", "nope"]);
        assert.equal(stage.code, 2);
        assert.match(stage.err, /has no stage nope \(stages: start, plan, implement, document/);
        const none = await cli(url, ["inspect", "no-such-run"]);
        assert.equal(none.code, 2);
        const simulated = await cli(url, ["inspect", linear.runId, "--stage", "plan"]);
        assert.equal(simulated.code, 0);
        assert.match(simulated.out, /no agent session: this stage is not an agent stage/);
      },
    );

    await t.step(
      "sessions over a store of pipeline runs only: none is top-level, and it says where they are",
      async () => {
        const r = await cli(url, ["sessions"]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^no top-level agent sessions in kv:.*forge inspect <run>.*--stage/);
      },
    );

    await t.step("trace takes a run id", async () => {
      const trace = await cli(url, ["trace", parallel.runId]);
      assert.equal(trace.code, 0, trace.err);
      assert.match(trace.out, /^run .* \(Parallel\) \[run\]/);
      assert.equal(trace.out.match(/\[branch\]/g)?.length, 3);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a long run's checkpoints: inspect lists them, trace shows full states inflated as JSON and deltas as stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-runs-long-" });
  const url = `kv:${dir}/runs.kv`;
  try {
    const ids = Array.from({ length: 120 }, (_, i) => `s${i}`);
    const source = `digraph Long {\n start [shape=Mdiamond]\n exit [shape=Msquare]\n` +
      ` start -> ${ids.join(" -> ")} -> exit\n}`;
    let result;
    {
      await using store = await openStore(url);
      result = await run(store, dir, source);
    }
    assert.equal(result.status, "success");
    const inspect = await cli(url, ["inspect", result.runId, "--json"]);
    assert.equal(inspect.code, 0, inspect.err);
    const report = JSON.parse(inspect.out);
    assert.equal(report.checkpoints.length, 122);
    assert.ok(report.checkpoints.every((c: Record<string, unknown>) => !("stateBytes" in c)));

    const trace = await cli(url, ["trace", result.runId, "--json"]);
    assert.equal(trace.code, 0, trace.err);
    const turns = JSON.parse(trace.out).contexts[0].turns as {
      typeId: string;
      typeVersion: number;
      fields: Record<string, unknown>;
    }[];
    const checkpoints = turns.filter((t) => t.typeId === "forge.attractor.checkpoint_saved");
    assert.ok(checkpoints.every((t) => t.typeVersion === 5));
    const small = checkpoints[0].fields;
    assert.equal(small.stateEncoding, "json");
    // Past the text limit: deltas, and a full state (deflated) every so often.
    const deflated = checkpoints.filter((t) => t.fields.stateEncoding === "deflate_raw");
    assert.ok(deflated.length >= 2, `${deflated.length} full deflated states`);
    const last = deflated.at(-1)!.fields;
    assert.match(String(last.stateBytes), /^\d+ bytes of deflate_raw, inflated into state/);
    const state = JSON.parse(String(last.state));
    assert.deepEqual(
      state.completed_nodes,
      result.completedNodes.slice(0, last.completedCount as number),
    );
    const deltas = checkpoints.filter((t) => t.fields.stateDelta !== undefined);
    assert.ok(deltas.length > 40, `${deltas.length} deltas`);
    const added = deltas.map((t) => JSON.parse(String(t.fields.stateDelta)).append);
    assert.ok(
      added.some((a) => a.completed_nodes?.add?.length === 1),
      "a delta shows what the stage added, as stored",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
