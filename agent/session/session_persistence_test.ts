import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { agentBundle, agentCatalog } from "../records.ts";
import { makeWorkspace, scriptedSession } from "../testing/harness.ts";
import { FlakyStore, throwingStore } from "../testing/stores.ts";
import { LocalExecutionEnvironment } from "../env/local.ts";
import type { ExecRequest, ExecResult } from "../env/types.ts";
import type { ScriptedReply } from "../llm/scripted.ts";
import type { SessionEvent } from "./events.ts";
import { DEFAULT_WRITE_BEHIND_HOLD, NO_HOLD, PersistenceError } from "./persistence.ts";

const script = (dir: string): ScriptedReply[] => [
  { toolCalls: [{ name: "read_file", arguments: { file_path: `${dir}/a.txt` } }] },
  {
    text: "writing",
    toolCalls: [{
      name: "write_file",
      arguments: { file_path: `${dir}/b.txt`, content: "b\n" },
    }],
  },
  { text: "all done" },
];

/** Events without what legitimately differs between runs (times, store ids, durations). */
function comparable(events: readonly SessionEvent[]) {
  return events.map((e) => {
    const {
      timestamp: _t,
      contextId: _c,
      durationMs: _d,
      ...rest
    } = e as SessionEvent & { contextId?: string; durationMs?: number };
    return rest;
  });
}

Deno.test("persistence off never touches the store", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const store = throwingStore();
  const t = scriptedSession(ws, script(ws.dir), { store, persistence: "off" });
  const result = await t.session.submit("go");
  assert.equal(result.text, "all done");
  await t.session.close();
  assert.deepEqual(store.touched, []);
  assert.equal(t.session.contextId, undefined);
});

Deno.test("with persistence off the session behaves exactly as with required: same events, same requests", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const off = scriptedSession(ws, script(ws.dir), { sessionId: "same", persistence: "off" });
  await off.session.submit("go");
  await off.session.close();
  await off.ended;
  await Deno.remove(`${ws.dir}/b.txt`);
  const store = new MemoryStore();
  const on = scriptedSession(ws, script(ws.dir), {
    sessionId: "same",
    persistence: "required",
    store,
  });
  await on.session.submit("go");
  await on.session.close();
  await on.ended;
  assert.deepEqual(comparable(on.events), comparable(off.events));
  assert.deepEqual(on.provider.requests, off.provider.requests);
  assert.ok(on.session.contextId, "the required session did write");
});

Deno.test("required mode writes one typed record per step, with deterministic keys, and publishes the bundle", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const store = new FlakyStore();
  const t = scriptedSession(ws, script(ws.dir), {
    sessionId: "s-1",
    persistence: "required",
    store,
  });
  await t.session.submit("go");
  await t.session.close();
  assert.ok(await store.getRegistryBundle(agentBundle.bundle_id));
  const turns = await store.listTurns(t.session.contextId!);
  const described = turns.map((turn) => {
    const v = agentCatalog.decode(turn)!.value;
    return v.kind ? `${turn.typeId}:${v.kind}` : turn.typeId;
  });
  assert.deepEqual(described, [
    "forge.agent.session_lifecycle:started",
    "forge.agent.user_turn",
    "forge.agent.assistant_turn",
    "forge.agent.tool_call_lifecycle:started",
    "forge.agent.tool_call_lifecycle:ended",
    "forge.agent.tool_results_turn",
    "forge.agent.assistant_turn",
    "forge.agent.tool_call_lifecycle:started",
    "forge.agent.tool_call_lifecycle:ended",
    "forge.agent.tool_results_turn",
    "forge.agent.assistant_turn",
    "forge.agent.session_lifecycle:ended",
  ]);
  assert.deepEqual(turns.map((turn) => turn.depth), turns.map((_, i) => i + 1), "one chain");
  assert.equal(store.keys[0], "forge-agent:v1|3:s-1|1|15:session_started");
  assert.equal(store.keys[2], "forge-agent:v1|3:s-1|3|14:assistant_turn");
  const ended = agentCatalog.decode(turns[4])!.value;
  assert.equal(ended.toolName, "read_file");
  assert.equal(ended.isError, false);
  assert.match(String(ended.output), /1.*a/, "the ended record holds the tool's output");
  assert.equal(t.session.headTurnId, turns.at(-1)!.turnId);
});

/**
 * How a `required` session meets a store that fails every append, by how it
 * writes: each write awaited; write-behind without a hold; write-behind held
 * until 3 records are queued (a bound only the count ends here); and the
 * default hold (5 ms or 256 records).
 */
const failingStoreCases = [
  { name: "awaitEachWrite", awaitEachWrite: true },
  { name: "write-behind, no hold", hold: NO_HOLD },
  { name: "write-behind, held until 3 records", hold: { maxMs: 60_000, maxRecords: 3 } },
  { name: "write-behind, default hold", hold: DEFAULT_WRITE_BEHIND_HOLD },
];

for (const { name, awaitEachWrite, hold } of failingStoreCases) {
  Deno.test(`required mode: a failing store fails the input with a PersistenceError and closes the session (${name})`, async () => {
    await using ws = await makeWorkspace({ "a.txt": "a\n" });
    const store = new FlakyStore();
    const attempts = 2;
    const t = scriptedSession(ws, script(ws.dir), {
      persistence: "required",
      store,
      retry: { attempts, backoffMs: 0 },
      awaitEachWrite,
      writeBehindHold: hold,
    });
    await t.session.start();
    const before = store.appendCalls;
    store.failAll = true;
    const error = await t.session.submit("go").catch((e) => e);
    assert.ok(error instanceof PersistenceError, String(error));
    assert.equal(error.event, "user_turn");
    // The event of each append the store saw after it started failing.
    const sent = store.keys.slice(before).map((key) =>
      key?.split("|").at(-1)?.replace(/^\d+:/, "")
    );
    if (hold === DEFAULT_WRITE_BEHIND_HOLD) {
      // The promise: the user turn reaches the store within one hold; until its
      // tries fail, the loop goes on and the records it queues reach the store,
      // each tried once (here at most the input's 9 other records); once the
      // writer has failed nothing more is sent or retried.
      assert.ok(sent.length <= attempts + 9, `sent: ${sent.join(", ")}`);
      assert.equal(sent.filter((event) => event === "user_turn").length, attempts);
      const keys = store.keys.slice(before);
      assert.equal(
        new Set(keys).size + attempts - 1,
        keys.length,
        `only the user turn twice: ${sent}`,
      );
    } else {
      if (awaitEachWrite) {
        assert.equal(
          t.provider.requests.length,
          0,
          "the model was not called after the failed write",
        );
        assert.deepEqual(sent, ["user_turn", "user_turn"], "two tries, then nothing more");
      } else if (hold === NO_HOLD) {
        // The failure is known before the model answers; the loop stops at its next check.
        assert.ok(t.provider.requests.length <= 1);
        assert.deepEqual(sent, ["user_turn", "user_turn"], "two tries, then nothing more");
      } else {
        // The failing user turn is held with the next two records (the model's
        // reply, the tool call's start), sent with them, and tried twice; the
        // failure is known before the tool returns, so nothing else is sent and
        // the loop stops at its next check.
        assert.deepEqual(sent, ["user_turn", "assistant_turn", "tool_call_started", "user_turn"]);
        assert.ok(sent.length <= attempts + hold!.maxRecords - 1, "within one hold");
        assert.equal(t.provider.requests.length, 1);
      }
      assert.ok(!(await Deno.stat(`${ws.dir}/b.txt`).catch(() => null)), "no later tool ran");
    }
    assert.equal(t.session.state, "closed");
    await t.ended;
    const reported = t.events.find((e) => e.kind === "error");
    assert.ok(reported?.kind === "error" && reported.code === "Persistence");
    assert.equal(t.session.finalState, "failed");
  });
}

Deno.test("the store's context opens while the environment is gathered, not after it", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  // The git snapshot (a command) waits for the context to be asked for, up to a bound: a
  // session that opened the store only after gathering would reach the bound first.
  let asked!: () => void;
  const contextAsked = new Promise<void>((resolve) => asked = resolve);
  let wasAsked = false;
  let askedBeforeGitReturned = false;
  class CountingStore extends MemoryStore {
    override createContext(...args: Parameters<MemoryStore["createContext"]>) {
      wasAsked = true;
      asked();
      return super.createContext(...args);
    }
  }
  class WaitingEnvironment extends LocalExecutionEnvironment {
    override async execCommand(request: ExecRequest): Promise<ExecResult> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise<void>((resolve) => timer = setTimeout(resolve, 2_000));
      await Promise.race([contextAsked, bound]).finally(() => clearTimeout(timer));
      askedBeforeGitReturned = wasAsked;
      return super.execCommand(request);
    }
  }
  await using env = new WaitingEnvironment({ workingDirectory: ws.dir });
  const store = new CountingStore();
  const t = scriptedSession(ws, [{ text: "done" }], { persistence: "required", store, env });
  await t.session.submit("go");
  await t.session.close();
  assert.ok(askedBeforeGitReturned, "the context was asked for while the git snapshot ran");
  const turns = await store.listTurns(t.session.contextId!);
  assert.equal(agentCatalog.decode(turns[0])!.value.kind, "started", "session_started comes first");
});

Deno.test("write-behind: a successful submit means every record of the input is stored", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const store = new MemoryStore();
  const t = scriptedSession(ws, script(ws.dir), { persistence: "required", store });
  await t.session.submit("go");
  const depth = (await store.getHead(t.session.contextId!)).headDepth;
  assert.equal(depth, 11, "started + 10 records of the input, before close");
  await t.session.close();
});

Deno.test("best_effort mode: failed writes become warnings and the session goes on", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const store = new FlakyStore();
  const t = scriptedSession(ws, script(ws.dir), {
    persistence: "best_effort",
    store,
    retry: { attempts: 2, backoffMs: 0 },
  });
  await t.session.start();
  // Every try of the session's 3rd write (first assistant turn) and 6th (first tool results).
  store.failKeysContaining.push("|3|14:assistant_turn", "|6|17:tool_results_turn");
  const result = await t.session.submit("go");
  assert.equal(result.text, "all done");
  assert.equal(await Deno.readTextFile(`${ws.dir}/b.txt`), "b\n");
  const warnings = t.events.filter((e) => e.kind === "warning");
  assert.equal(warnings.length, 2);
  assert.ok(warnings.every((w) => w.kind === "warning" && w.source === "persistence"));
  await t.session.close();
  const turns = await store.listTurns(t.session.contextId!);
  assert.equal(turns.length, 12 - 2, "all but the two lost records");
  assert.deepEqual(turns.map((x) => x.depth), turns.map((_, i) => i + 1), "in one chain");
  // The write numbers live in the idempotency keys only; the stored turns follow them in order.
  const stored = [...new Set(store.keys)].filter((k) => !/\|(3|6)\|/.test(k!));
  const numbers = stored.map((k) => Number(k!.split("|")[2]));
  assert.deepEqual(numbers, [1, 2, 4, 5, 7, 8, 9, 10, 11, 12], "in call order");
  const typeOf = (event: string) =>
    event.startsWith("session_")
      ? "forge.agent.session_lifecycle"
      : event.startsWith("tool_call_")
      ? "forge.agent.tool_call_lifecycle"
      : `forge.agent.${event}`;
  assert.deepEqual(
    turns.map((x) => x.typeId),
    stored.map((k) => typeOf(k!.split("|")[3].replace(/^\d+:/, ""))),
    "each stored turn is the write its key names",
  );
  for (const turn of turns) assert.ok(agentCatalog.decode(turn), `turn ${turn.turnId} decodes`);
});

Deno.test("a write whose acknowledgement is lost is retried with the same key and stored once", async () => {
  await using ws = await makeWorkspace({ "a.txt": "a\n" });
  const store = new FlakyStore();
  store.failureKind = "after_write";
  const t = scriptedSession(ws, script(ws.dir), {
    persistence: "required",
    store,
    retry: { attempts: 3, backoffMs: 0 },
  });
  await t.session.start();
  store.failCalls.add(store.appendCalls + 2); // the assistant turn's first try
  await t.session.submit("go");
  await t.session.close();
  const turns = await store.listTurns(t.session.contextId!);
  assert.equal(turns.length, 12, "no duplicate turn");
  assert.equal(store.appendCalls, 13, "one retry");
  const keys = store.keys.filter((k) => k?.includes("assistant_turn"));
  assert.equal(new Set(keys).size, keys.length - 1, "the retry reused its key");
});
