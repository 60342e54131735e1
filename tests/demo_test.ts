/**
 * The keyless demo does the main job end to end: a scripted agent with a
 * subagent, persisted to a Deno KV file, read back from the store alone.
 */
import assert from "node:assert/strict";
import { readSession } from "../agent/mod.ts";
import { openStore } from "../stores/mod.ts";
import { renderSession, runDemo } from "../cli/demo.ts";

Deno.test("the demo persists a session tree to a KV file that reads back whole after reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-demo-" });
  const log = console.log;
  const printed: string[] = [];
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    const url = `kv:${dir}/demo.kv`;
    const contextId = await runDemo(url, `${dir}/workspace`);
    console.log = log;
    assert.equal(
      await Deno.readTextFile(`${dir}/workspace/CHANGELOG.md`),
      "# Changelog\n\n- greet() now says hello by name.\n",
      "the agent's write_file really wrote the workspace",
    );
    await using store = await openStore(url);
    const view = await readSession(store, contextId);
    assert.equal(view.finalState, "closed");
    assert.equal(view.subagents.length, 1);
    const [sub] = view.subagents;
    assert.equal(sub.status, "completed");
    assert.equal(sub.output, "Yes: README.md says greet() says hello by name.");
    const fork = await store.getTurn(sub.forkedFromTurnId);
    const childFirst = (await store.listTurns(sub.childContextId, { limit: 10_000 }))[0];
    assert.equal(
      childFirst.turnId,
      (await store.listTurns(contextId, { limit: 10_000 }))[0].turnId,
      "the subagent's context shares the parent's history: it is a fork",
    );
    assert.ok(fork.depth >= 1);
    assert.ok(sub.session && sub.session.inheritedTurns === fork.depth);
    const text = renderSession(view);
    assert.match(text, /subagent agent-1 \(completed\)/);
    assert.ok(printed.join("\n").includes(text), "the demo printed the tree it read back");
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});
