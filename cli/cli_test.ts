import assert from "node:assert/strict";
import { type ForgeStore, MemoryStore } from "@forge/turnstore";
import { attractorBundle, attractorCatalog, RunLifecycle } from "@forge/attractor/records";
import { type CliContext, runCli } from "./cli.ts";

/** A store the CLI may "close" after each command without losing it. */
function keepOpen(store: ForgeStore): ForgeStore {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop === "close") return () => Promise.resolve();
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function fixture() {
  const store = new MemoryStore();
  const ctx = await store.createContext();
  const turn = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: RunLifecycle.typeId,
    typeVersion: RunLifecycle.version,
    payload: RunLifecycle.encode({
      runId: "run-1",
      graphId: "demo",
      lineageAttempt: 1,
      kind: "initialized",
      at: 1_767_000_000_000,
    }),
  });
  await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "unknown.type",
    typeVersion: 1,
    payload: new Uint8Array([1, 2, 3]),
  });
  const context: CliContext = {
    openStore: () => Promise.resolve(keepOpen(store)),
    catalogs: [attractorCatalog],
    bundles: [attractorBundle],
  };
  return { store, ctx, turn, context };
}

async function run(args: string[], context: CliContext) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, context);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("forge log prints each turn with its decoded fields", async () => {
  const { ctx, context } = await fixture();
  const r = await run(["log", ctx.contextId, "--store", "memory:"], context);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /#1 turn \d+ ← 0 {2}forge\.attractor\.run_lifecycle@2/);
  assert.match(r.out, /runId: run-1/);
  assert.match(r.out, /kind: initialized/);
  assert.match(r.out, /#2 .*unknown\.type@1\n {4}\(3 bytes, no known record type\)/);
});

Deno.test("forge show --json prints one decoded turn as JSON", async () => {
  const { turn, context } = await fixture();
  const r = await run(["show", turn.turnId, "--json"], context);
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(r.out);
  assert.equal(json.turnId, turn.turnId);
  assert.equal(json.data.graphId, "demo");
});

Deno.test("forge head names the head and depth", async () => {
  const { ctx, context } = await fixture();
  const r = await run(["head", ctx.contextId], context);
  assert.match(r.out, new RegExp(`context ${ctx.contextId}: head \\d+ at depth 2`));
});

Deno.test("forge log --all streams the whole history newest first", async () => {
  const { ctx, context } = await fixture();
  const r = await run(["log", ctx.contextId, "--all"], context);
  assert.equal(r.code, 0);
  const newer = r.out.indexOf("#2 ");
  const older = r.out.indexOf("#1 ");
  assert.ok(newer >= 0, `turn #2 is listed:\n${r.out}`);
  assert.ok(older >= 0, `turn #1 is listed:\n${r.out}`);
  assert.ok(newer < older, "newest first");
});

Deno.test("errors from the store exit 1 with the code and the id; bad usage exits 2", async () => {
  const { context } = await fixture();
  const missing = await run(["head", "999999"], context);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /NotFound: context 999999 not found/);
  assert.equal((await run(["log"], context)).code, 2);
  assert.equal((await run(["frobnicate", "1"], context)).code, 2);
  const bad = await run(["log", "1", "--limit", "0"], context);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--limit must be a whole number/);
  assert.equal((await run(["--help"], context)).code, 0);
});
