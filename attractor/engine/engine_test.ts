import assert from "node:assert/strict";
import { join } from "node:path";
import { preparePipeline } from "./prepare.ts";
import { runPipeline } from "./run.ts";
import { defaultHandlers } from "../handlers/mod.ts";

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
