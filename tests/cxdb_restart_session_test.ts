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
import { recordWrites, storedWriteNumbers } from "./write_numbers.ts";
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

/** The turns the server stored for a context, as the numbers of the writes that made them. */
const stored = (url: string, contextId: string, number: Map<string, number>) =>
  storedWriteNumbers(url, contextId, number, agentCatalog);

for (const mode of ["required", "best_effort"] as const) {
  Deno.test(`persistence ${mode}: a CXDB restart inside the retry policy is invisible, and nothing is stored twice`, async () => {
    await using ws = await makeWorkspace();
    await using peer = await startPeer();
    const raw = await openCxdbStore(peer.url);
    const { store, number } = recordWrites(raw);
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
    const sequence = await stored(peer.url, t.session.contextId!, number);
    assert.deepEqual(sequence, sequence.map((_, i) => i + 1), "every record once, in order");
    assert.ok(sequence.length >= 8, `${sequence.length} records`);
    await raw.close();
  });
}

Deno.test("persistence required: a CXDB server that stays down fails the input with a PersistenceError naming the record", async () => {
  await using ws = await makeWorkspace();
  await using peer = await startPeer();
  const raw = await openCxdbStore(`${peer.url}&attempts=2&timeoutMs=2000`);
  const { store, number } = recordWrites(raw);
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
  const sequence = await stored(peer.url, t.session.contextId!, number);
  assert.deepEqual(sequence, sequence.map((_, i) => i + 1), "what was stored is one unbroken run");
  await raw.close();
});

Deno.test("persistence best_effort: a CXDB server down for a while gives warnings, the session goes on, and later records chain on", async () => {
  await using ws = await makeWorkspace();
  await using peer = await startPeer();
  const raw = await openCxdbStore(`${peer.url}&attempts=2&timeoutMs=2000`);
  const { store, number } = recordWrites(raw);
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
  const sequence = await stored(peer.url, t.session.contextId!, number);
  assert.equal(new Set(sequence).size, sequence.length, "nothing stored twice");
  assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), "in call order");
  assert.ok(sequence.at(-1)! > sequence.length, "some records were lost while the server was down");
  await raw.close();
});
