// The spec's definition-of-done matrix (§11.12) and the engine rules the
// reference settles: each test runs a real pipeline in simulation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDot, tempDir } from "../testing/helpers.ts";
import { ScriptedBackend } from "../handlers/backend.ts";
import { defaultHandlers } from "../handlers/mod.ts";
import { QueueInterviewer } from "../interview/interviewers.ts";
import type { PipelineEvent } from "./events.ts";
import type { Outcome } from "./outcome.ts";
import { preparePipeline } from "./prepare.ts";
import { startPipeline } from "./run.ts";

const head = `start [shape=Mdiamond]\n exit [shape=Msquare]\n`;

Deno.test("execute with conditional branching: the fail path and the success path", async () => {
  await using dir = await tempDir();
  const dot = (outcome: string) =>
    `digraph B { ${head}
    work [simulate.outcome="${outcome}"]
    ok; bad
    start -> work
    work -> ok [condition="outcome=success"]
    work -> bad [condition="outcome=fail"]
    ok -> exit
    bad -> exit
  }`;
  const good = await runDot(dot("success"), join(dir.path, "a"));
  assert.deepEqual(good.completedNodes, ["start", "work", "ok"]);
  const failed = await runDot(dot("fail"), join(dir.path, "b"));
  assert.deepEqual(failed.completedNodes, ["start", "work", "bad"]);
  assert.equal(failed.status, "success");
});

Deno.test("retry on failure: max_retries=2 runs a failing stage three times, then routes its FAIL", async () => {
  await using dir = await tempDir();
  const events: PipelineEvent[] = [];
  const result = await runDot(
    `digraph R { ${head}
      flaky [max_retries=2, simulate.outcomes="fail,fail,fail,success"]
      start -> flaky -> exit
    }`,
    dir.path,
    { onEvent: (e) => events.push(e) },
  );
  assert.equal(result.status, "fail");
  assert.match(result.failureReason!, /flaky failed: simulated fail \(execution 3\)/);
  assert.equal(events.filter((e) => e.kind === "stage_retrying").length, 2);
  // The engine's maps have no prototype (see copyMap): compared as their entries.
  assert.deepEqual({ ...result.checkpoint?.node_retries }, { flaky: 2 });
});

Deno.test("a retried stage that succeeds continues, and backoff delays follow the preset with jitter", async () => {
  await using dir = await tempDir();
  const delays: number[] = [];
  const result = await runDot(
    `digraph R { ${head}
      flaky [retry_policy="linear", simulate.outcomes="retry,fail,success"]
      start -> flaky -> exit
    }`,
    dir.path,
    { sleep: (ms) => (delays.push(ms), Promise.resolve()), random: () => 0.25 },
  );
  assert.equal(result.status, "success");
  assert.deepEqual(delays, [375, 375], "linear: 500 ms × (0.5 + 0.25)");
});

Deno.test("exhausted RETRY becomes PARTIAL_SUCCESS with allow_partial, else FAIL", async () => {
  await using dir = await tempDir();
  const dot = (partial: boolean) =>
    `digraph P { ${head}
    w [max_retries=1, allow_partial=${partial}, simulate.outcome="retry"]
    start -> w -> exit
  }`;
  const partial = await runDot(dot(true), join(dir.path, "a"));
  assert.equal(partial.nodeOutcomes.w.status, "partial_success");
  assert.equal(partial.status, "success");
  const failed = await runDot(dot(false), join(dir.path, "b"));
  assert.equal(failed.status, "fail");
});

Deno.test("a FAIL never falls through an unconditional edge: retry_target, then fallback, then the run fails", async () => {
  await using dir = await tempDir();
  const viaTarget = await runDot(
    `digraph F { ${head}
      w [simulate.outcomes="fail,success", retry_target="fix"]
      fix
      start -> w -> exit
      fix -> w
    }`,
    join(dir.path, "a"),
  );
  assert.deepEqual(viaTarget.completedNodes, ["start", "w", "fix", "w"]);
  const viaFallback = await runDot(
    `digraph F { ${head}
      w [simulate.outcomes="fail,success", retry_target="missing", fallback_retry_target="fix"]
      fix
      start -> w -> exit
      fix -> w
    }`,
    join(dir.path, "b"),
  );
  assert.deepEqual(viaFallback.completedNodes, ["start", "w", "fix", "w"]);
  const dead = await runDot(
    `digraph F { ${head} w [simulate.outcome="fail"] start -> w -> exit }`,
    join(dir.path, "c"),
  );
  assert.equal(dead.status, "fail");
  assert.deepEqual(dead.completedNodes, ["start", "w"]);
  assert.equal(dead.checkpoint?.final_status, "fail");
});

Deno.test("goal gate blocks the exit until its latest outcome is a success, then allows it", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph G { ${head}
      gate [goal_gate=true, retry_target="gate", simulate.outcomes="partial_success,fail,success"]
      check [shape=diamond]
      start -> gate -> check
      check -> exit [condition="outcome=success"]
    }`,
    dir.path,
  );
  // partial_success satisfies a gate (spec §3.4).
  assert.equal(result.status, "success");
  assert.deepEqual(result.completedNodes, ["start", "gate", "check"]);
  await using dir2 = await tempDir();
  const retried = await runDot(
    `digraph G { ${head}
      gate [goal_gate=true, retry_target="gate", simulate.outcomes="fail,success"]
      start -> gate
      gate -> exit [condition="outcome=fail"]
      gate -> exit [condition="outcome=success"]
    }`,
    dir2.path,
  );
  assert.deepEqual(retried.completedNodes, ["start", "gate", "gate"]);
  assert.equal(retried.status, "success");
});

Deno.test("an unsatisfied goal gate without a retry target fails the run", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph G { ${head}
      gate [goal_gate=true, simulate.outcome="fail"]
      start -> gate
      gate -> exit [condition="outcome=fail"]
    }`,
    dir.path,
  );
  assert.equal(result.status, "fail");
  assert.match(result.failureReason!, /goal gate gate is unsatisfied \(fail\) and no retry target/);
});

Deno.test("a run that ends without reaching the exit still enforces its goal gates: retry target, else FAIL", async () => {
  await using dir = await tempDir();
  const dot = (retry: string) =>
    `digraph G { ${head}
      gate [goal_gate=true, ${retry} simulate.outcomes="fail,success"]
      report
      start -> gate
      gate -> exit [condition="outcome=success"]
      gate -> report [condition="outcome=fail"]
      report -> exit [condition="context.never=1"]
    }`;
  const failed = await runDot(dot(""), join(dir.path, "a"));
  assert.equal(failed.status, "fail");
  assert.deepEqual(failed.completedNodes, ["start", "gate", "report"]);
  assert.match(failed.failureReason!, /goal gate gate is unsatisfied \(fail\) and no retry target/);
  const retried = await runDot(dot("retry_target=gate,"), join(dir.path, "b"));
  assert.equal(retried.status, "success");
  assert.deepEqual(retried.completedNodes, ["start", "gate", "report", "gate"]);
  assert.equal(retried.checkpoint?.current_node, "exit");
});

Deno.test("a goal gate inside a parallel branch is a visited node: its outcome is recorded and checked at the exit", async () => {
  await using dir = await tempDir();
  const dot = (gateOutcomes: string) =>
    `digraph P { ${head}
      fan [shape=component]
      gate [goal_gate=true, retry_target=fan, simulate.outcomes="${gateOutcomes}"]
      other; join [shape=tripleoctagon]
      start -> fan
      fan -> gate -> join
      fan -> other -> join
      join -> exit
    }`;
  const retried = await runDot(dot("fail,success"), join(dir.path, "a"));
  assert.equal(retried.status, "success");
  assert.deepEqual(retried.completedNodes, [
    "start",
    ...["gate", "other", "fan", "join"],
    ...["gate", "other", "fan", "join"],
  ]);
  assert.equal(retried.nodeOutcomes.gate.status, "success");
  assert.equal(retried.checkpoint?.node_outcomes.other.status, "success");
  const failed = await runDot(dot("fail").replace("retry_target=fan, ", ""), join(dir.path, "b"));
  assert.equal(failed.status, "fail");
  assert.match(failed.failureReason!, /goal gate gate is unsatisfied \(fail\)/);
});

Deno.test("wait.human presents the edges as choices and routes on the selection", async () => {
  await using dir = await tempDir();
  const interviewer = new QueueInterviewer(["F", "[A] Approve"]);
  const result = await runDot(
    `digraph H { ${head}
      review [shape=hexagon, label="Review"]
      ship; fix
      start -> review
      review -> ship [label="[A] Approve"]
      review -> fix [label="[F] Fix"]
      fix -> review
      ship -> exit
    }`,
    dir.path,
    { interviewer },
  );
  assert.deepEqual(result.completedNodes, ["start", "review", "fix", "review", "ship"]);
  assert.equal(result.context["human.gate.selected"], "A");
  assert.equal(result.context["human.gate.label"], "[A] Approve");
  const answer = JSON.parse(await Deno.readTextFile(join(dir.path, "review", "answer.json")));
  assert.equal(answer.to, "ship");
});

Deno.test("edge selection: a matching condition wins over weight; weight breaks ties; lexical order last", async () => {
  await using dir = await tempDir();
  const cond = await runDot(
    `digraph E { ${head}
      a [simulate.context.flag="yes"]
      heavy; light
      start -> a
      a -> heavy [weight=10]
      a -> light [condition="context.flag=yes"]
      heavy -> exit
      light -> exit
    }`,
    join(dir.path, "a"),
  );
  assert.deepEqual(cond.completedNodes, ["start", "a", "light"]);
  const weight = await runDot(
    `digraph E { ${head} a; x; y
      start -> a
      a -> x [weight=1]
      a -> y [weight=5]
      x -> exit
      y -> exit }`,
    join(dir.path, "b"),
  );
  assert.deepEqual(weight.completedNodes, ["start", "a", "y"]);
  const lexical = await runDot(
    `digraph E { ${head} a; zeta; alpha
      start -> a
      a -> zeta
      a -> alpha
      zeta -> exit
      alpha -> exit }`,
    join(dir.path, "c"),
  );
  assert.deepEqual(lexical.completedNodes, ["start", "a", "alpha"]);
});

Deno.test("edge selection: preferred label, then suggested next ids, over unconditional edges", async () => {
  await using dir = await tempDir();
  const backend = new ScriptedBackend({
    a: [{ status: "success", preferredLabel: "Second" } as Outcome],
    b: [{ status: "success", suggestedNextIds: ["z2"] } as Outcome],
  });
  const result = await runDot(
    `digraph E { ${head} a; b; one; two; z1; z2
      start -> a
      a -> one [label="[1] First"]
      a -> two [label="[2] Second"]
      one -> b
      two -> b
      b -> z1
      b -> z2
      z1 -> exit
      z2 -> exit }`,
    dir.path,
    { backend },
  );
  assert.deepEqual(result.completedNodes, ["start", "a", "two", "b", "z2"]);
});

Deno.test("context updates of one stage are visible to the next, and conditions read them", async () => {
  await using dir = await tempDir();
  const backend = new ScriptedBackend({
    a: [{ status: "success", contextUpdates: { "context.ready": "true", count: 3 } } as Outcome],
  });
  const result = await runDot(
    `digraph C { ${head} a; b; c
      start -> a
      a -> b [condition="context.ready=true && count=3"]
      a -> c [condition="context.ready!=true"]
      b -> exit
      c -> exit }`,
    dir.path,
    { backend },
  );
  assert.deepEqual(result.completedNodes, ["start", "a", "b"]);
  const prompt = backend.requests.find((r) => r.node.id === "b")!.prompt;
  assert.match(prompt, /context\.ready: true/, "the compact preamble carries context values");
});

Deno.test("current_node is the node executing now: each handler, in the main line and in a parallel branch, sees its own id", async () => {
  await using dir = await tempDir();
  const seen: string[] = [];
  const handlers = defaultHandlers().register("probe", {
    execute: (input) => {
      seen.push(`${input.node.id} sees ${input.context.get("current_node")}`);
      return Promise.resolve({ status: "success" });
    },
  });
  const source = `digraph X { ${head}
    one [type="probe"]; two [type="probe"]; fan [shape=component]; branch [type="probe"]
    join [shape=tripleoctagon]
    start -> one -> two -> fan -> branch -> join -> exit }`;
  const { graph } = preparePipeline(source, { knownTypes: handlers.types() });
  const result = await runDot(source, dir.path, { handlers, graph });
  assert.equal(result.status, "success");
  assert.deepEqual(seen, ["one sees one", "two sees two", "branch sees branch"]);
});

Deno.test("custom handlers register by type and run", async () => {
  await using dir = await tempDir();
  const handlers = defaultHandlers().register("greeter", {
    execute: (input) =>
      Promise.resolve({
        status: "success",
        contextUpdates: { greeting: `hello from ${input.node.id}` },
      }),
  });
  const source = `digraph X { ${head} hi [type="greeter"] start -> hi -> exit }`;
  const { graph } = preparePipeline(source, { knownTypes: handlers.types() });
  const result = await runDot(source, dir.path, { handlers, graph });
  assert.equal(result.context.greeting, "hello from hi");
});

Deno.test("a pipeline with more than ten nodes completes", async () => {
  await using dir = await tempDir();
  const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
  const result = await runDot(
    `digraph Long { ${head} start -> ${ids.join(" -> ")} -> exit }`,
    dir.path,
  );
  assert.equal(result.status, "success");
  assert.equal(result.completedNodes.length, 13);
});

Deno.test("max_visits bounds a loop and names the node", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph L { ${head}
      graph [default_max_visits=3]
      spin [simulate.outcome="fail"]
      start -> spin
      spin -> spin [condition="outcome=fail"]
      spin -> exit [condition="outcome=success"]
    }`,
    dir.path,
  );
  assert.equal(result.status, "fail");
  assert.equal(result.failureReason, "node spin exceeded max_visits=3");
  assert.equal(result.completedNodes.filter((n) => n === "spin").length, 3);
});

Deno.test("loop_restart starts a fresh attempt (new logs directory, only graph.* context), bounded by max_loop_restarts", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph R { ${head}
      graph [max_loop_restarts=2]
      work [simulate.outcomes="fail,fail,success", simulate.context.marker="set"]
      again [shape=diamond]
      start -> work
      work -> again [condition="outcome=fail"]
      work -> exit [condition="outcome=success"]
      again -> work [loop_restart=true]
    }`,
    dir.path,
  );
  assert.equal(result.status, "success");
  assert.deepEqual(result.completedNodes, ["work"]);
  assert.equal(result.checkpoint?.lineage_attempt, 3);
  assert.ok((await Deno.stat(join(dir.path, "attempt-3", "work", "status.json"))).isFile);
  const manifest = JSON.parse(await Deno.readTextFile(join(dir.path, "manifest.json")));
  assert.equal(manifest.attempts.length, 3);
  await using dir2 = await tempDir();
  const bounded = await runDot(
    `digraph R { ${head}
      graph [max_loop_restarts=1]
      work [simulate.outcome="fail"]
      again [shape=diamond]
      start -> work
      work -> again [condition="outcome=fail"]
      again -> work [loop_restart=true]
      work -> exit [condition="outcome=success"]
    }`,
    dir2.path,
  );
  assert.equal(bounded.status, "fail");
  assert.match(bounded.failureReason!, /max_loop_restarts=1/);
});

Deno.test("events arrive as an async iterable and as callbacks, in order", async () => {
  await using dir = await tempDir();
  const source = `digraph Ev { ${head}
    w [max_retries=1, simulate.outcomes="fail,success"]
    fan [shape=component]
    a; b
    join [shape=tripleoctagon]
    gate [shape=hexagon]
    start -> w -> fan
    fan -> a
    fan -> b
    a -> join
    b -> join
    join -> gate
    gate -> exit [label="Go"]
  }`;
  const { graph } = preparePipeline(source);
  const callbacks: string[] = [];
  const run = startPipeline({
    graph,
    dotSource: source,
    logsRoot: dir.path,
    handlers: defaultHandlers(),
    sleep: () => Promise.resolve(),
    onEvent: (e) => callbacks.push(e.kind),
  });
  const streamed: string[] = [];
  for await (const e of run.events()) streamed.push(e.kind);
  const result = await run.result;
  assert.equal(result.status, "success");
  assert.deepEqual(streamed, callbacks);
  for (
    const kind of [
      "pipeline_started",
      "stage_started",
      "stage_completed",
      "stage_failed",
      "stage_retrying",
      "parallel_started",
      "parallel_branch_started",
      "parallel_branch_completed",
      "parallel_completed",
      "interview_started",
      "interview_completed",
      "checkpoint_saved",
      "pipeline_completed",
    ]
  ) assert.ok(streamed.includes(kind), kind);
  assert.equal(streamed[0], "pipeline_started");
  assert.equal(streamed.at(-1), "pipeline_completed");
});

Deno.test("an AbortSignal cancels the run mid-stage; the checkpoint stays at the last completed stage", async () => {
  await using dir = await tempDir();
  const abort = new AbortController();
  const started = performance.now();
  const result = await runDot(
    `digraph A { ${head} a; slow [simulate.delay_ms=30000] start -> a -> slow -> exit }`,
    dir.path,
    {
      signal: abort.signal,
      onEvent: (e) => e.kind === "stage_started" && e.name === "slow" && abort.abort(),
    },
  );
  assert.equal(result.status, "cancelled");
  assert.ok(performance.now() - started < 5000);
  const checkpoint = JSON.parse(await Deno.readTextFile(join(dir.path, "checkpoint.json")));
  assert.equal(checkpoint.current_node, "a");
  assert.equal(checkpoint.next_node, "slow");
});

Deno.test("a node timeout fails the stage", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph T { ${head} slow [timeout="50ms", simulate.delay_ms=10000] start -> slow -> exit }`,
    dir.path,
  );
  assert.equal(result.status, "fail");
  assert.match(result.failureReason!, /timed out after 50 ms/);
});
