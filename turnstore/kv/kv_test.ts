import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { KvStore } from "./store.ts";
import { openKvStore } from "./mod.ts";
import type { CommitStats } from "./budget.ts";
import type { StoredTurn } from "../core/types.ts";
import { isTurnStoreError } from "../core/errors.ts";
import {
  MAX_CHECKS,
  MAX_COMMIT_BYTES,
  MAX_COMMIT_KEY_BYTES,
  MAX_MUTATIONS,
  MAX_VALUE_BYTES,
} from "./limits.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { KV_CONNECT_TARGETS } from "./test_util.ts";

const te = new TextEncoder();
const td = new TextDecoder();

async function tempFile(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-test-" });
  return {
    path: `${dir}/forge.kv`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function openFile(path: string, onCommit?: (s: CommitStats) => void): Promise<KvStore> {
  return new KvStore(await Deno.openKv(path), { onCommit });
}

function append(store: KvStore, contextId: string, text: string, extra: object = {}) {
  return store.appendTurn({
    contextId,
    typeId: "test.item",
    typeVersion: 1,
    payload: te.encode(text),
    ...extra,
  });
}

/** Checks that `turns` (oldest first) form one unbroken chain from depth 1 with growing ids. */
function assertChain(turns: readonly StoredTurn[]) {
  assert.equal(turns[0].parentTurnId, "0");
  turns.forEach((t, i) => {
    assert.equal(t.depth, i + 1, `turn ${t.turnId} sits at depth ${i + 1}`);
    if (i > 0) {
      assert.equal(t.parentTurnId, turns[i - 1].turnId, "each turn's parent is the one before");
      assert.ok(BigInt(t.turnId) > BigInt(t.parentTurnId), "a child's id exceeds its parent's");
    }
  });
  assert.equal(new Set(turns.map((t) => t.turnId)).size, turns.length, "ids are unique");
}

Deno.test("two handles on one file appending concurrently to one context lose nothing", async () => {
  await using file = await tempFile();
  const a = await openFile(file.path);
  const b = await openFile(file.path);
  try {
    const ctx = await a.createContext();
    const n = 40;
    const results = await Promise.all(
      Array.from(
        { length: n * 2 },
        (_, i) => append(i % 2 ? b : a, ctx.contextId, `${i % 2 ? "b" : "a"}${i}`),
      ),
    );
    const listed = await a.listTurns(ctx.contextId, { limit: 1000 });
    assert.equal(listed.length, n * 2);
    assertChain(listed);
    assert.deepEqual(
      new Set(listed.map((t) => t.turnId)),
      new Set(results.map((t) => t.turnId)),
      "every append returned the turn that is stored",
    );
    const texts = new Set(listed.map((t) => td.decode(t.payload)));
    assert.equal(texts.size, n * 2, "every payload is stored once");
    assert.deepEqual(await b.getHead(ctx.contextId), await a.getHead(ctx.contextId));
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("an append through a handle with a stale head lands on the real head", async () => {
  await using file = await tempFile();
  const a = await openFile(file.path);
  const b = await openFile(file.path);
  try {
    const ctx = await a.createContext();
    const t1 = await append(a, ctx.contextId, "1");
    const t2 = await append(b, ctx.contextId, "2");
    const t3 = await append(a, ctx.contextId, "3"); // a still believes t1 is the head
    assert.equal(t3.parentTurnId, t2.turnId);
    assert.equal(t3.depth, 3);
    const t4 = await append(b, ctx.contextId, "4", { parentTurnId: t3.turnId });
    // a learned t4 from elsewhere: its compare-and-set must succeed despite its cache.
    const t5 = await append(a, ctx.contextId, "5", { parentTurnId: t4.turnId });
    assert.equal(t5.parentTurnId, t4.turnId);
    await assert.rejects(
      append(b, ctx.contextId, "x", { parentTurnId: t4.turnId }),
      (e) => isTurnStoreError(e, "Conflict") && e.message.includes(t5.turnId),
    );
    assertChain(await b.listTurns(ctx.contextId));
    assert.equal(t1.depth, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a key written by another handle to a context this handle created is still found", async () => {
  await using file = await tempFile();
  const a = await openFile(file.path);
  const b = await openFile(file.path);
  let onlyA = 0;
  const a2 = await openFile(file.path, () => onlyA++);
  try {
    // a created the context and knows its keys without reading; b's write must undo that.
    const ctx = await a.createContext();
    const first = await append(a, ctx.contextId, "one", { idempotencyKey: "k1" });
    const byB = await append(b, ctx.contextId, "two", { idempotencyKey: "k2" });
    const again = await append(a, ctx.contextId, "two", { idempotencyKey: "k2" });
    assert.equal(again.deduplicated, true);
    assert.equal(again.turnId, byB.turnId);
    await assert.rejects(
      append(a, ctx.contextId, "other", { idempotencyKey: "k2" }),
      (e) => isTurnStoreError(e, "Conflict"),
    );
    // Keys this handle wrote itself are answered from what it knows.
    const own = await a2.createContext();
    const t = await append(a2, own.contextId, "x", { idempotencyKey: "mine" });
    const commits = onlyA;
    const replay = await append(a2, own.contextId, "x", { idempotencyKey: "mine" });
    assert.equal(replay.deduplicated, true);
    assert.equal(replay.turnId, t.turnId);
    assert.equal(onlyA, commits, "a replay commits nothing");
    await assert.rejects(
      append(a2, own.contextId, "y", { idempotencyKey: "mine" }),
      (e) => isTurnStoreError(e, "Conflict"),
    );
    const turns = await b.listTurns(ctx.contextId);
    assert.deepEqual(turns.map((t) => td.decode(t.payload)), ["one", "two"]);
    assert.equal(first.depth, 1);
    assert.equal((await b.listTurns(own.contextId)).length, 1);
  } finally {
    await a.close();
    await b.close();
    await a2.close();
  }
});

Deno.test("appends from another process on the same file interleave without loss", async () => {
  await using file = await tempFile();
  const store = await openFile(file.path);
  try {
    const ctx = await store.createContext();
    const n = 30;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-kv",
        "--allow-read",
        "--allow-write",
        "--config",
        fromFileUrl(new URL("../../deno.json", import.meta.url)),
        fromFileUrl(new URL("./testdata/append_child.ts", import.meta.url)),
        file.path,
        ctx.contextId,
        String(n),
        "child",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const mine = [];
    for (let i = 0; i < n; i++) mine.push(await append(store, ctx.contextId, `parent${i}`));
    const { code, stderr } = await child.output();
    assert.equal(code, 0, td.decode(stderr));
    const listed = await store.listTurns(ctx.contextId, { limit: 1000 });
    assert.equal(listed.length, 2 * n);
    assertChain(listed);
    const texts = listed.map((t) => td.decode(t.payload));
    assert.equal(texts.filter((t) => t.startsWith("child")).length, n);
    assert.equal(texts.filter((t) => t.startsWith("parent")).length, n);
  } finally {
    await store.close();
  }
});

for (const target of KV_CONNECT_TARGETS) {
  Deno.test(`every commit stays within the KV Connect limits (${target.name}), and concurrent appends share commits`, async () => {
    const { kv, cleanup } = await target.open();
    const commits: CommitStats[] = [];
    // No limits given: KV_CONNECT_LIMITS, the default.
    const store = new KvStore(kv, { onCommit: (s) => commits.push(s) });
    try {
      const contexts = await Promise.all(Array.from({ length: 14 }, () => store.createContext()));
      const root = (await store.putBlob(te.encode("tree"))).hash;
      commits.length = 0;
      const big = new Uint8Array(40 * 1024).fill(5); // inline, but 20 of them exceed a commit
      const appends = contexts.flatMap((ctx, c) =>
        Array.from({ length: 20 }, (_, i) =>
          store.appendTurn({
            contextId: ctx.contextId,
            typeId: "test.limits",
            typeVersion: 1,
            payload: i % 5 === 0 ? big : te.encode(`c${c}-${i}`),
            idempotencyKey: `key-${i}`,
            fsRootHash: i % 7 === 0 ? root : undefined,
          }))
      );
      const results = await Promise.all(appends);
      assert.equal(results.length, 14 * 20);
      assert.ok(
        commits.length < results.length / 4,
        `${results.length} concurrent appends took ${commits.length} commits`,
      );
      const large = new Uint8Array(3_000_000).map((_, i) => (i * 13) & 0xff);
      const t = await store.appendTurn({
        contextId: contexts[0].contextId,
        typeId: "test.large",
        typeVersion: 1,
        payload: large,
      });
      assert.deepEqual((await store.getTurn(t.turnId)).payload, large);
      await store.putBlob(large.subarray(1000));
      for (const s of commits) {
        assert.ok(s.checks <= MAX_CHECKS, `checks ${s.checks}`);
        assert.ok(s.mutations <= MAX_MUTATIONS, `mutations ${s.mutations}`);
        assert.ok(s.bytes <= MAX_COMMIT_BYTES, `bytes ${s.bytes}`);
        assert.ok(s.keyBytes <= MAX_COMMIT_KEY_BYTES, `key bytes ${s.keyBytes}`);
        assert.ok(s.largestValue <= MAX_VALUE_BYTES, `value ${s.largestValue}`);
      }
      for (const ctx of contexts) assertChain(await store.listTurns(ctx.contextId));
    } finally {
      await store.close();
      await cleanup();
    }
  });
}

Deno.test("a registry bundle larger than one KV value publishes and reads back", async () => {
  const store = new KvStore(await Deno.openKv(":memory:"));
  try {
    const types: RegistryBundle["types"] = {};
    for (let i = 0; i < 600; i++) {
      types[`test.big.type${i}`] = {
        versions: {
          "1": {
            fields: {
              "1": { name: "text", type: "string", doc: "x".repeat(100) },
              "2": { name: "n", type: "u64" },
            },
          },
        },
      };
    }
    const bundle: RegistryBundle = { registry_version: 1, bundle_id: "test.big", types };
    assert.ok(JSON.stringify(bundle).length > 64 * 1024, "the bundle exceeds a KV value");
    assert.deepEqual(await store.publishRegistryBundle(bundle), { created: true });
    assert.deepEqual(await store.publishRegistryBundle(structuredClone(bundle)), {
      created: false,
    });
    assert.deepEqual((await store.getRegistryBundle("test.big"))?.types, types);
  } finally {
    await store.close();
  }
});

Deno.test("an append that fails after writing its chunks leaves no broken turn", async () => {
  await using file = await tempFile();
  let store = await openFile(file.path);
  try {
    const ctx = await store.createContext();
    const before = await append(store, ctx.contextId, "kept");
    const large = new Uint8Array(500_000).map((_, i) => (i * 7) & 0xff);
    // The chunks are written, then the turn commit is refused: only
    // unreferenced chunks remain.
    await assert.rejects(
      store.appendTurn({
        contextId: ctx.contextId,
        parentTurnId: "0",
        typeId: "test.large",
        typeVersion: 1,
        payload: large,
      }),
      (e) => isTurnStoreError(e, "Conflict"),
    );
    await store.close();
    store = await openFile(file.path);
    assert.deepEqual(await store.getHead(ctx.contextId), {
      contextId: ctx.contextId,
      headTurnId: before.turnId,
      headDepth: 1,
    });
    const again = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.large",
      typeVersion: 1,
      payload: large,
    });
    assert.deepEqual((await store.getTurn(again.turnId)).payload, large);
  } finally {
    await store.close();
  }
});

Deno.test("a filesystem root is inherited across fork points, and the nearest one wins", async () => {
  const store = new KvStore(await Deno.openKv(":memory:"));
  try {
    const main = await store.createContext();
    const [, m2, m3] = [
      await append(store, main.contextId, "m1"),
      await append(store, main.contextId, "m2"),
      await append(store, main.contextId, "m3"),
    ];
    const rootA = (await store.putBlob(te.encode("tree A"))).hash;
    const rootB = (await store.putBlob(te.encode("tree B"))).hash;
    await store.attachFs(m2.turnId, rootA);
    const fork = await store.forkContext(m3.turnId);
    const f1 = await append(store, fork.contextId, "f1");
    const forkOfFork = await store.forkContext(f1.turnId);
    const g1 = await append(store, forkOfFork.contextId, "g1");
    assert.equal(await store.getFsRoot(g1.turnId), rootA, "two fork points up");
    await store.attachFs(f1.turnId, rootB);
    assert.equal(await store.getFsRoot(g1.turnId), rootB, "the nearest ancestor's root");
    assert.equal(await store.getFsRoot(m3.turnId), rootA, "the original line is untouched");
  } finally {
    await store.close();
  }
});

Deno.test("close waits for queued appends, and they survive reopen", async () => {
  await using file = await tempFile();
  const store = await openFile(file.path);
  const ctx = await store.createContext();
  const pending = Array.from({ length: 10 }, (_, i) => append(store, ctx.contextId, `q${i}`));
  await store.close();
  const done = await Promise.all(pending);
  const reopened = await openFile(file.path);
  try {
    const listed = await reopened.listTurns(ctx.contextId);
    assert.deepEqual(listed.map((t) => t.turnId).sort(), done.map((t) => t.turnId).sort());
    await assert.rejects(
      append(store, ctx.contextId, "late"),
      (e) => isTurnStoreError(e, "Backend"),
    );
  } finally {
    await reopened.close();
  }
});

Deno.test("openKvStore opens a file (making its directory) and :memory:, and refuses an empty target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-open-" });
  try {
    const path = `${dir}/nested/data/forge.kv`;
    const store = await openKvStore(path);
    assert.equal(store.backend, "kv");
    const ctx = await store.createContext();
    await store.close();
    const again = await openKvStore(path);
    assert.equal((await again.getHead(ctx.contextId)).headDepth, 0);
    await again.close();
    const mem = await openKvStore(":memory:");
    assert.equal((await mem.createContext()).headDepth, 0);
    await mem.close();
    await assert.rejects(openKvStore(""), (e) => isTurnStoreError(e, "InvalidInput"));
    await assert.rejects(
      openKvStore(`${dir}/nested/`),
      (e) => isTurnStoreError(e, "InvalidInput") && e.message.includes("directory"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getTurn finds every turn, whether its id continues a run or starts one; ids past a run are unknown", async () => {
  await using file = await tempFile();
  const a = await openFile(file.path);
  const b = await openFile(file.path);
  try {
    const [x, y] = [await a.createContext(), await a.createContext()];
    const turns = [];
    for (let i = 0; i < 12; i++) {
      // a: long runs on x, interleaved with y; b: its own block, on both contexts
      turns.push(await append(a, x.contextId, `ax${i}`));
      if (i % 3 === 0) turns.push(await append(a, y.contextId, `ay${i}`));
      if (i % 4 === 0) turns.push(await append(b, i % 8 ? x.contextId : y.contextId, `b${i}`));
    }
    turns.push(...await Promise.all([0, 1, 2].map((i) => append(b, x.contextId, `bc${i}`))));
    for (const t of turns) {
      const got = await a.getTurn(t.turnId);
      assert.equal(got.turnId, t.turnId);
      assert.equal(got.depth, t.depth);
      assert.equal(td.decode(got.payload), td.decode(t.payload));
    }
    const highest = turns.reduce((m, t) => (BigInt(t.turnId) > m ? BigInt(t.turnId) : m), 0n);
    for (const unknown of [highest + 1n, highest + 500n]) {
      await assert.rejects(
        a.getTurn(String(unknown)),
        (e) => isTurnStoreError(e, "NotFound") && e.message.includes(String(unknown)),
      );
    }
    assertChain(await b.listTurns(x.contextId));
    assertChain(await b.listTurns(y.contextId));
  } finally {
    await a.close();
    await b.close();
  }
});
