import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryStore } from "@forge/turnstore";
import { runDot, tempDir } from "../testing/helpers.ts";
import { ScriptedBackend } from "./backend.ts";
import { heuristicSelect } from "./parallel.ts";
import { scanRunRecords } from "../query.ts";
import { CallbackInterviewer } from "../interview/interviewers.ts";

const head = `start [shape=Mdiamond]\n exit [shape=Msquare]\n`;

Deno.test("tool: runs with the attractor environment, writes tool_output.txt, and a status.json it writes decides", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph T { ${head}
      env [shape=parallelogram, tool_command="echo $ATTRACTOR_NODE_ID $ATTRACTOR_STAGE_DIR $ATTRACTOR_LOGS_ROOT"]
      own [shape=parallelogram, tool_command="echo '{\\"outcome\\":\\"partial_success\\",\\"preferred_next_label\\":\\"x\\",\\"context_updates\\":{\\"k\\":\\"v\\"}}' > $ATTRACTOR_STAGE_DIR/status.json"]
      auto [shape=parallelogram, tool_command="true", auto_status=true]
      start -> env -> own -> auto -> exit
    }`,
    dir.path,
  );
  assert.equal(result.status, "success");
  const out = await Deno.readTextFile(join(dir.path, "env", "tool_output.txt"));
  assert.equal(out.trim(), `env ${join(dir.path, "env")} ${dir.path}`);
  assert.equal(result.nodeOutcomes.own.status, "partial_success");
  assert.equal(result.nodeOutcomes.own.preferredLabel, "x");
  assert.equal(result.context.k, "v");
  assert.match(result.nodeOutcomes.auto.notes!, /auto-status/);
});

Deno.test("tool: a non-zero exit, a timeout and a missing command are FAIL with the reason", async () => {
  await using dir = await tempDir();
  const exit = await runDot(
    `digraph T { ${head} t [shape=parallelogram, tool_command="echo boom >&2; exit 7"] start -> t -> exit }`,
    join(dir.path, "a"),
  );
  assert.equal(exit.status, "fail");
  assert.match(exit.failureReason!, /exited with code 7: boom/);
  const slow = await runDot(
    `digraph T { ${head} t [shape=parallelogram, tool_command="sleep 20", timeout="100ms"] start -> t -> exit }`,
    join(dir.path, "b"),
  );
  assert.match(slow.failureReason!, /timed out after 100 ms/);
  const none = await runDot(
    `digraph T { ${head} t [shape=parallelogram] start -> t -> exit }`,
    join(dir.path, "c"),
  );
  assert.match(none.failureReason!, /no tool_command/);
});

const FAN = (policy: string, outcomes: Record<string, string>) =>
  `digraph P { ${head}
  fan [shape=component, join_policy="${policy}", max_parallel=2]
  a [simulate.outcome="${outcomes.a}", simulate.context.score="1"]
  b [simulate.outcome="${outcomes.b}", simulate.context.score="5"]
  c [simulate.outcome="${outcomes.c}", simulate.delay_ms=${outcomes.cDelay ?? 0}]
  join [shape=tripleoctagon]
  start -> fan
  fan -> a
  fan -> b
  fan -> c
  a -> join
  b -> join
  c -> join
  join -> exit
}`;

Deno.test("parallel wait_all: every branch runs on its own context until the fan-in; results reach the fan-in", async () => {
  await using dir = await tempDir();
  await using store = new MemoryStore();
  const result = await runDot(
    FAN("wait_all", { a: "success", b: "success", c: "fail" }),
    dir.path,
    {
      store,
    },
  );
  assert.equal(result.status, "success");
  assert.equal(result.nodeOutcomes.fan.status, "partial_success");
  assert.deepEqual(result.completedNodes, ["start", "a", "b", "c", "fan", "join"]);
  assert.equal(result.context["parallel.fail_count"], 1);
  assert.equal(result.context["parallel.branch.c.status"], "fail");
  assert.equal(
    result.context["parallel.fan_in.best_id"],
    "b",
    "heuristic: success, then higher score",
  );
  assert.equal(result.context.score, undefined, "branch context changes are not merged back");
  // Each branch wrote its records on a context forked from the fan-out turn.
  const branches: string[] = [];
  for await (const e of scanRunRecords(store, result.contextIds[0])) {
    if (e.typeId === "forge.attractor.parallel_lifecycle" && e.value.kind === "branch_started") {
      branches.push(e.value.branchContextId as string);
    }
  }
  assert.equal(new Set(branches).size, 3);
  for (const ctx of branches) {
    const kinds: string[] = [];
    for await (const e of scanRunRecords(store, ctx)) kinds.push(`${e.typeId}:${e.value.kind}`);
    assert.equal(
      kinds.at(-1)?.startsWith("forge.attractor.dot_source"),
      true,
      "history shared with the run",
    );
    assert.ok(
      kinds.includes("forge.attractor.stage_lifecycle:completed") ||
        kinds.includes("forge.attractor.stage_lifecycle:failed"),
    );
  }
});

Deno.test("parallel first_success: the others are cancelled once one succeeds; all failing fails", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    FAN("first_success", { a: "success", b: "fail", c: "success", cDelay: "20000" } as never),
    join(dir.path, "a"),
  );
  assert.equal(result.nodeOutcomes.fan.status, "success");
  assert.equal(result.context["parallel.branch.c.status"], "cancelled");
  const none = await runDot(
    FAN("first_success", { a: "fail", b: "fail", c: "fail" }),
    join(dir.path, "b"),
  );
  assert.equal(none.nodeOutcomes.fan.status, "fail");
});

Deno.test("fan-in with a prompt lets the model rank the candidates", async () => {
  await using dir = await tempDir();
  const backend = new ScriptedBackend({ join: ["The best is a, clearly."] });
  const source = FAN("wait_all", { a: "success", b: "success", c: "success" })
    .replace(`join [shape=tripleoctagon]`, `join [shape=tripleoctagon, prompt="Pick the best"]`);
  const result = await runDot(source, dir.path, { backend });
  assert.equal(result.context["parallel.fan_in.best_id"], "a");
  const request = backend.requests.find((r) => r.node.id === "join")!;
  assert.match(request.prompt, /id: b/);
});

Deno.test("heuristic fan-in ranks by status, then score, then id", () => {
  const r = (id: string, status: string, score?: number) => ({
    id,
    index: 0,
    status,
    score,
    completed_nodes: [],
  });
  assert.equal(
    heuristicSelect([r("z", "success", 1), r("a", "fail", 9), r("m", "success", 1)])!.id,
    "m",
  );
  assert.equal(heuristicSelect([r("z", "partial_success", 9), r("y", "success", 0)])!.id, "y");
});

Deno.test("the manager loop runs a real child pipeline and observes it", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    join(dir.path, "child.dot"),
    `digraph Child { ${head} w1; w2 start -> w1 -> w2 -> exit }`,
  );
  const result = await runDot(
    `digraph M { ${head}
      graph [stack.child_dotfile="child.dot"]
      boss [shape=house, manager.poll_interval="10ms", manager.max_cycles=500]
      start -> boss -> exit
    }`,
    join(dir.path, "run"),
    { baseDir: dir.path },
  );
  assert.equal(result.status, "success");
  assert.equal(result.context["stack.child.status"], "completed");
  assert.equal(result.context["stack.child.outcome"], "success");
  const child = JSON.parse(
    await Deno.readTextFile(join(dir.path, "run", "boss", "child", "checkpoint.json")),
  );
  assert.deepEqual(child.completed_nodes, ["start", "w1", "w2"]);
  await Deno.writeTextFile(
    join(dir.path, "slow.dot"),
    `digraph Slow { ${head} w1 [simulate.delay_ms=20000] start -> w1 -> exit }`,
  );
  const bounded = await runDot(
    `digraph M { ${head}
      boss [shape=house, stack.child_dotfile="slow.dot", manager.poll_interval="10ms", manager.max_cycles=3]
      start -> boss -> exit
    }`,
    join(dir.path, "run2"),
    { baseDir: dir.path },
  );
  assert.equal(bounded.status, "fail");
  assert.match(bounded.failureReason!, /Max cycles exceeded \(3\)/);
  assert.equal(bounded.context["stack.child.status"], "running");
});

Deno.test("a human gate that times out takes human.default_choice, else asks for a retry", async () => {
  await using dir = await tempDir();
  const never = new CallbackInterviewer((_q, signal) =>
    new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("gone"))))
  );
  const result = await runDot(
    `digraph H { ${head}
      gate [shape=hexagon, human.timeout="30ms", human.default_choice="no"]
      yes; no
      start -> gate
      gate -> yes [label="yes"]
      gate -> no [label="no"]
      yes -> exit
      no -> exit
    }`,
    dir.path,
    { interviewer: never },
  );
  assert.deepEqual(result.completedNodes, ["start", "gate", "no"]);
});

Deno.test("a human gate whose answer (here its default choice on a timeout) names no choice fails, never taking the first choice", async () => {
  await using dir = await tempDir();
  const never = new CallbackInterviewer((_q, signal) =>
    new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("gone"))))
  );
  const result = await runDot(
    `digraph H { ${head}
      gate [shape=hexagon, human.timeout="30ms", human.default_choice="maybe"]
      yes; no
      start -> gate
      gate -> yes [label="yes"]
      gate -> no [label="no"]
      gate -> exit [condition="outcome=fail"]
      yes -> exit
      no -> exit
    }`,
    dir.path,
    { interviewer: never },
  );
  assert.deepEqual(result.completedNodes, ["start", "gate"]);
});

Deno.test("the manager loop steers: manager.steer_prompt lands in the child's active stage as steer.md", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    join(dir.path, "child.dot"),
    `digraph Child { ${head} first; slow [simulate.delay_ms=400] start -> first -> slow -> exit }`,
  );
  const result = await runDot(
    `digraph M { ${head}
      boss [shape=house, stack.child_dotfile="child.dot", manager.poll_interval="20ms",
            manager.actions="observe,steer,wait", manager.steer_prompt="focus on the tests"]
      start -> boss -> exit
    }`,
    join(dir.path, "run"),
    { baseDir: dir.path },
  );
  assert.equal(result.status, "success");
  const steer = await Deno.readTextFile(join(dir.path, "run", "boss", "child", "slow", "steer.md"));
  assert.equal(steer, "focus on the tests");
});
