import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import { LOCAL_KV_LIMITS } from "./limits.ts";
import type { TurnValue } from "./keys.ts";
import { encodeTurnValue, readTurnValue, turnValueLength } from "./turn_value.ts";
import { readTurnRow } from "./turn_pack.ts";
import { isTurnStoreError } from "../core/errors.ts";
import { readKeyBlock } from "./key_blocks.ts";

const te = new TextEncoder();

Deno.test("a turn record round-trips through its byte form, inline, chunked or in a body row, ASCII or not", () => {
  const values: TurnValue[] = [
    {
      id: 2n ** 64n - 1n,
      parent: 0n,
      type: "forge.agent.tool_call_started",
      version: 4_000_000_000,
      hash: "ab".repeat(32),
      size: 3,
      inline: new Uint8Array([1, 2, 3]),
    },
    {
      id: 7n,
      parent: 6n,
      type: "tést.ünïcode",
      version: 1,
      hash: "cd".repeat(32),
      size: 10_000_000,
      chunks: new Uint8Array(64).fill(9),
    },
    { id: 1n, parent: 0n, type: "t", version: 0, hash: "", size: 0, inline: new Uint8Array() },
    // The payload in its body row (format 3): the row holds no payload bytes.
    {
      id: 9n,
      parent: 8n,
      type: "t.body",
      version: 2,
      hash: "ef".repeat(32),
      size: 10_000,
      bodyRow: true,
    },
  ];
  for (const value of values) {
    const bytes = encodeTurnValue(value);
    assert.equal(bytes.length, turnValueLength(value));
    const back = readTurnValue(bytes);
    assert.deepEqual({ ...back, inline: back.inline?.slice(), chunks: back.chunks?.slice() }, {
      ...value,
      inline: value.inline?.slice(),
      chunks: value.chunks?.slice(),
    });
  }
});

Deno.test("a stored turn record of an unknown format is a Backend error, not a wrong turn", () => {
  assert.throws(
    () => readTurnValue(new Uint8Array([2, 0, 0])),
    (e) => isTurnStoreError(e) && e.code === "Backend" && /format 2/.test(e.message),
  );
  // A body-row turn (format 3) whose row carries payload bytes is malformed.
  const row = encodeTurnValue({
    id: 5n,
    parent: 4n,
    type: "t",
    version: 1,
    hash: "",
    size: 1,
    inline: new Uint8Array([7]),
  });
  row[0] = 3;
  assert.throws(
    () => readTurnValue(row),
    (e) => isTurnStoreError(e) && e.code === "Backend" && /turn 5 in format 3/.test(e.message),
  );
});

/**
 * Rewrites every turn row as the object it was stored as before the byte
 * form (a pack as one object row per turn), and every idempotency key as a row of its own holding a plain
 * bigint (key blocks came later still): a store written by an older version.
 */
async function downgrade(kv: Deno.Kv): Promise<number> {
  let rows = 0;
  for await (const e of kv.list<Uint8Array>({ prefix: ["turn"] })) {
    assert.ok(e.value instanceof Uint8Array, "this version stores turn rows as bytes");
    // A pack (turn_pack.ts, later still) becomes one object row per turn.
    const [, ctx, first] = e.key as [string, bigint, number];
    for (const [i, value] of readTurnRow(e.value).entries()) {
      await kv.set(["turn", ctx, first + i], { ...value });
      rows++;
    }
  }
  for await (const e of kv.list<Uint8Array>({ prefix: ["keys"] })) {
    for (const { key, id } of readKeyBlock(e.value)) {
      await kv.set(["idem", e.key[1], key], id);
      rows++;
    }
    await kv.delete(e.key);
  }
  return rows;
}

Deno.test("a store written before the byte form still opens, reads, replays its keys and grows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-format-" });
  const path = `${dir}/forge.kv`;
  try {
    const first = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    const { contextId } = await first.createContext();
    const big = new Uint8Array(200_000).map((_, i) => i % 251); // stored as chunks
    const written = [];
    for (let i = 0; i < 5; i++) {
      written.push(
        await first.appendTurn({
          contextId,
          typeId: "test.item",
          typeVersion: 2,
          payload: i === 2 ? big : te.encode(`turn ${i}`),
          idempotencyKey: `k${i}`,
        }),
      );
    }
    await first.close();

    const raw = await Deno.openKv(path);
    assert.equal(await downgrade(raw), 10);
    raw.close();

    const old = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const head = await old.getHead(contextId);
      assert.equal(head.headTurnId, written[4].turnId);
      assert.equal(head.headDepth, 5);
      const listed = await old.listTurns(contextId);
      assert.deepEqual(
        listed.map((t) => [t.turnId, t.parentTurnId, t.depth, t.typeId, t.typeVersion]),
        written.map((t) => [t.turnId, t.parentTurnId, t.depth, "test.item", 2]),
      );
      assert.deepEqual(listed[2].payload, big);
      assert.equal((await old.getTurn(written[3].turnId)).contentHash, written[3].contentHash);
      // A key stored as a bigint by the old version is found by a fresh handle.
      const replay = await old.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 2,
        payload: te.encode("turn 1"),
        idempotencyKey: "k1",
      });
      assert.equal(replay.deduplicated, true);
      assert.equal(replay.turnId, written[1].turnId);
      // New turns (byte form) continue the old chain.
      const next = await old.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 2,
        payload: te.encode("turn 5"),
        idempotencyKey: "k5",
      });
      assert.equal(next.parentTurnId, written[4].turnId);
      assert.equal(next.depth, 6);
      // A burst (one commit, so one turn pack) continues it too.
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          old.appendTurn({
            contextId,
            typeId: "test.item",
            typeVersion: 2,
            payload: te.encode(`turn ${6 + i}`),
            idempotencyKey: `k${6 + i}`,
          })),
      );
      assert.equal(burst[0].parentTurnId, next.turnId);
      const all = await old.listTurns(contextId);
      assert.equal(all.length, 26);
      assert.deepEqual(
        all.map((t) => new TextDecoder().decode(t.payload)).slice(3),
        Array.from({ length: 23 }, (_, i) => `turn ${3 + i}`),
      );
      const across = await old.listTurns(contextId, { limit: 4, beforeTurnId: burst[1].turnId });
      assert.deepEqual(across.map((t) => t.depth), [4, 5, 6, 7]);
      assert.equal((await old.getTurn(burst[9].turnId)).depth, 16);
    } finally {
      await old.close();
    }
    // The grown store holds keys of both forms: old rows, and key blocks for k5 and the burst.
    const raw2 = await Deno.openKv(path);
    let blocks = 0;
    for await (const _ of raw2.list({ prefix: ["keys"] })) blocks++;
    raw2.close();
    assert.equal(blocks, 2);
    const third = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
    try {
      const cases = [["k0", "turn 0", 1], ["k5", "turn 5", 6], ["k17", "turn 17", 18]] as const;
      for (const [key, text, depth] of cases) {
        const again = await third.appendTurn({
          contextId,
          typeId: "test.item",
          typeVersion: 2,
          payload: te.encode(text),
          idempotencyKey: key,
        });
        assert.equal(again.deduplicated, true, key);
        assert.equal(again.depth, depth, key);
        if (key === "k0") assert.equal(again.turnId, written[0].turnId);
      }
      assert.equal((await third.getHead(contextId)).headDepth, 26);
    } finally {
      await third.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
