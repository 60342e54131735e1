import assert from "node:assert/strict";
import { z } from "zod";
import { defineTool, ok } from "../tools/define.ts";
import { anthropicProfile, geminiProfile, openaiProfile } from "../profiles/providers.ts";
import { createProfile } from "../profiles/profile.ts";
import { kinds, makeWorkspace, scriptedSession } from "../testing/harness.ts";
import { messageText } from "../llm/messages.ts";
import type { LlmRequest } from "../llm/types.ts";
import { Session } from "./session.ts";
import { SessionError } from "./config.ts";
import { ScriptedProvider } from "../llm/scripted.ts";
import type { RegisteredTool } from "../tools/types.ts";

const lastUserText = (request: LlmRequest) =>
  request.messages.filter((m) => m.role === "user").map(messageText).at(-1);

Deno.test("a text-only answer completes the input, with events bracketing every step", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "Hello there, nothing to do." }]);
  const result = await t.session.submit("say hi");
  assert.equal(result.stopReason, "completed");
  assert.equal(result.text, "Hello there, nothing to do.");
  assert.equal(t.session.state, "idle");
  await t.session.close();
  await t.ended;
  assert.deepEqual(kinds(t.events), [
    "session_start",
    "user_input",
    "assistant_text_end",
    "processing_end",
    "session_end",
  ]);
  const deltas = t.events.filter((e) => e.kind === "assistant_text_delta");
  assert.ok(deltas.length >= 2, "the answer streamed as several deltas");
  assert.equal(deltas.map((e) => (e as { delta: string }).delta).join(""), result.text);
});

Deno.test("tool calls run against the real workspace and their results go back to the model", async () => {
  await using ws = await makeWorkspace({ "notes.txt": "alpha\nbeta\n" });
  const t = scriptedSession(ws, [
    { toolCalls: [{ name: "read_file", arguments: { file_path: `${ws.dir}/notes.txt` } }] },
    {
      toolCalls: [{
        name: "write_file",
        arguments: { file_path: `${ws.dir}/out.txt`, content: "written\n" },
      }],
    },
    { text: "done" },
  ]);
  const result = await t.session.submit("copy things");
  assert.equal(result.rounds, 2);
  assert.equal(await Deno.readTextFile(`${ws.dir}/out.txt`), "written\n");
  const second = t.provider.requests[1];
  const toolMessage = second.messages.at(-1)!;
  assert.equal(toolMessage.role, "tool");
  const part = toolMessage.content[0];
  assert.ok(part.kind === "tool_result" && part.toolResult.content.includes("beta"));
  assert.deepEqual(
    t.session.history.map((h) => h.kind),
    ["user", "assistant", "tool_results", "assistant", "tool_results", "assistant"],
  );
  await t.session.close();
});

Deno.test("the model sees truncated tool output while tool_call_end carries the full output", async () => {
  const big = "x".repeat(5_000);
  await using ws = await makeWorkspace({ "big.txt": big });
  const t = scriptedSession(
    ws,
    [{ toolCalls: [{ name: "read_file", arguments: { file_path: "big.txt" } }] }, { text: "ok" }],
    { toolOutputLimits: { read_file: 1_000 } },
  );
  await t.session.submit("read big.txt");
  const end = t.events.find((e) => e.kind === "tool_call_end");
  assert.ok(end?.kind === "tool_call_end");
  assert.ok(end.output.includes(big), "the event has all 5000 characters");
  assert.equal(end.truncated, true);
  const sent = t.provider.requests[1].messages.at(-1)!.content[0];
  assert.ok(sent.kind === "tool_result");
  assert.ok(sent.toolResult.content.length < 1_500, "the model got about 1000 characters");
  assert.match(sent.toolResult.content, /truncated/i);
  await t.session.close();
});

Deno.test("max_tool_rounds_per_input stops the loop and emits model_call_limit", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a" });
  const call = { name: "read_file", arguments: { file_path: "a.txt" } };
  const t = scriptedSession(ws, [{ toolCalls: [call] }, { toolCalls: [call] }, {
    toolCalls: [call],
  }], { maxToolRoundsPerInput: 2, enableLoopDetection: false });
  const result = await t.session.submit("loop forever");
  assert.equal(result.stopReason, "round_limit");
  assert.equal(result.rounds, 2);
  assert.equal(t.provider.requests.length, 2, "no third model call");
  const limit = t.events.find((e) => e.kind === "model_call_limit");
  assert.ok(limit?.kind === "model_call_limit" && limit.limit === "max_tool_rounds_per_input");
  assert.equal(t.session.history.at(-1)?.kind, "system");
  await t.session.close();
});

Deno.test("max_model_calls counts model calls across inputs", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "one" }, { text: "two" }], { maxModelCalls: 2 });
  assert.equal((await t.session.submit("1")).stopReason, "completed");
  assert.equal((await t.session.submit("2")).stopReason, "completed");
  const third = await t.session.submit("3");
  assert.equal(third.stopReason, "model_call_limit");
  assert.equal(t.provider.requests.length, 2);
  await t.session.close();
});

/** A tool that runs a callback, for tests that act in the middle of a round. */
function hookTool(name: string, hook: () => void | Promise<void>): RegisteredTool {
  return defineTool({
    name,
    description: "test hook",
    schema: z.object({ tag: z.string().optional() }),
    async execute() {
      await hook();
      return ok(`${name} ran`);
    },
  });
}

Deno.test("steer() injects a message after the current tool round, as a user message", async () => {
  await using ws = await makeWorkspace();
  const ref = {} as { s: Session };
  const profile = anthropicProfile({
    model: "m",
    extraTools: [hookTool("nudge", () => ref.s.steer("use the other file"))],
  });
  const t = scriptedSession(ws, [{ toolCalls: [{ name: "nudge" }] }, { text: "switched" }], {
    profile,
  });
  ref.s = t.session;
  const session = t.session;
  await session.submit("start");
  assert.equal(lastUserText(t.provider.requests[1]), "use the other file");
  const steering = session.history.find((h) => h.kind === "steering");
  assert.ok(steering?.kind === "steering" && steering.source === "host");
  const order = kinds(t.events);
  const toolEnd = order.indexOf("tool_call_end");
  const injected = order.indexOf("steering_injected");
  assert.ok(toolEnd >= 0, `tool_call_end is emitted: ${order.join(", ")}`);
  assert.ok(injected >= 0, `steering_injected is emitted: ${order.join(", ")}`);
  assert.ok(injected > toolEnd, "the steering message comes after the tool round");
  await session.close();
});

Deno.test("a steering message queued while idle is delivered at the next submit", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "ok" }]);
  t.session.steer("be brief");
  await t.session.submit("hello");
  const users = t.provider.requests[0].messages.filter((m) => m.role === "user").map(messageText);
  assert.deepEqual(users, ["hello", "be brief"]);
  await t.session.close();
});

Deno.test("followUp() runs after the current input completes", async () => {
  await using ws = await makeWorkspace();
  const ref = {} as { s: Session };
  const profile = anthropicProfile({
    model: "m",
    extraTools: [hookTool("later", () => ref.s.followUp("now the tests"))],
  });
  const t = scriptedSession(ws, [
    { toolCalls: [{ name: "later" }] },
    { text: "first done" },
    { text: "tests done" },
  ], { profile });
  ref.s = t.session;
  const session = t.session;
  const result = await session.submit("do the code");
  assert.equal(result.inputs, 2);
  assert.equal(result.text, "tests done");
  assert.equal(lastUserText(t.provider.requests[2]), "now the tests");
  assert.equal(kinds(t.events).filter((k) => k === "processing_end").length, 1);
  await session.close();
});

Deno.test("repeating tool calls trigger a loop-detection steering turn", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a" });
  const same = { toolCalls: [{ name: "read_file", arguments: { file_path: "a.txt" } }] };
  const t = scriptedSession(ws, [same, same, same, same, { text: "giving up" }], {
    loopDetectionWindow: 4,
  });
  await t.session.submit("read it");
  const detection = t.events.filter((e) => e.kind === "loop_detection");
  assert.equal(detection.length, 1);
  const warning = t.session.history.find((h) => h.kind === "steering");
  assert.ok(warning?.kind === "steering" && warning.source === "loop_detection");
  assert.match(lastUserText(t.provider.requests[4])!, /Loop detected: the last 4 tool calls/);
  await t.session.close();
});

Deno.test("alternating calls are a loop too, while varied calls are not", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a", "b.txt": "b", "c.txt": "c" });
  const read = (f: string) => ({ toolCalls: [{ name: "read_file", arguments: { file_path: f } }] });
  const t = scriptedSession(
    ws,
    [read("a.txt"), read("b.txt"), read("c.txt"), read("a.txt"), { text: "." }],
    { loopDetectionWindow: 4 },
  );
  await t.session.submit("varied");
  assert.equal(t.events.filter((e) => e.kind === "loop_detection").length, 0);
  await t.session.close();
  const u = scriptedSession(
    ws,
    [read("a.txt"), read("b.txt"), read("a.txt"), read("b.txt"), { text: "." }],
    { loopDetectionWindow: 4 },
  );
  await u.session.submit("alternating");
  assert.equal(u.events.filter((e) => e.kind === "loop_detection").length, 1);
  await u.session.close();
});

/** Two tools that each wait for the other to have started: only parallel execution finishes. */
function rendezvousTools(): { tools: RegisteredTool[]; log: string[] } {
  const log: string[] = [];
  let arrivals = 0;
  let release!: () => void;
  const both = new Promise<void>((r) => (release = r));
  const tool = (name: string) =>
    hookTool(name, async () => {
      log.push(`${name} start`);
      if (++arrivals === 2) release();
      await Promise.race([both, new Promise((r) => setTimeout(r, 200))]);
      log.push(`${name} end`);
    });
  return { tools: [tool("left"), tool("right")], log };
}

Deno.test("tool calls of one response run in parallel when the profile allows it", async () => {
  await using ws = await makeWorkspace();
  const { tools, log } = rendezvousTools();
  const profile = anthropicProfile({ model: "m", extraTools: tools });
  assert.equal(profile.supportsParallelToolCalls, true);
  const t = scriptedSession(ws, [{ toolCalls: [{ name: "left" }, { name: "right" }] }, {
    text: "ok",
  }], { profile });
  await t.session.submit("both");
  assert.deepEqual(
    log.slice(0, 2),
    ["left start", "right start"],
    "both started before either ended",
  );
  const results = t.session.history.find((h) => h.kind === "tool_results");
  assert.ok(results?.kind === "tool_results");
  assert.deepEqual(
    results.results.map((r) => r.toolName),
    ["left", "right"],
    "results in call order",
  );
  await t.session.close();
});

Deno.test("without parallel support, tool calls run one after another", async () => {
  await using ws = await makeWorkspace();
  const { tools, log } = rendezvousTools();
  const profile = createProfile({
    id: "custom",
    model: "m",
    tools,
    baseInstructions: "test",
    supportsParallelToolCalls: false,
  });
  const t = scriptedSession(ws, [{ toolCalls: [{ name: "left" }, { name: "right" }] }, {
    text: "ok",
  }], { profile });
  await t.session.submit("both");
  assert.deepEqual(log, ["left start", "left end", "right start", "right end"]);
  await t.session.close();
});

Deno.test("an unknown tool or bad arguments become error results the model sees", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [
    { toolCalls: [{ name: "no_such_tool" }, { name: "read_file", arguments: { nope: 1 } }] },
    { text: "recovered" },
  ]);
  const result = await t.session.submit("try");
  assert.equal(result.text, "recovered");
  const results = t.session.history.find((h) => h.kind === "tool_results");
  assert.ok(results?.kind === "tool_results");
  assert.ok(results.results.every((r) => r.isError));
  assert.match(results.results[0].content, /no_such_tool/);
  assert.match(results.results[1].content, /file_path|nope/);
  await t.session.close();
});

Deno.test("abort during a tool stops the loop, kills the command and closes the session", async () => {
  await using ws = await makeWorkspace();
  const controller = new AbortController();
  const ref = {} as { s: Session };
  const profile = anthropicProfile({
    model: "m",
    extraTools: [hookTool("pull_plug", () => controller.abort())],
  });
  const t = scriptedSession(ws, [
    {
      toolCalls: [{ name: "pull_plug" }, {
        name: "shell",
        arguments: { command: "sleep 20; echo late" },
      }],
    },
    { text: "never asked" },
  ], { profile, signal: controller.signal });
  ref.s = t.session;
  const session = t.session;
  const started = Date.now();
  const result = await session.submit("run");
  assert.equal(result.stopReason, "aborted");
  assert.ok(Date.now() - started < 10_000, "the sleep was killed");
  assert.equal(t.provider.requests.length, 1, "no model call after the abort");
  assert.equal(session.state, "closed");
  await t.ended;
  const end = t.events.at(-1);
  assert.ok(end?.kind === "session_end" && end.finalState === "aborted");
  await assert.rejects(
    () => session.submit("again"),
    (e) => e instanceof SessionError && e.code === "Closed",
  );
});

Deno.test("reasoning effort is sent with each request and can change between inputs", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "a" }, { text: "b" }, { text: "c" }], {
    reasoningEffort: "low",
  });
  await t.session.submit("1");
  t.session.setReasoningEffort("high");
  await t.session.submit("2");
  t.session.setReasoningEffort(null);
  await t.session.submit("3");
  assert.deepEqual(t.provider.requests.map((r) => r.reasoningEffort), ["low", "high", undefined]);
  assert.throws(() => t.session.setReasoningEffort("max" as never), /reasoningEffort must be/);
  await t.session.close();
});

Deno.test("a model error fails the input, emits error and closes the session", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ error: { code: "auth", message: "bad key" } }]);
  await assert.rejects(() => t.session.submit("hi"), /bad key/);
  assert.equal(t.session.state, "closed");
  await t.ended;
  const error = t.events.find((e) => e.kind === "error");
  assert.ok(error?.kind === "error" && error.code === "auth");
  assert.equal(t.session.finalState, "failed");
});

Deno.test("submitting while processing is refused as Busy", async () => {
  await using ws = await makeWorkspace();
  const ref = {} as { s: Session };
  let busy: unknown;
  const profile = anthropicProfile({
    model: "m",
    extraTools: [hookTool("reenter", async () => {
      busy = await ref.s.submit("nested").catch((e) => e);
    })],
  });
  const t = scriptedSession(ws, [{ toolCalls: [{ name: "reenter" }] }, { text: "ok" }], {
    profile,
  });
  ref.s = t.session;
  const session = t.session;
  await session.submit("outer");
  assert.ok(busy instanceof SessionError && busy.code === "Busy");
  await session.close();
});

Deno.test("a bad configuration is refused with InvalidConfig naming the setting", () => {
  const provider = new ScriptedProvider([]);
  const profile = anthropicProfile();
  const env = { workingDirectory: () => "/" } as never;
  for (
    const [bad, pattern] of [
      [{ maxModelCalls: -1 }, /maxModelCalls must be an integer of 0 or more/],
      [{ loopDetectionWindow: 0 }, /loopDetectionWindow must be a positive integer/],
      [{ persistence: "required" }, /persistence "required" needs a store/],
      [{ persistence: "maybe" }, /persistence must be/],
    ] as const
  ) {
    assert.throws(
      () => new Session({ provider, profile, env, ...bad } as never),
      (e) => e instanceof SessionError && e.code === "InvalidConfig" && pattern.test(e.message),
    );
  }
});

Deno.test("each profile offers its aligned tools, and custom tools override by name", () => {
  const names = (p: { toolRegistry: { names(): string[] } }) => p.toolRegistry.names();
  assert.ok(names(openaiProfile()).includes("apply_patch"));
  assert.ok(!names(openaiProfile()).includes("edit_file"));
  assert.ok(names(anthropicProfile()).includes("edit_file"));
  assert.ok(!names(anthropicProfile()).includes("apply_patch"));
  assert.ok(names(geminiProfile()).includes("list_dir"));
  assert.ok(names(geminiProfile()).includes("read_many_files"));
  const mine = hookTool("read_file", () => {});
  const profile = anthropicProfile({ extraTools: [mine] });
  assert.equal(profile.toolRegistry.get("read_file"), mine, "latest registration wins");
  assert.equal(anthropicProfile().defaultCommandTimeoutMs, 120_000);
});

Deno.test("a per-tool timeout cancels a slow tool and the model gets an error result", async () => {
  await using ws = await makeWorkspace();
  const slow = defineTool({
    name: "slow",
    description: "waits for its signal",
    schema: z.object({}),
    execute: (_args, ctx) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(ok("finished")), 5_000);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(ok("cancelled"));
        });
      }),
  });
  const t = scriptedSession(ws, [{ toolCalls: [{ name: "slow" }] }, { text: "ok" }], {
    profile: anthropicProfile({ model: "m", extraTools: [slow] }),
    toolTimeoutsMs: { slow: 50 },
  });
  const started = Date.now();
  await t.session.submit("go");
  assert.ok(Date.now() - started < 4_000);
  const results = t.session.history.find((h) => h.kind === "tool_results");
  assert.ok(results?.kind === "tool_results");
  assert.equal(results.results[0].isError, true);
  assert.match(results.results[0].content, /50 ms/);
  await t.session.close();
});

Deno.test("a history beyond 80% of the context window emits a context warning", async () => {
  await using ws = await makeWorkspace();
  const profile = createProfile({
    id: "tiny",
    model: "m",
    tools: [],
    baseInstructions: "test",
    contextWindowSize: 100,
  });
  const t = scriptedSession(ws, [{ text: "y".repeat(400) }], { profile });
  await t.session.submit("x".repeat(100));
  const warning = t.events.find((e) => e.kind === "warning");
  assert.ok(warning?.kind === "warning" && warning.source === "context_window");
  assert.match(warning.message, /Context usage at ~\d+% of context window/);
  await t.session.close();
});
