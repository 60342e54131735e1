/**
 * An agent session persisting to a CXDB server that restarts in the middle of
 * the session, in every persistence mode, as agent/README.md documents it:
 * a restart the retry policy covers is invisible; a server that stays down
 * fails the input clearly in `required` and becomes warnings in
 * `best_effort`, which goes on; nothing is ever stored twice.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { startPeer } from "../cxdb/testing/peer.ts";
import { openCxdbStore } from "../cxdb/store/store.ts";
import { agentCatalog } from "../agent/records.ts";
import { makeWorkspace, scriptedSession } from "../agent/testing/harness.ts";
import { defineTool, ok } from "../agent/tools/define.ts";
import type { RegisteredTool } from "../agent/tools/types.ts";
import { anthropicProfile } from "../agent/profiles/providers.ts";
import { PersistenceError } from "../agent/session/persistence.ts";
import type { ScriptedReply } from "../agent/llm/scripted.ts";

function hookTool(name: string, hook: () => Promise<void>): RegisteredTool {
  return defineTool({
    name,
    description: "test hook",
    schema: z.object({}),
    async execute() {
      await hook();
      return ok(`${name} ran`);
    },
  });
}

const script: ScriptedReply[] = [
  { text: "first", toolCalls: [{ name: "outage", arguments: {} }] },
  { text: "after the outage", toolCalls: [{ name: "noop", arguments: {} }] },
  { text: "all done" },
];

/**
 * The stored records of a context, in chain order. Records no longer carry a
 * sequence number (the DAG orders them), so a record stored twice shows as a
 * repeated content hash (a re-sent append is byte for byte the same), and
 * call order as the records' own times never going back.
 */
async function stored(url: string, contextId: string) {
  await using store = await openCxdbStore(url);
  const turns = await store.listTurns(contextId, { limit: 1000 });
  return turns.map((t) => ({
    typeId: t.typeId,
    hash: t.contentHash,
    value: agentCatalog.decode(t)!.value,
  }));
}

type Stored = Awaited<ReturnType<typeof stored>>;

/** Nothing stored twice, and in call order. */
function onceInOrder(records: Stored, what: string): void {
  assert.equal(new Set(records.map((r) => r.hash)).size, records.length, `${what}: nothing twice`);
  const times = records.map((r) => r.value.at as number);
  assert.deepEqual(times, [...times].sort((a, b) => a - b), `${what}: in call order`);
}

/** The assistant texts stored, in order. */
const texts = (records: Stored) =>
  records.filter((r) => r.typeId === "forge.agent.assistant_turn").map((r) => r.value.text);

for (const mode of ["required", "best_effort"] as const) {
  Deno.test(`persistence ${mode}: a CXDB restart inside the retry policy is invisible, and nothing is stored twice`, async () => {
    await using ws = await makeWorkspace();
    await using peer = await startPeer();
    const store = await openCxdbStore(peer.url);
    const profile = anthropicProfile({
      model: "m",
      extraTools: [
        hookTool("outage", async () => {
          await peer.stop();
          setTimeout(() => peer.start(), 250);
        }),
        hookTool("noop", async () => {}),
      ],
    });
    const t = scriptedSession(ws, script, { profile, store, persistence: mode });
    const result = await t.session.submit("go");
    assert.equal(result.text, "all done");
    await t.session.close();
    await t.ended;
    assert.deepEqual(t.events.filter((e) => e.kind === "warning"), [], "no warning");
    const records = await stored(peer.url, t.session.contextId!);
    onceInOrder(records, "every record");
    assert.deepEqual(texts(records), ["first", "after the outage", "all done"]);
    assert.ok(records.length >= 8, `${records.length} records`);
    await store.close();
  });
}

Deno.test("persistence required: a CXDB server that stays down fails the input with a PersistenceError naming the record", async () => {
  await using ws = await makeWorkspace();
  await using peer = await startPeer();
  const store = await openCxdbStore(`${peer.url}&attempts=2&timeoutMs=2000`);
  const profile = anthropicProfile({
    model: "m",
    extraTools: [hookTool("outage", () => peer.stop()), hookTool("noop", async () => {})],
  });
  const t = scriptedSession(ws, script, {
    profile,
    store,
    persistence: "required",
    retry: { attempts: 2, backoffMs: 10 },
  });
  const error = await t.session.submit("go").catch((e) => e);
  assert.ok(error instanceof PersistenceError, String(error));
  assert.match(error.message, /persisting [a-z_]+ of session .*cannot connect to CXDB/);
  assert.equal(t.session.state, "closed");
  await t.ended;
  assert.equal(t.session.finalState, "failed");
  assert.ok(t.events.some((e) => e.kind === "error" && e.code === "Persistence"));
  peer.start();
  const records = await stored(peer.url, t.session.contextId!);
  onceInOrder(records, "what was stored");
  assert.ok(
    texts(records).every((t) => t === "first"),
    "nothing the session did after the outage was stored",
  );
  await store.close();
});

Deno.test("persistence best_effort: a CXDB server down for a while gives warnings, the session goes on, and later records chain on", async () => {
  await using ws = await makeWorkspace();
  await using peer = await startPeer();
  const store = await openCxdbStore(`${peer.url}&attempts=2&timeoutMs=2000`);
  const profile = anthropicProfile({
    model: "m",
    extraTools: [
      hookTool("outage", () => peer.stop()),
      hookTool("noop", async () => peer.start()),
    ],
  });
  const t = scriptedSession(ws, script, {
    profile,
    store,
    persistence: "best_effort",
    retry: { attempts: 2, backoffMs: 10 },
    awaitEachWrite: true,
  });
  const result = await t.session.submit("go");
  assert.equal(result.text, "all done", "the session went on");
  await t.session.close();
  await t.ended;
  const warnings = t.events.filter((e) => e.kind === "warning");
  assert.ok(warnings.length > 0, "the lost writes were reported");
  const records = await stored(peer.url, t.session.contextId!);
  onceInOrder(records, "what was stored");
  assert.ok(
    !records.some((r) =>
      r.typeId === "forge.agent.tool_call_lifecycle" && r.value.toolName === "outage" &&
      r.value.kind === "ended"
    ),
    "the outage tool's end, written while the server was down, was lost",
  );
  assert.equal(texts(records).at(-1), "all done", "later records chain on");
  await store.close();
});
