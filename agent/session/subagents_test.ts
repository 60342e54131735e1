import assert from "node:assert/strict";
import { type ForgeStore, MemoryStore, openTurnStore } from "@forge/turnstore";
import { ScriptedProvider } from "../llm/scripted.ts";
import { anthropicProfile, geminiProfile } from "../profiles/providers.ts";
import { readSession, walkSessionTree } from "../query.ts";
import { agentCatalog } from "../records.ts";
import {
  makeWorkspace,
  RoutingProvider,
  scriptedSession,
  type Workspace,
} from "../testing/harness.ts";

const PARENT_TASK = "split the work";
const CHILD_TASK = "count the lines of a.txt";

function providers(ws: Workspace) {
  const parent = new ScriptedProvider([
    { toolCalls: [{ name: "spawn_agent", arguments: { task: CHILD_TASK } }] },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "close_agent", arguments: { agent_id: "agent-1" } }] },
    { text: "parent done" },
  ]);
  const child = new ScriptedProvider([
    { toolCalls: [{ name: "read_file", arguments: { file_path: `${ws.dir}/a.txt` } }] },
    { toolCalls: [{ name: "spawn_agent", arguments: { task: "grandchild" } }] },
    { text: "a.txt has 2 lines" },
  ]);
  return {
    parent,
    child,
    routing: new RoutingProvider({ [PARENT_TASK]: parent, [CHILD_TASK]: child }),
  };
}

async function runTree(ws: Workspace, store: ForgeStore | undefined) {
  const p = providers(ws);
  const t = scriptedSession(ws, [], {
    provider: p.routing,
    sessionId: "parent-session",
    ...(store ? { store, persistence: "required" as const } : {}),
  });
  const result = await t.session.submit(PARENT_TASK);
  await t.session.close();
  await t.ended;
  return { ...t, ...p, result };
}

Deno.test("a subagent runs its own loop on the shared workspace and its result returns as a tool result", async () => {
  await using ws = await makeWorkspace({ "a.txt": "one\ntwo\n" });
  const t = await runTree(ws, undefined);
  assert.equal(t.result.text, "parent done");
  const results = t.session.history.filter((h) => h.kind === "tool_results");
  const waited = results[1];
  assert.ok(waited.kind === "tool_results");
  assert.deepEqual(JSON.parse(waited.results[0].content), {
    output: "a.txt has 2 lines",
    success: true,
    model_calls_used: 3,
  });
  const closed = results[2];
  assert.ok(closed.kind === "tool_results");
  assert.deepEqual(JSON.parse(closed.results[0].content), {
    agent_id: "agent-1",
    status: "completed",
  });
  // The child's own history is independent of the parent's.
  const childUser = t.child.requests[0].messages.filter((m) => m.role === "user");
  assert.equal(childUser.length, 1);
  assert.ok(t.events.some((e) => e.kind === "subagent_spawned" && e.depth === 1));
  const forwarded = t.events.filter((e) => e.kind === "subagent_event");
  assert.ok(forwarded.some((e) => e.kind === "subagent_event" && e.event.kind === "tool_call_end"));
  assert.ok(t.events.some((e) => e.kind === "subagent_closed" && e.status === "completed"));
});

Deno.test("a subagent at the depth limit cannot spawn another", async () => {
  await using ws = await makeWorkspace({ "a.txt": "one\ntwo\n" });
  const t = await runTree(ws, undefined);
  const childRequests = t.child.requests;
  const third = childRequests[2].messages.at(-1)!;
  const part = third.content[0];
  assert.ok(part.kind === "tool_result");
  assert.equal(part.toolResult.isError, true);
  assert.match(part.toolResult.content, /subagent depth limit reached/);
});

Deno.test("a subagent's context forks the parent's turn, and link records name both sides", async () => {
  await using ws = await makeWorkspace({ "a.txt": "one\ntwo\n" });
  const store = new MemoryStore();
  const t = await runTree(ws, store);
  const parentTurns = await store.listTurns(t.session.contextId!);
  const decoded = parentTurns.map((turn) => ({ turn, v: agentCatalog.decode(turn)!.value }));
  const spawn = decoded.find((d) => d.turn.typeId === "forge.link.subagent_spawn")!;
  const close = decoded.find((d) => d.turn.typeId === "forge.link.subagent_close")!;
  assert.equal(spawn.v.sessionId, undefined, "the link restates no parent session");
  assert.equal(spawn.v.subagentId, "agent-1");
  assert.equal(spawn.v.subagentDepth, 1);
  assert.equal(spawn.v.task, CHILD_TASK);
  // The fork point is the parent's tool_call started record of spawn_agent.
  const forkTurn = await store.getTurn(spawn.v.forkedFromTurnId as string);
  const forkValue = agentCatalog.decode(forkTurn)!.value;
  assert.equal(forkTurn.typeId, "forge.agent.tool_call_lifecycle");
  assert.equal(forkValue.toolName, "spawn_agent");
  // The child context's history starts with the parent's turns up to the fork.
  const childContext = spawn.v.childContextId as string;
  const childTurns = await store.listTurns(childContext, { limit: 1000 });
  // The child's own turns start with its session's started record, which names it.
  const firstOwn = childTurns.findIndex((turn) =>
    agentCatalog.decode(turn)!.value.sessionId === spawn.v.childSessionId
  );
  assert.equal(childTurns[firstOwn].typeId, "forge.agent.session_lifecycle");
  assert.equal(childTurns[firstOwn - 1].turnId, forkTurn.turnId, "forked, not a fresh root");
  assert.equal(childTurns[firstOwn].parentTurnId, forkTurn.turnId);
  assert.deepEqual(
    childTurns.slice(0, firstOwn).map((x) => x.turnId),
    parentTurns.slice(0, firstOwn).map((x) => x.turnId),
    "shared history, not copied",
  );
  assert.equal(close.v.status, "completed");
  assert.equal(close.v.childContextId, childContext);
  assert.equal(close.v.modelCallsUsed, 3);
  assert.equal(close.v.childHeadTurnId, (await store.getHead(childContext)).headTurnId);
});

const fsDirs: string[] = [];
for (
  const [backend, open] of [
    ["memory", () => openTurnStore("memory:")],
    ["kv (in memory)", () => openTurnStore("kv::memory:")],
    ["fs", async () => {
      const dir = await Deno.makeTempDir({ prefix: "forge-agent-fs-" });
      fsDirs.push(dir);
      return openTurnStore(`fs:${dir}`);
    }],
  ] as const
) {
  Deno.test(`the query API rebuilds the session tree from the ${backend} store alone`, async () => {
    await using ws = await makeWorkspace({ "a.txt": "one\ntwo\n" });
    const store = await open();
    try {
      const t = await runTree(ws, store);
      const rootContext = t.session.contextId!;
      const view = await readSession(store, rootContext);
      assert.equal(view.sessionId, "parent-session");
      assert.equal(view.finalState, "closed");
      assert.equal(view.profileId, "anthropic");
      assert.deepEqual(view.transcript.map((e) => e.kind), [
        "user",
        "assistant",
        "tool_results",
        "assistant",
        "tool_results",
        "assistant",
        "tool_results",
        "assistant",
      ]);
      assert.deepEqual(view.toolCalls.map((c) => c.toolName), [
        "spawn_agent",
        "wait",
        "close_agent",
      ]);
      assert.ok(view.toolCalls.every((c) => c.output !== undefined && c.endedTurnId));
      assert.equal(view.subagents.length, 1);
      const sub = view.subagents[0];
      assert.equal(sub.status, "completed");
      assert.equal(sub.task, CHILD_TASK);
      const child = sub.session!;
      assert.equal(child.parentSessionId, "parent-session");
      assert.equal(child.contextId, sub.childContextId);
      assert.ok(child.inheritedTurns > 0, "the fork's inherited turns are not the child's");
      const forkDepth = (await store.getTurn(sub.forkedFromTurnId)).depth;
      assert.equal(child.inheritedTurns, forkDepth, "exactly the turns up to the fork");
      assert.equal(child.transcript[0].depth, forkDepth + 2, "after the child's started record");
      assert.equal(child.transcript[0].kind, "user");
      assert.equal(
        child.transcript[0].kind === "user" && child.transcript[0].content,
        CHILD_TASK,
      );
      const last = child.transcript.at(-1)!;
      assert.ok(last.kind === "assistant" && last.text === "a.txt has 2 lines");
      assert.deepEqual(child.toolCalls.map((c) => [c.toolName, c.isError]), [
        ["read_file", false],
        ["spawn_agent", true],
      ]);
      assert.match(child.toolCalls[0].output!, /two/, "full tool output is stored");
      assert.equal([...walkSessionTree(view)].length, 2);
    } finally {
      await store.close();
      for (const dir of fsDirs.splice(0)) await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the query API refuses a context without an agent session", async () => {
  const store = new MemoryStore();
  const ctx = await store.createContext();
  await assert.rejects(
    () => readSession(store, ctx.contextId),
    (e) =>
      (e as { code?: string }).code === "InvalidInput" && /holds no agent session/.test(String(e)),
  );
  await assert.rejects(
    () => readSession(store, "987654"),
    (e) => (e as { code?: string }).code === "NotFound",
  );
});

Deno.test("the system prompt layers base, environment, tools, project docs and user instructions", async () => {
  await using ws = await makeWorkspace({
    "AGENTS.md": "agents-root",
    "CLAUDE.md": "claude-root",
    "GEMINI.md": "gemini-root",
  });
  const t = scriptedSession(ws, [{ text: "ok" }], { userInstructions: "USER-LAST" });
  await t.session.submit("hi");
  const system = t.provider.requests[0].messages[0];
  assert.equal(system.role, "system");
  const text = system.content[0].kind === "text" ? system.content[0].text : "";
  const at = (s: string) => text.indexOf(s);
  assert.ok(at("edit_file") > 0 && at("<environment>") > 0);
  assert.ok(at("agents-root") > at("<environment>"));
  assert.ok(at("claude-root") > at("agents-root"));
  assert.equal(at("gemini-root"), -1, "the Anthropic profile does not load GEMINI.md");
  assert.ok(at("USER-LAST") > at("claude-root"), "user instructions come last");
  assert.match(text, new RegExp(`Working directory: ${ws.dir}`));
  assert.match(text, /Is git repository: false/);
  await t.session.close();
  const g = scriptedSession(ws, [{ text: "ok" }], { profile: geminiProfile({ model: "g" }) });
  await g.session.submit("hi");
  const gText = JSON.stringify(g.provider.requests[0].messages[0]);
  assert.ok(gText.includes("gemini-root") && !gText.includes("claude-root"));
  await g.session.close();
});

Deno.test("in a git repository the environment block carries the branch and a status summary", async () => {
  await using ws = await makeWorkspace({ "tracked.txt": "x", "sub/AGENTS.md": "sub-agents" });
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: ws.dir, stdout: "null", stderr: "null" }).output();
  await git("init", "-q", "-b", "trunk");
  await git("-c", "user.email=t@t", "-c", "user.name=t", "add", "tracked.txt");
  await git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "first commit");
  await Deno.writeTextFile(`${ws.dir}/untracked.txt`, "u");
  const profile = anthropicProfile({ model: "m" });
  const { LocalExecutionEnvironment } = await import("../env/local.ts");
  const env = new LocalExecutionEnvironment({ workingDirectory: `${ws.dir}/sub` });
  const t = scriptedSession({ ...ws, env }, [{ text: "ok" }], { profile });
  await t.session.submit("hi");
  const text = JSON.stringify(t.provider.requests[0].messages[0]);
  assert.match(text, /Is git repository: true/);
  assert.match(text, /Git branch: trunk/);
  assert.match(text, /first commit/);
  assert.match(text, /untracked/);
  assert.ok(text.includes("sub-agents"), "AGENTS.md between the git root and cwd is loaded");
  await t.session.close();
});

Deno.test("send_input gives an idle subagent a new input, and wait returns its new result", async () => {
  await using ws = await makeWorkspace();
  const parent = new ScriptedProvider([
    { toolCalls: [{ name: "spawn_agent", arguments: { task: CHILD_TASK } }] },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "send_input", arguments: { agent_id: "agent-1", message: "and b?" } }] },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-9" } }] },
    { text: "parent done" },
  ]);
  const child = new ScriptedProvider([{ text: "first answer" }, { text: "second answer" }]);
  const t = scriptedSession(ws, [], {
    provider: new RoutingProvider({ [PARENT_TASK]: parent, [CHILD_TASK]: child }),
  });
  await t.session.submit(PARENT_TASK);
  const results = t.session.history.filter((h) => h.kind === "tool_results").map((h) =>
    h.kind === "tool_results" ? h.results[0] : undefined
  );
  assert.equal(JSON.parse(results[1]!.content).output, "first answer");
  assert.match(results[2]!.content, /message sent to agent-1/);
  assert.equal(JSON.parse(results[3]!.content).output, "second answer");
  assert.equal(results[4]!.isError, true);
  assert.match(results[4]!.content, /no subagent "agent-9" \(known: agent-1\)/);
  const childUsers = child.requests[1].messages.filter((m) => m.role === "user");
  assert.equal(childUsers.length, 2, "the child kept its own history across inputs");
  await t.session.close();
  await t.ended;
  assert.ok(t.events.some((e) => e.kind === "subagent_closed" && e.status === "completed"));
});

Deno.test("a subagent spawned with working_dir works in that directory of the shared workspace", async () => {
  await using ws = await makeWorkspace({ "sub/a.txt": "inside\n", "a.txt": "outside\n" });
  const parent = new ScriptedProvider([
    { toolCalls: [{ name: "spawn_agent", arguments: { task: CHILD_TASK, working_dir: "sub" } }] },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "spawn_agent", arguments: { task: CHILD_TASK, working_dir: "nope" } }] },
    { text: "parent done" },
  ]);
  const child = new ScriptedProvider([
    { toolCalls: [{ name: "read_file", arguments: { file_path: "a.txt" } }] },
    { toolCalls: [{ name: "write_file", arguments: { file_path: "out.txt", content: "x" } }] },
    { text: "read it" },
  ]);
  const t = scriptedSession(ws, [], {
    provider: new RoutingProvider({ [PARENT_TASK]: parent, [CHILD_TASK]: child }),
  });
  await t.session.submit(PARENT_TASK);
  const read = child.requests[1].messages.at(-1)!.content[0];
  assert.ok(read.kind === "tool_result" && read.toolResult.content.includes("inside"));
  assert.equal(await Deno.readTextFile(`${ws.dir}/sub/out.txt`), "x");
  const system = JSON.stringify(child.requests[0].messages[0]);
  assert.ok(system.includes(`Working directory: ${ws.dir}/sub`));
  const results = t.session.history.filter((h) => h.kind === "tool_results");
  const refused = results[2];
  assert.ok(refused.kind === "tool_results" && refused.results[0].isError);
  assert.match(refused.results[0].content, /working_dir nope is not a usable directory/);
  await t.session.close();
});
