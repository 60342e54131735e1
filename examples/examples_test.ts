// Every example pipeline validates and runs to its expected end in simulation.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { MemoryStore } from "@forge/turnstore";
import {
  assertRunnable,
  defaultHandlers,
  DurableInterviewer,
  preparePipeline,
  QueueInterviewer,
  runPipeline,
  type RunResult,
} from "@forge/attractor";

const DIR = resolve(import.meta.dirname!);

async function example(
  name: string,
  options: Partial<Parameters<typeof runPipeline>[0]> = {},
): Promise<RunResult> {
  const file = join(DIR, `${name}.dot`);
  const source = await Deno.readTextFile(file);
  const prepared = preparePipeline(source);
  assertRunnable(prepared);
  const logsRoot = await Deno.makeTempDir({ prefix: `example-${name}-` });
  await using store = new MemoryStore();
  try {
    return await runPipeline({
      graph: prepared.graph,
      dotSource: source,
      logsRoot,
      handlers: defaultHandlers(),
      dotFile: file,
      store,
      sleep: () => Promise.resolve(),
      ...options,
    });
  } finally {
    await Deno.remove(logsRoot, { recursive: true });
  }
}

Deno.test("examples/linear.dot runs start to exit", async () => {
  const r = await example("linear");
  assert.equal(r.status, "success");
  assert.deepEqual(r.completedNodes, ["start", "plan", "implement", "document"]);
});

Deno.test("examples/branching.dot takes the Yes edge when the tests pass", async () => {
  const r = await example("branching");
  assert.deepEqual(r.completedNodes, ["start", "plan", "implement", "validate", "gate"]);
});

Deno.test("examples/retry_goal_gate.dot retries, routes the FAIL back to plan, and exits once the gate holds", async () => {
  const r = await example("retry_goal_gate");
  assert.equal(r.status, "success");
  assert.deepEqual(r.completedNodes, ["start", "plan", "implement", "plan", "implement", "test"]);
  assert.equal(r.checkpoint?.node_retries.implement, 1);
});

Deno.test("examples/human_gate.dot: Fix then Approve; a durable interviewer makes it wait", async () => {
  const r = await example("human_gate", { interviewer: new QueueInterviewer(["F", "A"]) });
  assert.deepEqual(r.completedNodes, ["start", "draft", "review", "fix", "review", "ship"]);
  const waiting = await example("human_gate", { interviewer: new DurableInterviewer() });
  assert.equal(waiting.status, "waiting");
  assert.equal(waiting.waiting?.nodeId, "review");
});

Deno.test("examples/parallel.dot fans out to three reviewers and picks the highest score", async () => {
  const r = await example("parallel");
  assert.equal(r.status, "success");
  assert.equal(r.context["parallel.fan_in.best_id"], "performance");
  assert.deepEqual(r.completedNodes.slice(1, 4), ["security", "performance", "style"]);
});

Deno.test("examples/tools.dot runs shell stages with the attractor environment", async () => {
  const r = await example("tools");
  assert.equal(r.status, "success");
  assert.ok(Number(r.context.lines) > 50);
  assert.match(String(r.context["tool.output"]), /^stage check in /);
});

Deno.test("examples/manager_loop.dot supervises a real child pipeline", async () => {
  const r = await example("manager_loop");
  assert.equal(r.status, "success");
  assert.equal(r.context["stack.child.status"], "completed");
});

Deno.test("examples/loop_restart.dot restarts once and finishes", async () => {
  const r = await example("loop_restart");
  assert.equal(r.status, "success");
  assert.equal(r.checkpoint?.lineage_attempt, 2);
  assert.equal(r.contextIds.length, 2, "each attempt is its own context");
});
