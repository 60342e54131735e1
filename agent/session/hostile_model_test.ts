/**
 * The session loop against a hostile or broken model server (a real HTTP
 * server on 127.0.0.1 speaking a provider's wire format through the real
 * adapter): bad tool calls, a model that never stops, repeats itself, says
 * nothing, talks and calls at once, fails mid-stream or stops answering.
 * Whatever happens, the session ends or goes on as the spec says, stores what
 * happened, and never leaves a tool call without its result in the history.
 */
import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { anthropicProfile } from "../profiles/providers.ts";
import { agentCatalog } from "../records.ts";
import {
  makeWorkspace,
  recordEvents,
  scriptedSession,
  type Workspace,
} from "../testing/harness.ts";
import { DIALECTS, type WireCall } from "../llm/testdata/dialects.ts";
import {
  type HostileHandler,
  hostileProvider,
  HostileServer,
} from "../llm/testdata/hostile_server.ts";
import type { ProviderKind } from "../llm/providers.ts";
import type { SessionEvent } from "./events.ts";
import type { HistoryEntry } from "./history.ts";
import { Session } from "./session.ts";
import type { SessionConfig } from "./config.ts";

const sseHeaders = { "content-type": "text/event-stream" };

/** A streamed answer in `kind`'s wire format. */
const answer = (events: readonly string[]) =>
  new Response(events.join(""), { headers: sseHeaders });

/** Every assistant entry with tool calls is followed at once by one result per call, by id. */
function assertEveryCallAnswered(history: readonly HistoryEntry[]): void {
  history.forEach((entry, index) => {
    if (entry.kind !== "assistant" || entry.toolCalls.length === 0) return;
    const next = history[index + 1];
    assert.equal(next?.kind, "tool_results", `entry ${index + 1} answers the calls of ${index}`);
    if (next?.kind !== "tool_results") return;
    const ids = entry.toolCalls.map((c) => c.callId);
    assert.equal(new Set(ids).size, ids.length, `unique call ids: ${ids.join(",")}`);
    assert.deepEqual(next.results.map((r) => r.callId), ids);
  });
}

interface Run {
  readonly session: Session;
  readonly events: SessionEvent[];
  readonly store: MemoryStore;
  readonly ended: Promise<void>;
}

function hostileSession(
  ws: Workspace,
  server: HostileServer,
  kind: ProviderKind,
  config: Partial<SessionConfig> = {},
): Run {
  const store = new MemoryStore();
  const session = new Session({
    provider: hostileProvider(kind, server),
    profile: anthropicProfile({ model: "test-model" }),
    env: ws.env,
    store,
    persistence: "required",
    detectQuestions: false,
    ...config,
  });
  return { session, store, ...recordEvents(session) };
}

/** The stored records, as `type` or `type:kind`. */
async function storedRecords(run: Run): Promise<string[]> {
  const turns = await run.store.listTurns(run.session.contextId!);
  return turns.map((turn) => {
    const value = agentCatalog.decode(turn)!.value as { kind?: string };
    const type = turn.typeId.replace("forge.agent.", "");
    return value.kind ? `${type}:${value.kind}` : type;
  });
}

/** An answer of `kind` calling `calls`, then "done". */
function callsThenDone(kind: ProviderKind, calls: readonly WireCall[]): HostileHandler {
  return (_, n) =>
    answer(n === 0 ? DIALECTS[kind].toolCallEvents(calls) : DIALECTS[kind].textEvents("done"));
}

for (const kind of ["anthropic", "openai-compatible"] as const) {
  Deno.test(`hostile model (${kind}): duplicate ids, an unknown tool and broken arguments each get an error result, and the next request pairs every call with its result`, async () => {
    await using ws = await makeWorkspace();
    await using server = HostileServer.start(callsThenDone(kind, [
      { id: "dup", name: "read_file", args: '{"file_path": ' },
      { id: "dup", name: "read_file", args: '["not", "an", "object"]' },
      { id: "odd", name: "no_such_tool", args: "{}" },
    ]));
    const run = hostileSession(ws, server, kind);
    const result = await run.session.submit("go");
    assert.equal(result.stopReason, "completed");
    assert.equal(result.text, "done");
    const history = run.session.history;
    assertEveryCallAnswered(history);
    const results = history.find((h) => h.kind === "tool_results");
    assert.ok(results?.kind === "tool_results");
    assert.deepEqual(results.results.map((r) => r.callId), ["dup", "dup_2", "odd"]);
    assert.ok(results.results.every((r) => r.isError), "each call failed, and says so");
    assert.match(results.results[2].content, /Unknown tool: no_such_tool/);
    // The second request carries each call and its result under the same id.
    const wire = JSON.stringify(server.bodies[1]);
    for (const id of ["dup", "dup_2", "odd"]) {
      assert.ok(wire.split(`"${id}"`).length - 1 >= 2, `${id} is sent as a call and a result`);
    }
    await run.session.close();
    // The calls run in parallel, so their start and end records interleave.
    const records = await storedRecords(run);
    const count = (name: string) => records.filter((r) => r === name).length;
    assert.equal(count("tool_call_lifecycle:started"), 3);
    assert.equal(count("tool_call_lifecycle:ended"), 3);
    assert.equal(count("tool_results_turn"), 1);
    assert.deepEqual(records.slice(0, 3), [
      "session_lifecycle:started",
      "user_turn",
      "assistant_turn",
    ]);
    assert.deepEqual(records.slice(-3), [
      "tool_results_turn",
      "assistant_turn",
      "session_lifecycle:ended",
    ]);
  });
}

Deno.test("hostile model: a model that never stops calling tools ends at the round limit, every call answered and stored", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  await using server = HostileServer.start((_, n) =>
    answer(DIALECTS.anthropic.toolCallEvents([
      {
        id: `c${n}`,
        name: "read_file",
        args: JSON.stringify({ file_path: "a.txt", offset: n + 1 }),
      },
    ]))
  );
  const run = hostileSession(ws, server, "anthropic", { maxToolRoundsPerInput: 3 });
  const result = await run.session.submit("loop forever");
  assert.equal(result.stopReason, "round_limit");
  assert.equal(result.rounds, 3);
  assert.equal(server.requests, 3);
  assert.ok(run.events.some((e) => e.kind === "model_call_limit"));
  assertEveryCallAnswered(run.session.history);
  assert.equal(run.session.history.at(-1)?.kind, "system");
  // The session goes on: the next input is a new budget.
  assert.equal(run.session.state, "idle");
  await run.session.close();
  const records = await storedRecords(run);
  assert.equal(records.filter((r) => r === "tool_results_turn").length, 3);
  assert.deepEqual(records.slice(-2), ["system_turn", "session_lifecycle:ended"]);
});

Deno.test("hostile model: the same call over and over earns a loop-detection warning, then the model-call limit", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  await using server = HostileServer.start(() =>
    answer(DIALECTS.anthropic.toolCallEvents([
      { id: "same", name: "read_file", args: '{"file_path":"a.txt"}' },
    ]))
  );
  const run = hostileSession(ws, server, "anthropic", {
    loopDetectionWindow: 3,
    maxModelCalls: 5,
  });
  const result = await run.session.submit("read it");
  assert.equal(result.stopReason, "model_call_limit");
  assert.equal(run.events.filter((e) => e.kind === "loop_detection").length, 1);
  const warning = run.session.history.find((h) => h.kind === "steering");
  assert.ok(warning?.kind === "steering" && warning.source === "loop_detection");
  // The warning reached the model.
  assert.match(JSON.stringify(server.bodies.at(-1)), /Loop detected/);
  // The model repeated the id "same" in every answer: each round's calls are
  // answered in their own turn, so the ids never clash within one.
  assertEveryCallAnswered(run.session.history);
  await run.session.close();
});

Deno.test("hostile model: an empty answer completes the input with empty text, stored as an assistant turn", async () => {
  await using ws = await makeWorkspace();
  await using server = HostileServer.start(() => answer(DIALECTS.anthropic.textEvents("")));
  const run = hostileSession(ws, server, "anthropic");
  const result = await run.session.submit("say nothing");
  assert.equal(result.stopReason, "completed");
  assert.equal(result.text, "");
  assert.deepEqual(run.session.history.map((h) => h.kind), ["user", "assistant"]);
  await run.session.close();
  assert.ok((await storedRecords(run)).includes("assistant_turn"));
});

Deno.test("hostile model: text together with tool calls keeps the text and runs the calls", async () => {
  await using ws = await makeWorkspace({ "a.txt": "alpha\n" });
  const chat = DIALECTS["openai-compatible"];
  await using server = HostileServer.start((_, n) =>
    answer(
      n === 0
        ? [
          chat.textEvents("Let me look.")[0],
          ...chat.toolCallEvents([{ id: "c1", name: "read_file", args: '{"file_path":"a.txt"}' }]),
        ]
        : chat.textEvents("It says alpha."),
    )
  );
  const run = hostileSession(ws, server, "openai-compatible");
  const result = await run.session.submit("what is in a.txt");
  assert.equal(result.text, "It says alpha.");
  const first = run.session.history[1];
  assert.ok(first.kind === "assistant");
  assert.equal(first.text, "Let me look.");
  assert.equal(first.toolCalls.length, 1);
  const results = run.session.history[2];
  assert.ok(results.kind === "tool_results" && /alpha/.test(results.results[0].content));
  assertEveryCallAnswered(run.session.history);
  await run.session.close();
});

Deno.test("hostile model: a stream that fails mid-answer fails the input with the typed error, closes the session and stores the failure, with no call left unanswered", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const anthropic = DIALECTS.anthropic;
  const toolEvents = anthropic.toolCallEvents([
    { id: "late", name: "read_file", args: '{"file_path":"a.txt"}' },
  ]);
  await using server = HostileServer.start((_, n) =>
    answer(
      n === 0
        ? anthropic.toolCallEvents([{ id: "c1", name: "read_file", args: '{"file_path":"a.txt"}' }])
        // A tool call starts, then the provider fails.
        : [...toolEvents.slice(0, 2), ...anthropic.errorMidStream.events.slice(1)],
    )
  );
  const run = hostileSession(ws, server, "anthropic");
  await assert.rejects(run.session.submit("go"), (error: Error & { code?: string }) => {
    assert.equal(error.code, "overloaded");
    return true;
  });
  await run.ended;
  assert.equal(run.session.finalState, "failed");
  const failure = run.events.find((e) => e.kind === "error");
  assert.ok(failure?.kind === "error" && /Overloaded/.test(failure.message));
  assert.deepEqual(run.session.history.map((h) => h.kind), ["user", "assistant", "tool_results"]);
  assertEveryCallAnswered(run.session.history);
  const records = await storedRecords(run);
  assert.equal(records.at(-1), "session_lifecycle:ended");
  assert.equal(records.filter((r) => r === "assistant_turn").length, 1, "no half answer stored");
});

Deno.test("hostile model: a server that stops answering is ended by abort(); the session stores the abort and no dangling call", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  await using server = HostileServer.start((_, n) =>
    n === 0
      ? answer(DIALECTS.anthropic.toolCallEvents([
        { id: "c1", name: "read_file", args: '{"file_path":"a.txt"}' },
      ]))
      : server.never()
  );
  const run = hostileSession(ws, server, "anthropic");
  const submitted = run.session.submit("go");
  while (server.requests < 2) await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  run.session.abort();
  const result = await submitted;
  assert.equal(result.stopReason, "aborted");
  assert.ok(Date.now() - started < 2000, "the hanging call was cut at once");
  await run.ended;
  assert.equal(run.session.finalState, "aborted");
  assertEveryCallAnswered(run.session.history);
  assert.equal(run.session.history.at(-1)?.kind, "system");
  const records = await storedRecords(run);
  assert.deepEqual(records.slice(-2), ["system_turn", "session_lifecycle:ended"]);
});

Deno.test("hostile model: any provider's repeated call ids are made unique before the calls run", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const t = scriptedSession(ws, [
    {
      toolCalls: [
        { callId: "x", name: "read_file", arguments: { file_path: "a.txt" } },
        { callId: "x", name: "no_such_tool" },
      ],
    },
    { text: "done" },
  ]);
  await t.session.submit("go");
  assertEveryCallAnswered(t.session.history);
  const results = t.session.history.find((h) => h.kind === "tool_results");
  assert.ok(results?.kind === "tool_results");
  assert.deepEqual(results.results.map((r) => r.callId), ["x", "x_2"]);
  assert.deepEqual(results.results.map((r) => r.isError), [false, true]);
  await t.session.close();
});
