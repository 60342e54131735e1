import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryStore } from "@forge/turnstore";
import { runDot, tempDir } from "../testing/helpers.ts";
import { ScriptedBackend } from "./backend.ts";
import { heuristicSelect } from "./parallel.ts";
import { scanRunRecords } from "../query.ts";
import { CallbackInterviewer } from "../interview/interviewers.ts";
import { DurableInterviewer } from "../interview/durable.ts";

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

Deno.test("simulation: a misspelt simulate.outcomes or simulate.delay_ms fails the stage naming it, never runs as a success", async () => {
  await using dir = await tempDir();
  const run = (attrs: string, name: string) =>
    runDot(
      `digraph S { ${head} a [prompt=a, ${attrs}]
        start -> a
        a -> exit [condition="outcome=fail"]
        a -> exit [condition="outcome=success"] }`,
      join(dir.path, name),
    );
  const typo = await run(`simulate.outcomes="fail,succes"`, "a");
  assert.deepEqual(typo.completedNodes, ["start", "a"]);
  assert.equal(typo.nodeOutcomes.a.status, "fail");
  assert.match(
    typo.nodeOutcomes.a.failureReason!,
    /^simulate\.outcomes names "succes", which is not a status/,
  );
  const first = await run(`simulate.outcomes="sucess"`, "b");
  assert.match(
    first.nodeOutcomes.a.failureReason!,
    /^simulate\.outcomes names "sucess", which is not a status/,
  );
  const delay = await run(`simulate.delay_ms=soon`, "c");
  assert.match(delay.nodeOutcomes.a.failureReason!, /^simulate\.delay_ms="soon" is not a number/);
  const good = await run(`simulate.outcomes="partial_success", simulate.delay_ms=1`, "d");
  assert.equal(good.nodeOutcomes.a.status, "partial_success");
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

Deno.test("tool: a stage that leaves a directory where status.json or tool_output.txt goes fails naming the file in words; the run routes the FAIL instead of dying", async () => {
  await using dir = await tempDir();
  const result = await runDot(
    `digraph T { ${head}
      status_dir [shape=parallelogram, tool_command="mkdir \\"$ATTRACTOR_STAGE_DIR/status.json\\""]
      output_dir [shape=parallelogram, tool_command="mkdir \\"$ATTRACTOR_STAGE_DIR/tool_output.txt\\""]
      start -> status_dir
      status_dir -> output_dir [condition="outcome=fail"]
      output_dir -> exit [condition="outcome=fail"]
    }`,
    dir.path,
  );
  assert.equal(result.status, "success");
  assert.deepEqual(result.completedNodes, ["start", "status_dir", "output_dir"]);
  assert.match(
    result.nodeOutcomes.status_dir.failureReason!,
    /^cannot write \S*status_dir\/status\.json: it is a directory$/,
  );
  assert.match(
    result.nodeOutcomes.output_dir.failureReason!,
    /^writefile \S*output_dir\/tool_output\.txt: it is a directory$/,
  );
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

Deno.test("parallel without a fan-in: branches that run into the exit end there; no branch runs twice", async () => {
  await using dir = await tempDir();
  const dot = (outcome: string, policy = "wait_all") =>
    `digraph P { ${head}
    fan [shape=component, join_policy=${policy}]
    a [simulate.outcome="${outcome}"]; b [simulate.outcome="${outcome}"]
    start -> fan
    fan -> a -> exit
    fan -> b -> exit
  }`;
  const joined = await runDot(dot("success"), join(dir.path, "a"));
  assert.equal(joined.status, "success");
  assert.deepEqual(joined.completedNodes, ["start", "a", "b", "fan"]);
  assert.equal(joined.checkpoint?.current_node, "exit");
  // A FAIL does not reach the exit through its branches: failure routing decides, and here ends the run.
  const failed = await runDot(dot("fail", "first_success"), join(dir.path, "b"));
  assert.equal(failed.status, "fail");
  assert.deepEqual(failed.completedNodes, ["start", "a", "b", "fan"]);
  // Branches that end nowhere (no edge out of a) leave the run nowhere to go: it ends at the parallel node.
  const stranded = await runDot(
    `digraph P { ${head} fan [shape=component]; a; b
      start -> fan; fan -> a; fan -> b; b -> exit [condition="context.never=1"] }`,
    join(dir.path, "c"),
  );
  assert.deepEqual(stranded.completedNodes, ["start", "a", "b", "fan"]);
  assert.equal(stranded.status, "success");
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
  // The call is audited in the run directory as any LLM stage's is (spec §5.6).
  assert.equal(await Deno.readTextFile(join(dir.path, "join", "prompt.md")), request.prompt);
  assert.equal(
    await Deno.readTextFile(join(dir.path, "join", "response.md")),
    "The best is a, clearly.",
  );
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

Deno.test("a child pipeline that cannot start fails the manager stage with a ChildPipelineError naming the file and the problem, never the OS's words", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "broken.dot"), `digraph C { start [shape=Mdiamond] -> }`);
  await Deno.writeTextFile(
    join(dir.path, "orphan.dot"),
    `digraph C { ${head} lost [prompt=p] start -> exit }`,
  );
  await Deno.mkdir(join(dir.path, "folder.dot"));
  const reasons: Record<string, RegExp> = {
    "missing.dot": /^child pipeline \S*\/missing\.dot cannot be read: no such file or directory$/,
    "folder.dot": /^child pipeline \S*\/folder\.dot cannot be read: it is a directory$/,
    "broken.dot": /^child pipeline \S*\/broken\.dot does not parse: line 1, column \d+: /,
    "orphan.dot":
      /^child pipeline \S*\/orphan\.dot is not a valid pipeline: .*\[reachability\] node lost/s,
  };
  for (const [file, reason] of Object.entries(reasons)) {
    const result = await runDot(
      `digraph M { ${head}
        boss [shape=house, stack.child_dotfile="${file}", manager.poll_interval="10ms"]
        start -> boss
        boss -> exit [condition="outcome=fail"]
      }`,
      join(dir.path, `run-${file}`),
      { baseDir: dir.path },
    );
    assert.equal(result.nodeOutcomes.boss.status, "fail", file);
    assert.match(result.nodeOutcomes.boss.failureReason!, reason);
    assert.doesNotMatch(result.nodeOutcomes.boss.failureReason!, /os error|readfile/);
  }
});

Deno.test("a child pipeline that stops at a durable human gate fails the manager stage saying which gate, not just 'waiting'", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    join(dir.path, "asks.dot"),
    `digraph C { ${head} g [shape=hexagon, label="Go?"] start -> g; g -> exit [label="[Y] Yes"] }`,
  );
  const result = await runDot(
    `digraph M { ${head}
      boss [shape=house, stack.child_dotfile="asks.dot", manager.poll_interval="10ms"]
      start -> boss -> exit
    }`,
    join(dir.path, "run"),
    { baseDir: dir.path, interviewer: new DurableInterviewer() },
  );
  assert.equal(result.status, "fail");
  assert.equal(
    result.nodeOutcomes.boss.failureReason,
    "Child failed: the child pipeline stopped to wait on its human gate g, which a manager loop cannot answer",
  );
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
