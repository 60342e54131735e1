import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import { LOCAL_KV_LIMITS } from "./limits.ts";
import type { CommitStats } from "./budget.ts";
import {
  isTurnPack,
  lastTurnOfRow,
  readTurnRow,
  TURN_PACK_MAX_BYTES,
  turnInRow,
  TurnPackBuilder,
  turnsInRow,
} from "./turn_pack.ts";
import { encodeTurnValue, readTurnValue } from "./turn_value.ts";
import type { TurnValue } from "./keys.ts";
import { isTurnStoreError } from "../core/errors.ts";
import type { AppendedTurn, StoredTurn } from "../core/types.ts";
import { appendTurns, withFileStore, withStoreFile } from "./test_util.ts";

const te = new TextEncoder();
const td = new TextDecoder();

function turnValue(id: number, text: string): TurnValue {
  const inline = te.encode(text);
  return {
    id: BigInt(id),
    parent: BigInt(id - 1),
    type: "test.item",
    version: 1,
    hash: "ab".repeat(32),
    size: inline.length,
    inline,
  };
}

const appendMany = appendTurns;

/** The raw turn rows of a context: first depth and turn count of each. */
async function rowsOf(path: string, contextId: string): Promise<[number, number][]> {
  const kv = await Deno.openKv(path);
  try {
    const rows: [number, number][] = [];
    for await (const e of kv.list({ prefix: ["turn", BigInt(contextId)] })) {
      rows.push([e.key[2] as number, turnsInRow(e.value)]);
    }
    return rows;
  } finally {
    kv.close();
  }
}

/** Checks that `turns` are the history's depths lo.. with their texts. */
function assertTexts(turns: readonly StoredTurn[], lo: number, text: (depth: number) => string) {
  turns.forEach((t, i) => {
    assert.equal(t.depth, lo + i);
    assert.equal(td.decode(t.payload).replace(/\.+$/, ""), text(lo + i), `depth ${lo + i}`);
  });
}

Deno.test("a turn pack round-trips its turns; one turn is stored as its own row", () => {
  const values = [1, 2, 3].map((i) => turnValue(i, `turn ${i}`));
  const one = new TurnPackBuilder(5);
  one.add(encodeTurnValue(values[0]));
  const single = one.encode();
  assert.ok(!isTurnPack(single), "a pack of one is a plain turn row");
  assert.deepEqual(readTurnRow(single), [readTurnValue(single)]);
  assert.deepEqual(lastTurnOfRow(single), { id: 1n, count: 1 });

  const three = new TurnPackBuilder(5);
  for (const v of values) three.add(encodeTurnValue(v));
  const packed = three.encode();
  assert.ok(isTurnPack(packed));
  assert.equal(packed.length, three.bytes);
  assert.equal(turnsInRow(packed), 3);
  const back = readTurnRow(packed);
  assert.deepEqual(back.map((v) => td.decode(v.inline)), ["turn 1", "turn 2", "turn 3"]);
  assert.deepEqual(back.map((v) => v.id), [1n, 2n, 3n]);
  assert.equal(turnInRow(packed, 1)?.id, 2n);
  assert.equal(turnInRow(packed, 3), undefined);
  assert.equal(turnInRow(packed, -1), undefined);
  assert.deepEqual(lastTurnOfRow(packed), { id: 3n, count: 3 });
  // An object row (the oldest format) reads as a pack of one.
  assert.deepEqual(readTurnRow(values[0]), [values[0]]);
  assert.equal(turnInRow(values[0], 0), values[0]);
  assert.equal(turnInRow(values[0], 1), undefined);
  assert.deepEqual(lastTurnOfRow(values[0]), { id: 1n, count: 1 });
});

Deno.test("a pack stops taking turns at its byte cap", () => {
  const pack = new TurnPackBuilder(1);
  const row = encodeTurnValue(turnValue(1, "x".repeat(2_000)));
  let n = 0;
  while (pack.fits(row.length)) pack.add(row), n++;
  assert.equal(n, Math.floor((TURN_PACK_MAX_BYTES - 3) / (row.length + 4)));
  assert.ok(pack.encode().length <= TURN_PACK_MAX_BYTES);
});

Deno.test("a turn pack cut short or with a wrong count is a Backend error", () => {
  const pack = new TurnPackBuilder(1);
  for (let i = 1; i <= 3; i++) pack.add(encodeTurnValue(turnValue(i, `turn ${i}`)));
  const bytes = pack.encode();
  const cases = [
    bytes.subarray(0, 2),
    bytes.subarray(0, bytes.length - 1),
    Uint8Array.of(...bytes.subarray(0, 2), 9, ...bytes.subarray(3)), // claims 9 turns
    Uint8Array.of(...bytes, 0), // a trailing byte
  ];
  for (const damaged of cases) {
    assert.throws(
      () => readTurnRow(damaged),
      (e) => isTurnStoreError(e) && e.code === "Backend",
      `${damaged.length} bytes`,
    );
  }
  assert.throws(() => lastTurnOfRow(cases[2]), (e) => isTurnStoreError(e) && e.code === "Backend");
});

Deno.test("appends in flight on one context are written as packs, not as a row per turn", async () => {
  await withStoreFile(async (path) => {
    const commits: CommitStats[] = [];
    const store = new KvStore(await Deno.openKv(path), {
      limits: LOCAL_KV_LIMITS,
      onCommit: (stats) => commits.push(stats),
    });
    const { contextId } = await store.createContext();
    commits.length = 0;
    const written = await appendMany(store, contextId, 1, 301);
    await store.close();
    const rows = await rowsOf(path, contextId);
    assert.equal(rows.reduce((n, [, count]) => n + count, 0), 300);
    // ~110-byte rows: ~70 to a pack of 8 KiB.
    assert.ok(rows.length <= 30, `${rows.length} rows in ${commits.length} commits`);
    assert.ok(rows.some(([, count]) => count > 1), "some rows are packs");
    // The rows partition the depths: each starts where the one before ended.
    let next = 1;
    for (const [first, count] of rows) assert.equal(first, next), next += count;
    // The turn rows and a run row per id block: nothing else.
    const mutations = commits.reduce((n, c) => n + c.mutations, 0);
    assert.ok(mutations <= rows.length + 2, `${mutations} mutations`);

    const fresh = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const head = await fresh.getHead(contextId);
      assert.equal(head.headDepth, 300);
      assert.equal(head.headTurnId, written.at(-1)!.turnId);
      // Every turn by id, wherever it sits in its pack.
      for (const t of written) {
        const got = await fresh.getTurn(t.turnId);
        assert.equal(got.depth, t.depth);
        assert.equal(td.decode(got.payload), `turn ${t.depth}`);
      }
      // Pages that start and end inside packs and across them.
      for (const limit of [1, 7, 40, 41, 100, 300]) {
        let before: string | undefined;
        let seen = 0;
        let expectEnd = 300;
        for (;;) {
          const page = await fresh.listTurns(contextId, { limit, beforeTurnId: before });
          if (page.length === 0) break;
          assert.equal(page.at(-1)!.depth, expectEnd);
          assertTexts(page, expectEnd - page.length + 1, (d) => `turn ${d}`);
          seen += page.length;
          expectEnd -= page.length;
          before = page[0].turnId;
        }
        assert.equal(seen, 300, `pages of ${limit}`);
      }
      // Appends continue after the last pack.
      const more = await appendMany(fresh, contextId, 301, 311);
      assert.equal(more[0].parentTurnId, head.headTurnId);
      assert.equal(more.at(-1)!.depth, 310);
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("packs split before their byte cap and read back across the split", async () => {
  await withFileStore(async (store, path) => {
    const { contextId } = await store.createContext();
    // 2 KB turns: three to a pack of 8 KiB.
    await appendMany(store, contextId, 1, 41, 2_000);
    const rows = await rowsOf(path, contextId);
    assert.equal(rows.length, 14, `${rows.length} rows for 40 turns of 2 KB`);
    assert.ok(rows.every(([, count]) => count <= 3));
    assert.ok(rows.filter(([, count]) => count === 3).length >= 12);
    const all = await store.listTurns(contextId, { limit: 100 });
    assertTexts(all, 1, (d) => `turn ${d}`);
    assert.equal(all.length, 40);
  });
});

Deno.test("a fork whose base lies inside a pack sees the base's history up to it, and no further", async () => {
  await withFileStore(async (store, path) => {
    const { contextId } = await store.createContext();
    const written = await appendMany(store, contextId, 1, 61);
    assert.ok(
      (await rowsOf(path, contextId)).some(([first, count]) => first < 25 && first + count > 26),
    );
    const base = written[24]; // depth 25, inside a pack
    const fork = await store.forkContext(base.turnId);
    assert.equal(fork.headDepth, 25);
    assert.equal(fork.headTurnId, base.turnId);
    const own = await appendMany(store, fork.contextId, 0, 5);
    assert.equal(own[0].parentTurnId, base.turnId);
    assert.equal(own[0].depth, 26);
    const history = await store.listTurns(fork.contextId, { limit: 100 });
    assert.equal(history.length, 30);
    assertTexts(history.slice(0, 25), 1, (d) => `turn ${d}`);
    assertTexts(history.slice(25), 26, (d) => `turn ${d - 26}`);
    // A page that ends at the fork point, inside the base's pack.
    const page = await store.listTurns(fork.contextId, { limit: 5, beforeTurnId: own[0].turnId });
    assertTexts(page, 21, (d) => `turn ${d}`);
    // The base context goes on past the fork point.
    assert.equal((await store.getHead(contextId)).headDepth, 60);
  });
});

Deno.test("fs roots and idempotency keys of turns inside packs are found by a fresh handle", async () => {
  await withStoreFile(async (path) => {
    const store = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const blob = (await store.putBlob(te.encode("a tree"))).hash;
    const { contextId } = await store.createContext();
    const written = await appendMany(
      store,
      contextId,
      1,
      41,
      0,
      (i) => ({ idempotencyKey: `k${i}`, ...(i === 17 ? { fsRootHash: blob } : {}) }),
    );
    await store.close();
    assert.ok((await rowsOf(path, contextId)).some(([, count]) => count > 1));
    const fresh = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      assert.equal(await fresh.getFsRoot(written[16].turnId), blob);
      assert.equal(await fresh.getFsRoot(written[30].turnId), blob, "inherited from depth 17");
      assert.equal(await fresh.getFsRoot(written[5].turnId), undefined);
      const again = await appendMany(
        fresh,
        contextId,
        1,
        41,
        0,
        (i) => ({ idempotencyKey: `k${i}`, ...(i === 17 ? { fsRootHash: blob } : {}) }),
      );
      assert.ok(again.every((t) => t.deduplicated));
      assert.deepEqual(again.map((t) => t.turnId), written.map((t) => t.turnId));
      assert.deepEqual(again.map((t) => t.depth), written.map((t) => t.depth));
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("single-turn rows and packs mix in one context and read as one history", async () => {
  await withFileStore(async (store, path) => {
    const { contextId } = await store.createContext();
    // One at a time (single rows, as older versions wrote), then in bursts (packs).
    for (let i = 1; i <= 5; i++) await appendMany(store, contextId, i, i + 1);
    await appendMany(store, contextId, 6, 26);
    for (let i = 26; i <= 28; i++) await appendMany(store, contextId, i, i + 1);
    await appendMany(store, contextId, 29, 41);
    const rows = await rowsOf(path, contextId);
    assert.deepEqual(rows.slice(0, 5), [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]]);
    assert.ok(rows.some(([, count]) => count > 1));
    const all = await store.listTurns(contextId, { limit: 100 });
    assertTexts(all, 1, (d) => `turn ${d}`);
    assert.equal(all.length, 40);
    for (const lo of [3, 5, 6, 7, 25, 26, 29, 30]) {
      const before = all[lo + 4 - 1].turnId; // pages of 4 ending just below depth lo + 4
      assertTexts(await store.listTurns(contextId, { limit: 4, beforeTurnId: before }), lo, (
        d,
      ) => `turn ${d}`);
    }
  });
});

Deno.test("two handles appending bursts to one context concurrently: packs never overlap, nothing is lost", async () => {
  await withStoreFile(async (path) => {
    const a = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const b = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const { contextId } = await a.createContext();
      const bursts: Promise<AppendedTurn[]>[] = [];
      for (let round = 0; round < 5; round++) {
        bursts.push(appendMany(a, contextId, 1000 + round * 30, 1000 + round * 30 + 30));
        bursts.push(appendMany(b, contextId, 2000 + round * 30, 2000 + round * 30 + 30));
      }
      const written = (await Promise.all(bursts)).flat();
      assert.equal(new Set(written.map((t) => t.depth)).size, 300);
      const rows = await rowsOf(path, contextId);
      let next = 1;
      for (const [first, count] of rows) assert.equal(first, next), next += count;
      assert.equal(next, 301);
      const all = await a.listTurns(contextId, { limit: 300 });
      for (let i = 1; i < all.length; i++) assert.equal(all[i].parentTurnId, all[i - 1].turnId);
      for (const t of written) {
        const got = await b.getTurn(t.turnId);
        assert.equal(got.depth, t.depth);
        assert.equal(td.decode(got.payload), td.decode(t.payload));
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("a turn read alone out of a pack does not keep the pack alive", async () => {
  await withFileStore(async (store, path) => {
    const { contextId } = await store.createContext();
    const written = await appendMany(store, contextId, 1, 31, 200);
    const fresh = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const got = await fresh.getTurn(written[20].turnId);
      assert.equal(td.decode(got.payload).replace(/\.+$/, ""), "turn 21");
      assert.equal(got.payload.buffer.byteLength, got.payload.length, "its own copy");
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("readTurnRow decodes only the turns asked for", () => {
  const pack = new TurnPackBuilder(1);
  for (let i = 1; i <= 5; i++) pack.add(encodeTurnValue(turnValue(i, `turn ${i}`)));
  const bytes = pack.encode();
  assert.deepEqual(readTurnRow(bytes, 1, 3).map((v) => v.id), [2n, 3n]);
  assert.deepEqual(readTurnRow(bytes, 3).map((v) => v.id), [4n, 5n]);
  assert.deepEqual(readTurnRow(bytes, 5), []);
  const single = encodeTurnValue(turnValue(9, "x"));
  assert.deepEqual(readTurnRow(single, 0, 1).map((v) => v.id), [9n]);
  assert.deepEqual(readTurnRow(single, 1), []);
});
