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

Deno.test("forge <command> --help prints that command's usage on stdout and exits 0, opening no store", async () => {
  const context: CliContext = {
    openStore: () => Promise.reject(new Error("help opened a store")),
    storeExists: () => Promise.reject(new Error("help checked a store")),
    catalogs: [attractorCatalog],
    bundles: [attractorBundle],
  };
  const flags: Record<string, RegExp> = {
    runs: /forge runs \[--status S\] \[--pipeline P\] \[--limit N\] \[--before CTX\] \[--json\]/,
    inspect: /forge inspect <run> \[--stage NODE \[--full\]\] \[--json\]/,
    sessions: /forge sessions \[--limit N\] \[--before CTX\] \[--json\]/,
    trace: /forge trace <context\|run> \[--format text\|dot\|html\|json\] \[-o\|--out FILE\]/,
    serve: /forge serve \[--port N\][^]*SIGINT or SIGTERM stops it/,
    validate: /usage: forge validate <pipeline\.dot> \[--json\][^]*exit codes: 0 valid/,
    run: /forge run <pipeline\.dot> \[--logs DIR\]/,
    resume: /forge resume <run>/,
    answer: /forge answer <run> <choice>/,
  };
  for (const [command, usage] of Object.entries(flags)) {
    for (const help of ["--help", "-h"]) {
      // Anywhere among the command's arguments, even beside a store that is not there.
      const r = await run([command, "x", help, "--store", "kv:/nowhere/forge.kv"], context);
      assert.equal(r.code, 0, `${command} ${help}: ${r.err}`);
      assert.equal(r.err, "", `${command} ${help}`);
      assert.match(r.out, usage, `${command} ${help}`);
    }
  }
  const serve = await run(["serve", "--help"], context);
  assert.doesNotMatch(serve.out, /--json/, "serve has no --json");
  assert.doesNotMatch(serve.out, /forge runs/, "one command's usage, not all");
});

Deno.test("an unknown flag is named in one line, without node's advice about '--'; the usage after it is the command's", async () => {
  const { context } = await fixture();
  for (
    const [args, first] of [
      [["--bogus"], "forge: Unknown option '--bogus'"],
      [["runs", "--bogus"], "forge runs: Unknown option '--bogus'"],
      [["trace", "1", "--bogus"], "forge trace: Unknown option '--bogus'"],
      [["validate", "x.dot", "--bogus"], "forge validate: Unknown option '--bogus'"],
      [["run", "x.dot", "--bogus"], "forge run: Unknown option '--bogus'"],
    ] as const
  ) {
    const r = await run([...args], context);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.err.split("\n")[0], first);
    assert.doesNotMatch(r.err, /To specify a positional argument/);
  }
  const runs = await run(["runs", "--limit"], context);
  assert.match(runs.err, /^forge runs: .*\n\nusage:\n {2}forge runs /);
  assert.doesNotMatch(runs.err, /forge head/, "the runs usage, not the whole command list");
});
