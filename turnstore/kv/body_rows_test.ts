/**
 * Body rows: a turn payload above BODY_ROW_ABOVE (and up to INLINE_BYTES) is
 * stored at `["body", turnId]`, in the same commit as its turn row, which
 * keeps only the metadata. These tests pin the boundaries, the reads that
 * fetch body rows (pages, forks, replays), a race of two handles, a store
 * written before body rows, and the commit budget under KV Connect limits.
 */
import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import {
  BODY_ROW_ABOVE,
  COMMIT_BYTE_BUDGET,
  INLINE_BYTES,
  KV_CONNECT_LIMITS,
  LOCAL_KV_LIMITS,
  MAX_GET_MANY,
  MAX_MUTATIONS,
  MAX_VALUE_BYTES,
} from "./limits.ts";
import { bodyKey, turnKey } from "./keys.ts";
import type { CommitStats } from "./budget.ts";
import { encodeTurnValue } from "./turn_value.ts";
import { readTurnRow } from "./turn_pack.ts";
import { KV_CONNECT_TARGETS, withFileStore, withStoreFile } from "./test_util.ts";
import { walkHistory } from "../walk.ts";
import { isTurnStoreError } from "../core/errors.ts";
import type { AppendedTurn, StoredTurn } from "../core/types.ts";

/** A payload of `size` bytes whose content depends on `seed`. */
function payloadOf(size: number, seed: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 31 + seed * 7) & 0xff);
}

function append(store: KvStore, contextId: string, payload: Uint8Array, key?: string) {
  return store.appendTurn({
    contextId,
    typeId: "test.body",
    typeVersion: 1,
    payload,
    idempotencyKey: key,
  });
}

/** The body row ids of a whole store. */
async function bodyRowIds(kv: Deno.Kv): Promise<bigint[]> {
  const ids: bigint[] = [];
  for await (const e of kv.list({ prefix: ["body"] })) ids.push(e.key[1] as bigint);
  return ids;
}

/**
 * A Deno.Kv that records the size of every getMany call and, in `ranges`,
 * every range read of body rows.
 */
function countingGetMany(kv: Deno.Kv, sizes: number[], ranges: number[] = []): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "getMany") {
        return (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
          sizes.push(keys.length);
          return target.getMany(keys, options);
        };
      }
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          if ("start" in selector && selector.start[0] === "body") ranges.push(1);
          return target.list(selector, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function assertSameTurns(actual: readonly StoredTurn[], expected: readonly AppendedTurn[]) {
  assert.deepEqual(
    actual.map((t) => [t.turnId, t.parentTurnId, t.depth, t.contentHash, t.payload]),
    expected.map((t) => [t.turnId, t.parentTurnId, t.depth, t.contentHash, t.payload]),
  );
}

Deno.test("only payloads above BODY_ROW_ABOVE and up to INLINE_BYTES get a body row, in their turn's commit", async () => {
  await withStoreFile(async (path) => {
    const commits: CommitStats[] = [];
    const kv = await Deno.openKv(path);
    const store = new KvStore(kv, { limits: LOCAL_KV_LIMITS, onCommit: (s) => commits.push(s) });
    try {
      const { contextId } = await store.createContext();
      const sizes = [
        0,
        BODY_ROW_ABOVE - 1,
        BODY_ROW_ABOVE,
        BODY_ROW_ABOVE + 1,
        10_000,
        INLINE_BYTES,
        INLINE_BYTES + 1,
      ];
      const separated = new Set([BODY_ROW_ABOVE + 1, 10_000, INLINE_BYTES]);
      const written: AppendedTurn[] = [];
      const mutations: number[] = [];
      for (const [i, size] of sizes.entries()) {
        const before = commits.length;
        written.push(await append(store, contextId, payloadOf(size, i)));
        // The turn's own commit is the last; a chunked payload wrote its chunks before it.
        mutations.push(commits.at(-1)!.mutations);
        assert.ok(commits.length - before >= 1);
      }
      for (const [i, size] of sizes.entries()) {
        const turn = written[i];
        const row = (await kv.get<Uint8Array>(turnKey(BigInt(contextId), turn.depth))).value!;
        const body = await kv.get<Uint8Array>(bodyKey(BigInt(turn.turnId)));
        if (separated.has(size)) {
          assert.equal(row[0], 3, `a turn of ${size} bytes is a format-3 row`);
          assert.ok(row.length < 200, `its row holds no payload (${row.length} bytes)`);
          assert.deepEqual(body.value, turn.payload);
        } else {
          assert.equal(row[0], 1, `a turn of ${size} bytes keeps the format-1 row`);
          assert.equal(body.versionstamp, null, `no body row for ${size} bytes`);
        }
        assert.deepEqual((await store.getTurn(turn.turnId)).payload, payloadOf(size, i));
      }
      // The body row is one more mutation of the same commit, not a commit of its own.
      assert.equal(mutations[3], mutations[2] + 1);
      assertSameTurns(await store.listTurns(contextId), written);
      assert.equal((await bodyRowIds(kv)).length, separated.size);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a page mixing inline, body-row and chunked turns reads in order, with getMany calls of at most 10 keys", async () => {
  await withStoreFile(async (path) => {
    const sizes: number[] = [];
    const store = new KvStore(countingGetMany(await Deno.openKv(path), sizes), {
      limits: LOCAL_KV_LIMITS,
    });
    try {
      const { contextId } = await store.createContext();
      const sizeOf = (i: number) =>
        i % 13 === 12 ? INLINE_BYTES + 10 : i % 3 === 0 ? 50 + i : BODY_ROW_ABOVE + 1 + 37 * i;
      // Issued at once: they share commits, so small and body-row turns share packs.
      const written = await Promise.all(
        Array.from({ length: 60 }, (_, i) => append(store, contextId, payloadOf(sizeOf(i), i))),
      );
      assert.deepEqual(written.map((t) => t.depth), written.map((_, i) => i + 1));
      sizes.length = 0;
      assertSameTurns(await store.listTurns(contextId, { limit: 60 }), written);
      const separated = written.filter((_, i) => sizeOf(i) > BODY_ROW_ABOVE && i % 13 !== 12);
      assert.ok(sizes.every((n) => n <= MAX_GET_MANY), `getMany sizes ${sizes}`);
      assert.ok(
        sizes.reduce((a, b) => a + b, 0) >= separated.length,
        "every body row is read with getMany",
      );
      // Pages that start and end anywhere, inside packs or not.
      for (const limit of [1, 7, 10, 11, 25]) {
        const pages: StoredTurn[][] = [];
        for await (const page of walkHistory(store, contextId, { pageSize: limit })) {
          pages.push(page);
        }
        assertSameTurns(pages.reverse().flat(), written);
      }
      for (const turn of written) {
        assert.deepEqual((await store.getTurn(turn.turnId)).payload, turn.payload);
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("body rows of consecutive ids are one range read; interleaved ones getMany calls of at most 10 keys", async () => {
  await withStoreFile(async (path) => {
    const sizes: number[] = [];
    const ranges: number[] = [];
    const kv = await Deno.openKv(path);
    const store = new KvStore(countingGetMany(kv, sizes, ranges), { limits: LOCAL_KV_LIMITS });
    try {
      // One writer on one context: consecutive ids.
      const { contextId: alone } = await store.createContext();
      const dense: AppendedTurn[] = [];
      for (let i = 0; i < 30; i++) dense.push(await append(store, alone, payloadOf(6_000, i)));
      // Three contexts appended round by round: ids interleave.
      const three = await Promise.all([0, 1, 2].map(() => store.createContext()));
      const interleaved: AppendedTurn[][] = [[], [], []];
      for (let round = 0; round < 25; round++) {
        const turns = await Promise.all(
          three.map((c, w) => append(store, c.contextId, payloadOf(5_000 + w, round * 3 + w))),
        );
        turns.forEach((t, w) => interleaved[w].push(t));
      }
      sizes.length = 0;
      ranges.length = 0;
      assertSameTurns(await store.listTurns(alone), dense);
      assert.deepEqual(sizes, [], "no point reads for consecutive ids");
      assert.equal(ranges.length, 1, "one range read");
      for (const [w, c] of three.entries()) {
        sizes.length = 0;
        ranges.length = 0;
        assertSameTurns(await store.listTurns(c.contextId), interleaved[w]);
        assert.deepEqual(sizes, [10, 10, 5]);
        assert.equal(ranges.length, 0);
      }
      // A body row missing inside a range is named, as with point reads.
      await kv.delete(bodyKey(BigInt(dense[12].turnId)));
      await assert.rejects(
        () => store.listTurns(alone),
        (e) =>
          isTurnStoreError(e) && e.code === "Backend" &&
          e.message.includes(`turn ${dense[12].turnId}`) && /missing/.test(e.message),
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("forks and idempotent replays read body rows across fork points", async () => {
  await withFileStore(async (store) => {
    const { contextId } = await store.createContext();
    const base: AppendedTurn[] = [];
    for (let i = 0; i < 4; i++) {
      base.push(await append(store, contextId, payloadOf(8_000 + i, i), `b${i}`));
    }
    const fork = await store.forkContext(base[2].turnId);
    const own = await Promise.all(
      [0, 1, 2].map((i) => append(store, fork.contextId, payloadOf(6_000 + i, 10 + i), `f${i}`)),
    );
    assert.equal(own[0].parentTurnId, base[2].turnId);
    assertSameTurns(await store.listTurns(fork.contextId), [...base.slice(0, 3), ...own]);
    assertSameTurns(
      await store.listTurns(fork.contextId, { beforeTurnId: own[1].turnId, limit: 2 }),
      [base[2], own[0]],
    );
    // Replays return the stored payload, read from its body row.
    const replay = await append(store, contextId, payloadOf(8_001, 1), "b1");
    assert.equal(replay.deduplicated, true);
    assert.equal(replay.turnId, base[1].turnId);
    assert.deepEqual(replay.payload, base[1].payload);
    const forkReplay = await append(store, fork.contextId, payloadOf(6_002, 12), "f2");
    assert.equal(forkReplay.turnId, own[2].turnId);
    await assert.rejects(
      () => append(store, contextId, payloadOf(8_001, 99), "b1"),
      (e) => isTurnStoreError(e) && e.code === "Conflict",
    );
    // A fork of a fork at a body-row turn of the first fork.
    const deeper = await store.forkContext(own[0].turnId);
    const next = await append(store, deeper.contextId, payloadOf(5_000, 20));
    assertSameTurns(await store.listTurns(deeper.contextId), [...base.slice(0, 3), own[0], next]);
  });
});

Deno.test("two handles racing on one context with body-row turns lose nothing and leave no stray body row", async () => {
  await withStoreFile(async (path) => {
    const a = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const b = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const raw = await Deno.openKv(path);
    try {
      const { contextId } = await a.createContext();
      const appends: Promise<AppendedTurn>[] = [];
      for (let i = 0; i < 24; i++) {
        const store = i % 2 === 0 ? a : b;
        appends.push(append(store, contextId, payloadOf(BODY_ROW_ABOVE + 100 * i + 1, i)));
        if (i % 5 === 4) appends.push(append(store, contextId, payloadOf(40, i)));
      }
      const written = await Promise.all(appends);
      const listed = await b.listTurns(contextId, { limit: 100 });
      assert.equal(listed.length, written.length);
      for (let i = 1; i < listed.length; i++) {
        assert.equal(listed[i].parentTurnId, listed[i - 1].turnId, "one unbroken chain");
      }
      const byId = new Map(written.map((t) => [t.turnId, t]));
      for (const turn of listed) assert.deepEqual(turn.payload, byId.get(turn.turnId)!.payload);
      // A commit that lost the race wrote none of its rows: body rows match the turns.
      const bodies = (await bodyRowIds(raw)).map(String).sort();
      const expected = written.filter((t) => t.payload.length > BODY_ROW_ABOVE).map((t) => t.turnId)
        .sort();
      assert.deepEqual(bodies, expected);
    } finally {
      raw.close();
      await a.close();
      await b.close();
    }
  });
});

/**
 * Rewrites every turn row of format 3 as the format-1 row with its payload
 * inline, and deletes the body rows: the store an earlier version wrote.
 */
async function inlineBodies(kv: Deno.Kv): Promise<number> {
  let moved = 0;
  for await (const e of kv.list<Uint8Array>({ prefix: ["turn"] })) {
    const turns = readTurnRow(e.value);
    assert.equal(turns.length, 1, "the test writes one turn per row");
    const turn = turns[0];
    if (!turn.bodyRow) continue;
    const body = (await kv.get<Uint8Array>(bodyKey(turn.id))).value!;
    await kv.atomic()
      .set(e.key, encodeTurnValue({ ...turn, bodyRow: false, inline: body }))
      .delete(bodyKey(turn.id))
      .commit();
    moved++;
  }
  return moved;
}

Deno.test("a store written before body rows reads, replays its keys and grows with body rows", async () => {
  await withStoreFile(async (path) => {
    const first = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const { contextId } = await first.createContext();
    const old: AppendedTurn[] = [];
    for (let i = 0; i < 4; i++) {
      old.push(await append(first, contextId, payloadOf(i % 2 ? 10_000 : 30, i), `k${i}`));
    }
    await first.close();
    const raw = await Deno.openKv(path);
    assert.equal(await inlineBodies(raw), 2);
    assert.deepEqual(await bodyRowIds(raw), []);
    raw.close();

    const kv = await Deno.openKv(path);
    const store = new KvStore(kv, { limits: LOCAL_KV_LIMITS });
    try {
      assertSameTurns(await store.listTurns(contextId), old);
      const replay = await append(store, contextId, payloadOf(10_000, 1), "k1");
      assert.equal(replay.deduplicated, true);
      assert.deepEqual(replay.payload, old[1].payload);
      const grown = await Promise.all(
        [4, 5, 6].map((i) => append(store, contextId, payloadOf(9_000 + i, i), `k${i}`)),
      );
      assert.equal(grown[0].parentTurnId, old[3].turnId);
      assertSameTurns(await store.listTurns(contextId), [...old, ...grown]);
      assert.deepEqual((await bodyRowIds(kv)).map(String), grown.map((t) => t.turnId));
      const fork = await store.forkContext(old[1].turnId);
      const forked = await append(store, fork.contextId, payloadOf(12_000, 7));
      assertSameTurns(await store.listTurns(fork.contextId), [old[0], old[1], forked]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a missing or damaged body row is a Backend error naming the turn", async () => {
  await withStoreFile(async (path) => {
    const kv = await Deno.openKv(path);
    const store = new KvStore(kv, { limits: LOCAL_KV_LIMITS });
    try {
      const { contextId } = await store.createContext();
      const [a, b] = await Promise.all([
        append(store, contextId, payloadOf(9_000, 1)),
        append(store, contextId, payloadOf(9_000, 2)),
      ]);
      await kv.delete(bodyKey(BigInt(a.turnId)));
      await kv.set(bodyKey(BigInt(b.turnId)), payloadOf(10, 2));
      await assert.rejects(
        () => store.getTurn(a.turnId),
        (e) =>
          isTurnStoreError(e) && e.code === "Backend" &&
          e.message.includes(`turn ${a.turnId}`) && /missing/.test(e.message),
      );
      await assert.rejects(
        () => store.getTurn(b.turnId),
        (e) =>
          isTurnStoreError(e) && e.code === "Backend" && e.message.includes(`turn ${b.turnId}`) &&
          /damaged/.test(e.message),
      );
      await assert.rejects(
        () => store.listTurns(contextId),
        (e) => isTurnStoreError(e) && e.code === "Backend",
      );
    } finally {
      await store.close();
    }
  });
});

for (const target of KV_CONNECT_TARGETS) {
  Deno.test(`under KV Connect limits (${target.name}), body rows count in every commit's budget`, async () => {
    const commits: CommitStats[] = [];
    const { kv, cleanup } = await target.open();
    const store = new KvStore(kv, { limits: KV_CONNECT_LIMITS, onCommit: (s) => commits.push(s) });
    try {
      const writers = 16;
      const contexts = await Promise.all(
        Array.from({ length: writers }, () => store.createContext()),
      );
      commits.length = 0;
      const size = INLINE_BYTES - 100; // the largest body rows: ~16 fit one commit's budget
      const written = await Promise.all(
        Array.from(
          { length: writers * 4 },
          (_, i) => append(store, contexts[i % writers].contextId, payloadOf(size, i)),
        ),
      );
      for (const c of commits) {
        assert.ok(c.checks <= KV_CONNECT_LIMITS.checks, `checks ${c.checks}`);
        assert.ok(c.mutations <= MAX_MUTATIONS, `mutations ${c.mutations}`);
        assert.ok(c.bytes <= COMMIT_BYTE_BUDGET, `bytes ${c.bytes}`);
        assert.ok(c.largestValue <= MAX_VALUE_BYTES, `largest value ${c.largestValue}`);
      }
      // Every payload byte is counted once, in the commit that wrote its body row.
      const counted = commits.reduce((n, c) => n + c.bytes, 0);
      assert.ok(counted >= written.length * size, `${counted} bytes counted`);
      assert.ok(commits.length >= Math.ceil((written.length * size) / COMMIT_BYTE_BUDGET));
      for (const turn of written) {
        assert.deepEqual((await store.getTurn(turn.turnId)).payload, turn.payload);
      }
    } finally {
      await store.close();
      await cleanup();
    }
  });
}
