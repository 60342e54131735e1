import assert from "node:assert/strict";
import { join } from "node:path";
import { preparePipeline } from "./prepare.ts";
import { parseDot } from "../graph/parser.ts";
import { GraphValidationError } from "../graph/errors.ts";
import { runPipeline } from "./run.ts";
import { defaultHandlers } from "../handlers/mod.ts";
import { MemoryStore } from "@forge/turnstore";

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "attractor-engine-" });
}

Deno.test("a linear pipeline runs start to exit in simulation and writes its run directory", async () => {
  const dir = await tmp();
  const source = `digraph Simple {
    graph [goal="Run tests and report"]
    start [shape=Mdiamond]
    exit  [shape=Msquare]
    run_tests [label="Run Tests", prompt="Run the test suite for $goal"]
    report    [label="Report", prompt="Summarize"]
    start -> run_tests -> report -> exit
  }`;
  const { graph } = preparePipeline(source);
  const result = await runPipeline({
    graph,
    dotSource: source,
    logsRoot: dir,
    handlers: defaultHandlers(),
  });
  assert.equal(result.status, "success");
  assert.deepEqual(result.completedNodes, ["start", "run_tests", "report"]);
  const prompt = await Deno.readTextFile(join(dir, "run_tests", "prompt.md"));
  assert.match(prompt, /Run the test suite for Run tests and report/);
  assert.equal(
    await Deno.readTextFile(join(dir, "report", "response.md")),
    "[Simulated] Response for stage: report",
  );
  const status = JSON.parse(await Deno.readTextFile(join(dir, "report", "status.json")));
  assert.equal(status.outcome, "success");
  const checkpoint = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
  assert.equal(checkpoint.current_node, "exit");
  assert.deepEqual(checkpoint.completed_nodes, ["start", "run_tests", "report"]);
  assert.equal(checkpoint.context["graph.goal"], "Run tests and report");
  const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  assert.equal(manifest.name, "Simple");
  assert.equal(manifest.run_id, result.runId);
});

Deno.test("checkpoint.json is indented while its compact JSON is under 64 KiB, compact from there, with or without a store", async () => {
  const limit = 64 * 1024;
  /** Runs a two-stage pipeline whose goal is `goalLength` characters; checkpoint.json's text. */
  async function checkpointText(goalLength: number, persisted: boolean): Promise<string> {
    const dir = await tmp();
    try {
      const goal = "g".repeat(goalLength);
      const source = `digraph Sized {
        graph [goal="${goal}"]
        start [shape=Mdiamond]
        exit  [shape=Msquare]
        work  [prompt="work"]
        start -> work -> exit
      }`;
      await using store = new MemoryStore();
      const result = await runPipeline({
        graph: preparePipeline(source).graph,
        dotSource: source,
        logsRoot: dir,
        handlers: defaultHandlers(),
        ...(persisted ? { store, persistence: "required" as const } : {}),
      });
      assert.equal(result.status, "success");
      const text = await Deno.readTextFile(join(dir, "checkpoint.json"));
      assert.equal(JSON.parse(text).context["graph.goal"], goal);
      return text;
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const indented = (text: string) => text.includes("\n  ");
  for (const persisted of [false, true]) {
    const small = await checkpointText(10, persisted);
    assert.ok(indented(small), "a small checkpoint is indented");
    // The compact text a few bytes under the limit while the indented one is over it: indented.
    const compactSize = (text: string) => JSON.stringify(JSON.parse(text)).length;
    const base = compactSize(await checkpointText(60_000, persisted));
    const near = await checkpointText(60_000 + (limit - base) - 16, persisted);
    assert.ok(compactSize(near) < limit && near.length >= limit, "the boundary case is reached");
    assert.ok(indented(near), "under the limit compact, over it indented: indented");
    const large = await checkpointText(70_000, persisted);
    assert.ok(!indented(large) && compactSize(large) >= limit, "a large checkpoint is compact");
  }
});

Deno.test("the engine refuses a graph with lint errors however it was built, before running or writing anything", async () => {
  const dir = await tmp();
  try {
    const cases = {
      "no exit": `digraph G { start [shape=Mdiamond]; a [prompt=x]; start -> a }`,
      "no start": `digraph G { exit [shape=Msquare]; a [prompt=x]; a -> exit }`,
      "bad condition":
        `digraph G { start [shape=Mdiamond]; exit [shape=Msquare]; start -> exit [condition="a==b"] }`,
    };
    for (const [name, source] of Object.entries(cases)) {
      const logsRoot = join(dir, name);
      await assert.rejects(
        runPipeline({
          graph: parseDot(source),
          dotSource: source,
          logsRoot,
          handlers: defaultHandlers(),
        }),
        (e: unknown) => e instanceof GraphValidationError && e.code === "graph_invalid",
        name,
      );
      await assert.rejects(Deno.stat(logsRoot), Deno.errors.NotFound, `${name}: nothing written`);
    }
    // A prepared graph's diagnostics are reused, custom rules' errors included.
    const source = `digraph G { start [shape=Mdiamond]; exit [shape=Msquare]; start -> exit }`;
    const prepared = preparePipeline(source, {
      rules: [{
        name: "house_rule",
        apply: () => [{ rule: "house_rule", severity: "error", message: "not on Fridays" }],
      }],
    });
    await assert.rejects(
      runPipeline({
        graph: prepared.graph,
        dotSource: source,
        logsRoot: join(dir, "custom"),
        handlers: defaultHandlers(),
      }),
      /not on Fridays/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
