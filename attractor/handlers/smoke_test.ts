// The spec's integration smoke test (§11.13) with the scripted model through
// the real agent backend, persisted to a store; plus fidelity threads.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryStore } from "@forge/turnstore";
import { anthropicProfile, LocalExecutionEnvironment, ScriptedProvider } from "@forge/agent";
import { AgentBackend } from "./agent_backend.ts";
import { preparePipeline } from "../engine/prepare.ts";
import { runDot, tempDir } from "../testing/helpers.ts";
import { scanRunRecords, stageAgentSession, stageTimeline } from "../query.ts";
import { resumePointFromStore } from "../persist/resume.ts";

const SMOKE = `digraph test_pipeline {
    graph [goal="Create a hello world Python script"]

    start       [shape=Mdiamond]
    plan        [shape=box, prompt="Plan how to create a hello world script for: $goal"]
    implement   [shape=box, prompt="Write the code based on the plan", goal_gate=true]
    review      [shape=box, prompt="Review the code for correctness"]
    done        [shape=Msquare]

    start -> plan
    plan -> implement
    implement -> review [condition="outcome=success"]
    implement -> plan   [condition="outcome=fail", label="Retry"]
    review -> done      [condition="outcome=success"]
    review -> implement [condition="outcome=fail", label="Fix"]
}`;

Deno.test("smoke test: plan → implement (goal gate) → review with the scripted model, files and records", async () => {
  await using dir = await tempDir();
  await using work = await tempDir("attractor-ws-");
  await using store = new MemoryStore();
  const prepared = preparePipeline(SMOKE);
  assert.equal(prepared.graph.attrs.goal, "Create a hello world Python script");
  assert.equal(prepared.graph.nodes.length, 5);
  assert.equal(prepared.graph.edges.length, 6);
  assert.equal(prepared.diagnostics.filter((d) => d.severity === "error").length, 0);
  const provider = new ScriptedProvider([
    { text: "Plan: write hello.py that prints hello world." },
    {
      toolCalls: [{
        name: "write_file",
        arguments: { file_path: join(work.path, "hello.py"), content: 'print("hello world")\n' },
      }],
    },
    { text: "Wrote hello.py." },
    { text: "The code is correct." },
  ]);
  const env = new LocalExecutionEnvironment({ workingDirectory: work.path });
  const backend = new AgentBackend({
    provider,
    profile: anthropicProfile({ model: "test-model" }),
    env,
    store,
  });
  const result = await runDot(SMOKE, dir.path, { store, backend });
  await env.close();
  assert.equal(result.status, "success");
  assert.ok(result.completedNodes.includes("implement"));
  for (const node of ["plan", "implement", "review"]) {
    for (const file of ["prompt.md", "response.md", "status.json"]) {
      assert.ok((await Deno.stat(join(dir.path, node, file))).isFile, `${node}/${file}`);
    }
  }
  assert.match(
    await Deno.readTextFile(join(dir.path, "plan", "prompt.md")),
    /hello world script for: Create a hello world Python script/,
  );
  assert.equal(
    await Deno.readTextFile(join(dir.path, "implement", "response.md")),
    "Wrote hello.py.",
  );
  assert.equal(await Deno.readTextFile(join(work.path, "hello.py")), 'print("hello world")\n');
  assert.equal(result.nodeOutcomes.implement.status, "success", "goal gate satisfied");
  const checkpoint = JSON.parse(await Deno.readTextFile(join(dir.path, "checkpoint.json")));
  assert.equal(checkpoint.current_node, "done");
  for (const n of ["plan", "implement", "review"]) {
    assert.ok(checkpoint.completed_nodes.includes(n));
  }

  // Records: each codergen stage links to its agent session, forked from the stage's turn.
  const ctx = result.contextIds[0];
  const timeline = await stageTimeline(store, ctx);
  const implement = timeline.items.find((s) => s.nodeId === "implement")!;
  assert.ok(implement.usage && implement.usage.totalTokens! > 0, "usage per stage");
  const drill = await stageAgentSession(store, ctx, implement.stageAttemptId);
  assert.ok(drill, "implement has an agent session");
  assert.equal(drill.link.agentBaseTurnId, implement.startedTurnId);
  assert.equal(drill.session.toolCalls.length, 1);
  assert.equal(drill.session.toolCalls[0].toolName, "write_file");
  const fork = await store.getHead(drill.link.agentContextId);
  assert.ok(fork.headDepth > 0);
  const links = [];
  for await (const e of scanRunRecords(store, ctx)) {
    if (e.typeId === "forge.link.stage_to_agent") links.push(e.value.nodeId);
  }
  assert.deepEqual(links.reverse(), ["plan", "implement", "review"]);
});

Deno.test("full fidelity shares one agent session per thread; resume downgrades the first stage to summary:high", async () => {
  await using dir = await tempDir();
  await using work = await tempDir("attractor-ws-");
  await using store = new MemoryStore();
  const source = `digraph Threads {
    graph [goal="g", default_fidelity="full"]
    start [shape=Mdiamond]
    exit [shape=Msquare]
    a [thread_id="t1"]
    b [thread_id="t1"]
    c [thread_id="t2"]
    start -> a -> b -> c -> exit
  }`;
  const provider = new ScriptedProvider([{ text: "a" }, { text: "b" }, { text: "c" }, {
    text: "c2",
  }]);
  const env = new LocalExecutionEnvironment({ workingDirectory: work.path });
  const backend = new AgentBackend({
    provider,
    profile: anthropicProfile({ model: "m" }),
    env,
    store,
  });
  const result = await runDot(source, dir.path, { store, backend });
  assert.equal(result.status, "success");
  const sessions = new Map<string, string>();
  for await (const e of scanRunRecords(store, result.contextIds[0])) {
    if (e.typeId === "forge.link.stage_to_agent") {
      sessions.set(e.value.nodeId as string, e.value.agentSessionId as string);
    }
  }
  assert.equal(sessions.get("a"), sessions.get("b"), "a and b share thread t1");
  assert.notEqual(sessions.get("b"), sessions.get("c"));
  // b's request carried a's conversation: the provider saw more messages for b.
  await backend.close();

  // Resume before c: its first stage runs under summary:high, with a preamble.
  const point = await resumePointFromStore(store, result.contextIds[0]);
  const checkpoint = {
    ...point.checkpoint,
    final_status: undefined,
    next_node: "c",
    current_node: "b",
  };
  const backend2 = new AgentBackend({
    provider,
    profile: anthropicProfile({ model: "m" }),
    env,
    store,
  });
  const resumed = await runDot(source, dir.path, {
    store,
    backend: backend2,
    resume: { checkpoint, contextId: point.contextId },
  });
  await backend2.close();
  await env.close();
  assert.equal(resumed.status, "success");
  const prompt = await Deno.readTextFile(join(dir.path, "c", "prompt.md"));
  assert.match(prompt, /Completed stages:/, "summary:high preamble on the first resumed stage");
});

Deno.test("tool hooks: a pre-hook that exits non-zero skips the agent's tool call; the post-hook sees the result", async () => {
  await using dir = await tempDir();
  await using work = await tempDir("attractor-ws-");
  await Deno.writeTextFile(join(work.path, "notes.txt"), "hello");
  const source = `digraph Hooks {
    graph [tool_hooks.post="cat > \\"$ATTRACTOR_STAGE_DIR/post-$ATTRACTOR_TOOL_CALL_ID.json\\""]
    start [shape=Mdiamond]
    exit [shape=Msquare]
    work [prompt="Read, then write", tool_hooks.pre="test \\"$ATTRACTOR_TOOL_NAME\\" != write_file"]
    start -> work -> exit
  }`;
  const provider = new ScriptedProvider([
    {
      toolCalls: [
        { callId: "c1", name: "read_file", arguments: { file_path: join(work.path, "notes.txt") } },
        {
          callId: "c2",
          name: "write_file",
          arguments: { file_path: join(work.path, "out.txt"), content: "x" },
        },
      ],
    },
    { text: "done" },
  ]);
  const env = new LocalExecutionEnvironment({ workingDirectory: work.path });
  const backend = new AgentBackend({ provider, profile: anthropicProfile({ model: "m" }), env });
  const result = await runDot(source, dir.path, { backend });
  await env.close();
  assert.equal(result.status, "success", result.failureReason);
  await assert.rejects(Deno.stat(join(work.path, "out.txt")), Deno.errors.NotFound);
  const post = JSON.parse(await Deno.readTextFile(join(dir.path, "work", "post-c1.json")));
  assert.equal(post.tool, "read_file");
  assert.match(post.output, /hello/);
  const log = await Deno.readTextFile(join(dir.path, "work", "hooks.log"));
  assert.match(log, /pre write_file c2: exit 1/);
  const second = provider.requests[1];
  assert.match(JSON.stringify(second.messages), /skipped by the pre-hook/);
});
