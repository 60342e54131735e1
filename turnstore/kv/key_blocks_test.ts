import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import { LOCAL_KV_LIMITS } from "./limits.ts";
import type { CommitStats } from "./budget.ts";
import { KEY_BLOCK_MAX_BYTES, KeyBlockBuilder, keyEntryBytes, readKeyBlock } from "./key_blocks.ts";
import { utf8Length } from "../core/utf8.ts";
import { KEY_BLOCK_CAP, KEY_BLOCKS_PER_CONTEXT } from "./key_index.ts";
import { isTurnStoreError } from "../core/errors.ts";
import type { AppendedTurn } from "../core/types.ts";
import { appendTurns, withFileStore, withStoreFile } from "./test_util.ts";

const te = new TextEncoder();

Deno.test("a key block round-trips its keys and turn ids, ASCII or not, up to 1 KiB keys", () => {
  const keys = [
    "a",
    "forge-agent:v1|36:abc|17|5:event",
    "clé-ünïcode-日本",
    "😀 pair",
    "x".repeat(1024),
  ];
  const block = new KeyBlockBuilder(7);
  keys.forEach((key, i) => block.add(key, 2n ** 64n - 1n - BigInt(i), utf8Length(key)));
  const bytes = block.encode();
  assert.equal(bytes.length, block.bytes);
  assert.deepEqual(
    readKeyBlock(bytes),
    keys.map((key, i) => ({ key, id: 2n ** 64n - 1n - BigInt(i) })),
  );
});

Deno.test("utf8Length counts what TextEncoder writes, lone surrogates included", () => {
  for (const s of ["", "abc", "é", "日本", "😀", "a\uD800b", "\uDC00", "x\uD83D", "mix é 😀 日"]) {
    assert.equal(utf8Length(s), te.encode(s).length, JSON.stringify(s));
  }
});

Deno.test("a key block of an unknown format, or cut short, is a Backend error", () => {
  const block = new KeyBlockBuilder(1);
  block.add("key", 5n, 3);
  const bytes = block.encode();
  for (
    const bad of [
      Uint8Array.of(9, ...bytes.subarray(1)),
      bytes.subarray(0, bytes.length - 1),
      bytes.subarray(0, 5),
      new Uint8Array(),
    ]
  ) {
    assert.throws(() => readKeyBlock(bad), (e) => isTurnStoreError(e) && e.code === "Backend");
  }
});

/** Turns from..to-1, each keyed `key-<i>`. */
function appendMany(
  store: KvStore,
  contextId: string,
  from: number,
  to: number,
): Promise<AppendedTurn[]> {
  return appendTurns(store, contextId, from, to, 0, (i) => ({ idempotencyKey: `key-${i}` }));
}

Deno.test("keyed appends in one commit write one turn pack plus one key block, and a fresh handle finds every key", async () => {
  await withStoreFile(async (path) => {
    const commits: CommitStats[] = [];
    const store = new KvStore(await Deno.openKv(path), {
      limits: LOCAL_KV_LIMITS,
      onCommit: (stats) => commits.push(stats),
    });
    const { contextId } = await store.createContext();
    commits.length = 0;
    const written = await appendMany(store, contextId, 0, 500);
    await store.close();
    const mutations = commits.reduce((n, c) => n + c.mutations, 0);
    // Turn packs (turn_pack.ts: ~70 of these turns each), a run row per id
    // block, and one key block per commit: not a row per turn, nor per key.
    assert.ok(
      mutations <= 2 + 2 * commits.length + Math.ceil(500 / 50),
      `${mutations} mutations in ${commits.length} commits`,
    );
    assert.ok(commits.length < 100, `${commits.length} commits`);

    const raw = await Deno.openKv(path);
    let rows = 0;
    for await (const _ of raw.list({ prefix: ["idem"] })) rows++;
    let blockKeys = 0;
    for await (const e of raw.list<Uint8Array>({ prefix: ["keys"] })) {
      blockKeys += readKeyBlock(e.value).length;
    }
    raw.close();
    assert.equal(rows, 0);
    assert.equal(blockKeys, 500);

    // Another handle (as after a restart): every key replays its turn, nothing is added.
    const fresh = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const again = await appendMany(fresh, contextId, 0, 500);
      assert.ok(again.every((t) => t.deduplicated));
      assert.deepEqual(again.map((t) => t.turnId), written.map((t) => t.turnId));
      assert.equal((await fresh.getHead(contextId)).headDepth, 500);
      // And its new keys continue the blocks.
      const more = await appendMany(fresh, contextId, 500, 510);
      assert.ok(more.every((t) => !t.deduplicated));
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("a key written by another handle after this one read the context's blocks is still found", async () => {
  await withStoreFile(async (path) => {
    const a = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const b = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const { contextId } = await a.createContext();
      await appendMany(a, contextId, 0, 3);
      // b reads the context's blocks once (key-0 is found there)...
      assert.equal((await appendMany(b, contextId, 0, 1))[0].deduplicated, true);
      // ...then a writes a new block, and b must find its key rather than store it twice.
      const [late] = await appendMany(a, contextId, 3, 4);
      const [again] = await appendMany(b, contextId, 3, 4);
      assert.equal(again.deduplicated, true);
      assert.equal(again.turnId, late.turnId);
      // And keys b writes are found by a.
      const [fromB] = await appendMany(b, contextId, 4, 5);
      const [seenByA] = await appendMany(a, contextId, 4, 5);
      assert.equal(seenByA.turnId, fromB.turnId);
      assert.equal(seenByA.deduplicated, true);
      assert.equal((await a.getHead(contextId)).headDepth, 5);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test(`past ${KEY_BLOCK_CAP} keys in blocks a context's keys get a row each, and both are found`, async () => {
  await withStoreFile(async (path) => {
    const store = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const total = KEY_BLOCK_CAP + 40;
    const { contextId } = await store.createContext();
    for (let i = 0; i < total; i += 512) {
      await appendMany(store, contextId, i, Math.min(total, i + 512));
    }
    await store.close();
    const raw = await Deno.openKv(path);
    let rows = 0;
    for await (const _ of raw.list({ prefix: ["idem"] })) rows++;
    let blockKeys = 0;
    for await (const e of raw.list<Uint8Array>({ prefix: ["keys"] })) {
      const bytes = e.value;
      assert.ok(bytes.length <= KEY_BLOCK_MAX_BYTES);
      blockKeys += readKeyBlock(bytes).length;
    }
    raw.close();
    assert.equal(blockKeys, KEY_BLOCK_CAP);
    assert.equal(rows, 40);

    const fresh = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const again = await appendMany(fresh, contextId, 0, total);
      assert.equal(again.filter((t) => t.deduplicated).length, total);
      assert.equal((await fresh.getHead(contextId)).headDepth, total);
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("key blocks split before Deno KV's value limit: 1 KiB keys in one commit", async () => {
  const commits: CommitStats[] = [];
  await withFileStore(async (store, path) => {
    const { contextId } = await store.createContext();
    const long = (i: number) => `${i}`.padStart(1024, "k");
    const appends = [];
    for (let i = 0; i < 200; i++) {
      appends.push(store.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: te.encode(`turn ${i}`),
        idempotencyKey: long(i),
      }));
    }
    await Promise.all(appends);
    assert.ok(commits.every((c) => c.largestValue <= 64 * 1024));
    const perBlock = Math.floor((KEY_BLOCK_MAX_BYTES - 1) / keyEntryBytes(1024));
    const raw = await Deno.openKv(path);
    let blocks = 0;
    for await (const e of raw.list<Uint8Array>({ prefix: ["keys"] })) {
      blocks++;
      assert.ok(readKeyBlock(e.value).length <= perBlock);
    }
    raw.close();
    assert.ok(blocks >= Math.ceil(200 / perBlock), `${blocks} blocks`);
    const [again] = [
      await store.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: te.encode("turn 150"),
        idempotencyKey: long(150),
      }),
    ];
    assert.equal(again.deduplicated, true);
  }, { limits: LOCAL_KV_LIMITS, onCommit: (stats) => commits.push(stats) });
});

// A handle that does not know a context's keys reads all its blocks before its
// first keyed append there: the count of blocks bounds that read.
Deno.test(`past ${KEY_BLOCKS_PER_CONTEXT} blocks a context's keys get a row each, and a fresh handle reads each block once`, async () => {
  await withStoreFile(async (path) => {
    const store = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const commits = KEY_BLOCKS_PER_CONTEXT + 10;
    const { contextId } = await store.createContext();
    // Four keyed turns per commit, as a pipeline stage writes them.
    for (let c = 0; c < commits; c++) await appendMany(store, contextId, c * 4, c * 4 + 4);
    await store.close();
    const raw = await Deno.openKv(path);
    let blocks = 0;
    for await (const _ of raw.list({ prefix: ["keys"] })) blocks++;
    let rows = 0;
    for await (const _ of raw.list({ prefix: ["idem"] })) rows++;
    raw.close();
    assert.equal(blocks, KEY_BLOCKS_PER_CONTEXT);
    assert.equal(rows, 10 * 4);

    let listed = 0;
    const kv = await Deno.openKv(path);
    const counting = new Proxy(kv, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (name !== "list") return typeof value === "function" ? value.bind(target) : value;
        return async function* (selector: Deno.KvListSelector, options?: Deno.KvListOptions) {
          for await (const entry of target.list(selector, options)) {
            if (entry.key[0] === "keys") listed++;
            yield entry;
          }
        };
      },
    });
    const fresh = new KvStore(counting, { limits: LOCAL_KV_LIMITS });
    try {
      const again = await appendMany(fresh, contextId, 0, commits * 4);
      assert.equal(again.filter((t) => t.deduplicated).length, commits * 4);
      const added = await appendMany(fresh, contextId, commits * 4, commits * 4 + 4);
      assert.ok(added.every((t) => !t.deduplicated));
      assert.equal(listed, KEY_BLOCKS_PER_CONTEXT, "each block read once");
    } finally {
      await fresh.close();
    }
  });
});
