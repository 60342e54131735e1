// The attractor spec's definition of done and the project reference
// (/work/shared/reference/attractor.md), checked from outside: the real
// `forge` command runs the pipelines under pipelines/ in simulation, and the
// tests read only what users read — exit codes, output, the run directory,
// and what `forge log` / `forge inspect` print from the store.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertExit,
  checkpointOf,
  exists,
  finished,
  scratch,
  spawnForge,
  waitForFile,
} from "./harness.ts";

const SIM = ["--simulate", "--quiet"];

Deno.test("edge selection takes the spec's five steps in order: condition, preferred label, suggested ids, weight, lexical", async () => {
  await using s = await scratch("routing");
  const r = await s.forge("run", "routing.dot", ...SIM, "--store", "memory:", "--run-id", "r");
  assertExit(r, 0, "run");
  assert.equal(r.out, "", "--quiet prints nothing on success");
  const c = await checkpointOf(s, "r");
  assert.deepEqual(c.completed_nodes, [
    "start",
    "cond",
    "label",
    "suggest",
    "weigh",
    "lex",
    "aa",
    "clauses",
  ]);
  assert.equal(c.final_status, "success");
  assert.equal(c.current_node, "exit", "the last checkpoint is written at the exit node");
  assert.equal(c.context["flag"], "yes");
  assert.equal(c.context["preferred_label"], "ship", "the latest stage's preferred label");
});

Deno.test("retries: RETRY and FAIL are retried while retries are left, after the policy's backoff with jitter; a failed goal gate jumps to its retry_target and is re-checked; exhausted RETRY with allow_partial is PARTIAL_SUCCESS", async () => {
  await using s = await scratch("retries");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const r = await s.forge("run", "retries.dot", ...SIM, ...store, "--run-id", "r");
  assertExit(r, 0, "run");
  // The backoff each retry waited, as the store recorded it: initial × factor^(n−1) × [0.5, 1.5].
  const inspect = await s.forge("inspect", "r", "--json", ...store);
  assertExit(inspect, 0, "inspect");
  const delays = (JSON.parse(inspect.out).stages as { nodeId: string; delayMs?: number }[])
    .filter((st) => st.delayMs !== undefined).map((st) => [st.nodeId, st.delayMs!] as const);
  assert.deepEqual(delays.map(([n]) => n), ["flaky", "flaky", "polish"]);
  for (const [node, ms] of delays) {
    // flaky: retry_policy=linear (500 ms, factor 1); polish: the default (200 ms, factor 2).
    const [low, high] = node === "flaky" ? [250, 750] : [100, 300];
    assert.ok(ms >= low && ms <= high, `${node} waited ${ms} ms, outside [${low}, ${high}]`);
  }
  const c = await checkpointOf(s, "r");
  assert.deepEqual(c.completed_nodes, [
    "start",
    "plan",
    "flaky",
    "impl",
    "plan",
    "flaky",
    "impl",
    "polish",
  ]);
  assert.equal(c.node_retries["flaky"], 2, "fail, then retry, then success");
  assert.equal(c.node_outcomes["impl"].status, "success", "the gate's latest outcome counts");
  assert.equal(c.node_outcomes["polish"].status, "partial_success");
  assert.equal(c.final_status, "success");
});

Deno.test("a FAIL with no fail route ends the run (exit 1) with the stage's reason on stderr even with --quiet, never falling through the unconditional edge", async () => {
  await using s = await scratch("failures");
  const r = await s.forge("run", "failures.dot", ...SIM, "--store", "memory:", "--run-id", "f");
  assertExit(r, 1, "run");
  assert.match(r.err, /run f failed: .*boom/);
  const c = await checkpointOf(s, "f");
  assert.deepEqual(c.completed_nodes, ["start", "ok", "boom"]);
  assert.equal(c.final_status, "fail");
  assert.match(c.failure_reason ?? "", /boom/);
  assert.equal(c.node_outcomes["boom"].status, "fail");
  assert.ok(!(await exists(s, ".forge/runs/f/after")), "the next stage never ran");
});

Deno.test("an unsatisfied goal gate with no retry target fails the run naming the gate; a loop past max_visits fails naming the node", async () => {
  await using s = await scratch("gates");
  const [gate, loop] = await Promise.all([
    s.forge("run", "goal_gate_unsatisfied.dot", ...SIM, "--store", "memory:", "--run-id", "g"),
    s.forge("run", "bounded_loop.dot", ...SIM, "--store", "memory:", "--run-id", "l"),
  ]);
  assertExit(gate, 1, "goal gate");
  assert.match(gate.err, /goal gate gate is unsatisfied/);
  assert.equal((await checkpointOf(s, "g")).final_status, "fail");
  assertExit(loop, 1, "bounded loop");
  assert.match(loop.err, /node work exceeded max_visits=3/);
  const l = await checkpointOf(s, "l");
  assert.equal(l.node_visits?.["work"], 3);
});

Deno.test("parallel fan-out and fan-in, tool stages, the stylesheet's model overrides and $goal, as the run directory and the store show them", async () => {
  await using s = await scratch("fanout");
  const store = `kv:${join(s.dir, "store.kv")}`;
  const r = await s.forge("run", "fanout.dot", ...SIM, "--store", store, "--run-id", "p");
  assertExit(r, 0, "run");
  const dir = ".forge/runs/p";
  const c = await checkpointOf(s, "p");
  assert.equal(c.final_status, "success");
  for (const n of ["quick", "deep", "pinned", "fan", "join", "env", "status", "auto"]) {
    assert.ok(c.completed_nodes.includes(n), `${n} completed`);
  }
  // Branch results reach the fan-in; the best by status and score wins.
  assert.equal(c.context["parallel.branch.quick.status"], "success");
  assert.equal(c.context["parallel.branch.pinned.status"], "fail");
  assert.equal(c.context["parallel.fail_count"], 1);
  const results = c.context["parallel.results"] as { id: string; status: string }[];
  assert.deepEqual(results.map((b) => b.id).sort(), ["deep", "pinned", "quick"]);
  assert.equal(c.context["parallel.fan_in.best_id"], "deep");
  // $goal is expanded in the prompt the stage got.
  assert.match(
    await Deno.readTextFile(join(s.dir, dir, "plan", "prompt.md")),
    /Plan for: review the change/,
  );
  assert.ok(await exists(s, `${dir}/plan/response.md`));
  assert.equal((await s.json(`${dir}/plan/status.json`)).outcome, "success");
  // Tool stages: the environment, their output, a status.json they write, auto_status.
  const envOut = await Deno.readTextFile(join(s.dir, dir, "env", "tool_output.txt"));
  assert.match(envOut, /node=env/);
  assert.match(envOut, /dirs-ok/);
  assert.equal(c.context["counted"], "7", "the tool's status.json context_updates applied");
  assert.equal(c.node_outcomes["status"].notes, "counted by hand");
  assert.equal(c.node_outcomes["auto"].status, "success");
  assert.match(c.node_outcomes["auto"].notes ?? "", /auto/i, "auto_status says so in the notes");
  // The graph snapshot the run recorded carries each node's resolved model.
  const manifest = await s.json(`${dir}/manifest.json`);
  const log = await s.forge(
    "log",
    String(manifest.context_id),
    "--all",
    "--json",
    "--store",
    store,
  );
  assertExit(log, 0, "log");
  const snapshot = log.out.trim().split("\n").map((l) => JSON.parse(l))
    .find((t) => String(t.type).startsWith("forge.attractor.graph_snapshot"));
  assert.ok(snapshot, "a graph snapshot record");
  const models = Object.fromEntries(
    (JSON.parse(snapshot.data.graph).nodes as { id: string; llmModel?: string }[])
      .map((n) => [n.id, n.llmModel]),
  );
  assert.equal(models.env, "base-model", "* applies to every node");
  assert.equal(models.plan, "box-model", "a shape selector beats *");
  assert.equal(models.quick, "fast-model", ".class beats *");
  assert.equal(models.deep, "deep-model", "#id beats .class");
  assert.equal(models.pinned, "pinned-model", "an explicit attribute beats the stylesheet");
});

Deno.test("loop_restart starts a new attempt at the edge's target with a fresh attempt-N/ folder; only graph.* keys survive", async () => {
  await using s = await scratch("restart");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const r = await s.forge("run", "restart.dot", ...SIM, ...store, "--run-id", "r");
  assertExit(r, 0, "run");
  // forge runs lists the run once, by its latest attempt; the restarted one is not left "running".
  const runs = await s.forge("runs", "--json", ...store);
  assertExit(runs, 0, "runs");
  const rows = JSON.parse(runs.out).runs as { runId: string; status: string }[];
  assert.deepEqual(rows.map((row) => [row.runId, row.status]), [["r", "succeeded"]]);
  const c = await checkpointOf(s, "r");
  assert.equal(c.final_status, "success");
  assert.deepEqual(c.completed_nodes, ["work"], "attempt 2 starts at work");
  assert.equal(c.context["scratch"], undefined, "attempt 1's context is gone");
  assert.equal(c.context["graph.goal"], "restart once");
  assert.ok(await exists(s, ".forge/runs/r/mark/prompt.md"), "attempt 1 in the run directory");
  assert.ok(await exists(s, ".forge/runs/r/attempt-2/work/prompt.md"), "attempt 2 in attempt-2/");
  const manifest = await s.json(".forge/runs/r/manifest.json");
  assert.deepEqual((manifest.attempts as { logs: string }[]).map((a) => a.logs), [
    ".",
    "attempt-2",
  ]);
});

Deno.test("a human gate answered through the command line: exit 3 with the question, a wrong choice is a usage error, each answer continues the run", async () => {
  await using s = await scratch("human");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const waiting = await s.forge("run", "human.dot", "--simulate", ...store, "--run-id", "h");
  assertExit(waiting, 3, "run");
  assert.match(waiting.out, /waiting at review: Ship it\?/);
  assert.match(waiting.out, /\[A\] Approve/);
  assert.match(waiting.out, /forge answer h <choice>/);
  assert.equal((await checkpointOf(s, "h")).waiting_on, "review");
  assert.ok(await exists(s, ".forge/runs/h/review/question.json"));

  const wrong = await s.forge("answer", "h", "maybe", "--simulate", "--quiet", ...store);
  assertExit(wrong, 2, "a choice that names no option");
  assert.match(wrong.err, /"maybe" is not an option of review/);
  assert.equal((await checkpointOf(s, "h")).waiting_on, "review", "nothing changed");

  const fix = await s.forge("answer", "h", "F", "--simulate", "--quiet", ...store);
  assertExit(fix, 3, "fix goes round to the gate again");
  const ship = await s.forge("answer", "h", "approve", "--simulate", "--quiet", ...store);
  assertExit(ship, 0, "approve");
  const c = await checkpointOf(s, "h");
  assert.equal(c.final_status, "success");
  assert.deepEqual(c.completed_nodes.filter((n) => n !== "start"), [
    "draft",
    "review",
    "fix",
    "review",
    "ship",
  ]);
  assert.equal(c.context["human.gate.selected"], "A");
  assert.equal((await s.json(".forge/runs/h/review/answer.json")).to, "ship");
  const again = await s.forge("answer", "h", "A", "--simulate", "--quiet", ...store);
  assertExit(again, 2, "a finished run waits on nothing");
  assert.match(again.err, /not waiting on a human gate/);
});

Deno.test("the run directory: manifest.json and checkpoint.json hold the reference's fields", async () => {
  await using s = await scratch("rundir");
  const store = `kv:${join(s.dir, "store.kv")}`;
  const r = await s.forge("run", "routing.dot", ...SIM, "--store", store, "--run-id", "m");
  assertExit(r, 0, "run");
  const m = await s.json(".forge/runs/m/manifest.json");
  assert.equal(m.name, "Routing");
  assert.equal(m.goal, "route");
  assert.equal(m.run_id, "m");
  assert.equal(m.store, store);
  assert.match(String(m.context_id), /^\d+$/);
  assert.ok(!Number.isNaN(Date.parse(String(m.start_time))));
  const c = await checkpointOf(s, "m");
  for (
    const key of [
      "timestamp",
      "current_node",
      "completed_nodes",
      "node_retries",
      "node_outcomes",
      "context",
      "logs",
    ]
  ) {
    assert.ok(key in c, `checkpoint.json has ${key}`);
  }
  assert.ok(!Number.isNaN(Date.parse(c.timestamp)));
  for (const o of Object.values(c.node_outcomes)) assert.match(o.status, /^[a-z_]+$/);
  for (const k of Object.keys(c.context)) assert.doesNotMatch(k, /[{}]/, "flat dotted keys");
  // The store agrees: forge runs lists it as succeeded.
  const runs = await s.forge("runs", "--store", store, "--json");
  assertExit(runs, 0, "runs");
  assert.match(runs.out, /"runId":"m"/);
  assert.match(runs.out, /"status":"succeeded"/);
});

Deno.test("validate: errors exit 1 and warnings alone exit 0, each line naming its node or edge, its line and its fix; run refuses an invalid graph", async () => {
  await using s = await scratch("validate");
  const [bad, warn, json, run] = await Promise.all([
    s.forge("validate", "invalid.dot"),
    s.forge("validate", "warnings_only.dot"),
    s.forge("validate", "invalid.dot", "--json"),
    s.forge("run", "invalid.dot", "--simulate", "--quiet", "--store", "memory:"),
  ]);
  assertExit(bad, 1, "validate invalid.dot");
  assert.match(bad.err, /invalid\.dot:5:3: error \[reachability\] node island is not reachable/);
  assert.match(bad.err, /invalid\.dot:9:3: error \[condition_syntax\] edge a -> exit: /);
  assert.match(bad.err, /invalid\.dot:6:3: error \[attribute_type\] node a: max_retries="lots"/);
  assert.doesNotMatch(
    bad.err,
    /node a: node a:|edge a -> exit: edge a -> exit:/,
    "subject named once",
  );
  assert.match(bad.out, /invalid\.dot:7:3: warning \[prompt_on_llm_nodes\] node b /);
  assert.match(bad.out, /invalid\.dot: invalid \(3 errors, 1 warning\)/);
  assertExit(warn, 0, "validate warnings_only.dot");
  assert.match(warn.out, /warning \[goal_gate_has_retry\] node gate /);
  assert.match(warn.out, /valid \(0 errors, 2 warnings\)/);
  assertExit(json, 1, "validate --json");
  const doc = JSON.parse(json.out);
  assert.equal(doc.valid, false);
  assert.deepEqual(
    doc.diagnostics.filter((d: { severity: string }) => d.severity === "error")
      .map((d: { rule: string }) => d.rule).sort(),
    ["attribute_type", "condition_syntax", "reachability"],
  );
  assertExit(run, 1, "run invalid.dot");
  assert.match(run.err, /3 errors/);
  assert.match(run.err, /\[reachability\] node island/);
});

Deno.test("SIGKILL mid-stage, then forge resume: the run finishes as an uninterrupted run would, from the run directory and from the store alone", async () => {
  await using s = await scratch("sigkill");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const clean = await s.forge("run", "slow.dot", ...SIM, ...store, "--run-id", "clean");
  assertExit(clean, 0, "uninterrupted run");
  const expected = await checkpointOf(s, "clean");

  for (const from of ["directory", "store"] as const) {
    const id = `killed-${from}`;
    const child = spawnForge(["run", "slow.dot", ...SIM, ...store, "--run-id", id], s.dir);
    await waitForFile(join(s.runDir(id), "slow", "prompt.md"), child);
    child.kill("SIGKILL");
    assert.equal((await finished(child)).code, 137);
    const killed = await checkpointOf(s, id);
    assert.deepEqual(
      killed.completed_nodes,
      ["start", "first"],
      "the last checkpoint is consistent",
    );
    assert.equal(killed.final_status, undefined);
    let target = id;
    if (from === "store") {
      target = String((await s.json(`.forge/runs/${id}/manifest.json`)).context_id);
      await Deno.remove(s.runDir(id), { recursive: true });
    }
    const resumed = await s.forge("resume", target, ...SIM, ...store);
    assertExit(resumed, 0, `resume from the ${from}`);
    const c = await checkpointOf(s, id);
    assert.equal(c.final_status, "success");
    assert.deepEqual(c.completed_nodes, expected.completed_nodes);
    assert.deepEqual(c.node_outcomes, expected.node_outcomes);
    assert.equal(c.context["alpha"], "1", "context from before the kill survives");
  }
});

Deno.test("timeouts longer than a JavaScript timer holds (30d, 3000h, 40d) let their stages run", async () => {
  await using s = await scratch("long");
  const r = await s.forge(
    "run",
    "long_timeouts.dot",
    ...SIM,
    "--auto-approve",
    "--store",
    "memory:",
    "--run-id",
    "l",
  );
  assertExit(r, 0, "run");
  const c = await checkpointOf(s, "l");
  assert.deepEqual(c.completed_nodes, ["start", "think", "tool", "gate", "done"]);
  for (const n of ["think", "tool", "gate"]) assert.equal(c.node_outcomes[n].status, "success", n);
});

Deno.test("a human gate inside a parallel branch: the run waits on that gate, forge answer answers it, and the run finishes", async () => {
  await using s = await scratch("branchgate");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const waiting = await s.forge("run", "branch_gate.dot", "--simulate", ...store, "--run-id", "b");
  assertExit(waiting, 3, "run");
  assert.match(waiting.out, /waiting at gate: Ship the docs too\?/);
  assert.equal((await checkpointOf(s, "b")).waiting_on, "gate");
  const again = await s.forge("resume", "b", ...SIM, ...store);
  assertExit(again, 3, "resume without an answer waits again");
  const answered = await s.forge("answer", "b", "Y", ...SIM, ...store);
  assertExit(answered, 0, "answer");
  const c = await checkpointOf(s, "b");
  assert.equal(c.final_status, "success");
  for (const n of ["build", "gate", "docs", "fan", "join"]) {
    assert.ok(c.completed_nodes.includes(n), n);
  }
  assert.equal(c.context["parallel.branch.gate.status"], "success");
});
