/**
 * Contexts, turns, forks and compare-and-set parents: depths, heads, byte-exact
 * payloads with their BLAKE3 hashes, shared history up to a fork, and the
 * rule that an explicit parent must be the head of the context.
 *
 * @module
 */
import assert from "node:assert/strict";
import { blake3Hex } from "../core/hash.ts";
import { appendN, bytes, ids, rejectsWith } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the contexts, turns, forks and explicit-parent tests. */
export function defineHistoryTests(test: ConformanceTest): void {
  test("an empty context has head 0 at depth 0 and no turns", async ({ store }) => {
    const ctx = await store.createContext();
    assert.match(ctx.contextId, /^[1-9][0-9]*$/);
    assert.equal(ctx.headTurnId, "0");
    assert.equal(ctx.headDepth, 0);
    assert.deepEqual(await store.getHead(ctx.contextId), ctx);
    assert.deepEqual(await store.listTurns(ctx.contextId), []);
    const other = await store.createContext();
    assert.notEqual(other.contextId, ctx.contextId, "context ids are unique");
  });

  test("the first turn has depth 1 and each append moves the head one deeper", async ({ store }) => {
    const ctx = await store.createContext();
    const [a, b, c] = await appendN(store, ctx.contextId, 3);
    assert.deepEqual([a.depth, b.depth, c.depth], [1, 2, 3]);
    assert.deepEqual([a.parentTurnId, b.parentTurnId, c.parentTurnId], ["0", a.turnId, b.turnId]);
    for (const t of [a, b, c]) {
      assert.equal(t.contextId, ctx.contextId);
      assert.equal(t.deduplicated, false);
    }
    assert.ok(
      BigInt(b.turnId) > BigInt(a.turnId) && BigInt(c.turnId) > BigInt(b.turnId),
      "a turn's id is greater than its parent's",
    );
    assert.deepEqual(await store.getHead(ctx.contextId), {
      contextId: ctx.contextId,
      headTurnId: c.turnId,
      headDepth: 3,
    });
  });

  test("a stored turn comes back byte for byte with its BLAKE3 content hash", async ({ store }) => {
    const ctx = await store.createContext();
    const payload = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const t = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.bytes",
      typeVersion: 7,
      payload,
    });
    assert.equal(t.contentHash, blake3Hex(payload));
    const got = await store.getTurn(t.turnId);
    assert.deepEqual(got, {
      turnId: t.turnId,
      parentTurnId: "0",
      depth: 1,
      typeId: "test.bytes",
      typeVersion: 7,
      payload,
      contentHash: blake3Hex(payload),
    });
    payload[0] = 99; // the store kept its own copy
    assert.notEqual((await store.getTurn(t.turnId)).payload[0], 99);
    const empty = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.empty",
      typeVersion: 1,
      payload: new Uint8Array(),
    });
    assert.equal((await store.getTurn(empty.turnId)).payload.length, 0);
  });

  test("the payload is taken at the call: a buffer reused before the append settles changes nothing", async ({ store }) => {
    const ctx = await store.createContext();
    const payload = new TextEncoder().encode("as it was at the call");
    const expected = payload.slice();
    // Several in flight at once, so a backend that batches has them queued.
    const appends = [1, 2, 3].map((n) =>
      store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.reused",
        typeVersion: 1,
        payload,
        idempotencyKey: `reused-${n}`,
      })
    );
    payload.fill(0x21); // the caller reuses its buffer at once
    for (const turn of await Promise.all(appends)) {
      assert.equal(turn.contentHash, blake3Hex(expected));
      const stored = await store.getTurn(turn.turnId);
      assert.deepEqual(stored.payload, expected);
      assert.equal(stored.contentHash, blake3Hex(expected));
    }
  });

  test("a fork shares history up to its base turn and diverges after it", async ({ store }) => {
    const main = await store.createContext();
    const [t1, t2, t3] = await appendN(store, main.contextId, 3, "main");
    const fork = await store.forkContext(t2.turnId);
    assert.notEqual(fork.contextId, main.contextId);
    assert.equal(fork.headTurnId, t2.turnId);
    assert.equal(fork.headDepth, 2);
    assert.deepEqual(ids(await store.listTurns(fork.contextId)), [t1.turnId, t2.turnId]);
    const [f3, f4] = await appendN(store, fork.contextId, 2, "fork");
    assert.equal(f3.parentTurnId, t2.turnId);
    assert.equal(f3.depth, 3);
    assert.deepEqual(ids(await store.listTurns(fork.contextId)), [
      t1.turnId,
      t2.turnId,
      f3.turnId,
      f4.turnId,
    ]);
    assert.deepEqual(
      ids(await store.listTurns(main.contextId)),
      [t1.turnId, t2.turnId, t3.turnId],
      "the original context is untouched",
    );
    const forkOfFork = await store.createContext({ baseTurnId: f3.turnId });
    assert.equal(forkOfFork.headDepth, 3);
    const [g4] = await appendN(store, forkOfFork.contextId, 1, "g");
    assert.deepEqual(ids(await store.listTurns(forkOfFork.contextId)), [
      t1.turnId,
      t2.turnId,
      f3.turnId,
      g4.turnId,
    ]);
    const fromRoot = await store.forkContext("0");
    assert.equal(fromRoot.headTurnId, "0");
    assert.equal(fromRoot.headDepth, 0);
    await rejectsWith(store.forkContext("999999999999"), "NotFound", ["999999999999"]);
    await rejectsWith(store.createContext({ baseTurnId: "999999999999" }), "NotFound", [
      "999999999999",
    ]);
  });

  test("an explicit parent must be the head: a stale one is a Conflict and writes nothing", async ({ store }) => {
    const ctx = await store.createContext();
    const first = await store.appendTurn({
      contextId: ctx.contextId,
      parentTurnId: "0",
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("a"),
    });
    const second = await store.appendTurn({
      contextId: ctx.contextId,
      parentTurnId: first.turnId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("b"),
    });
    assert.equal(second.parentTurnId, first.turnId);
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        parentTurnId: first.turnId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("c"),
      }),
      "Conflict",
      [ctx.contextId, first.turnId, second.turnId],
    );
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        parentTurnId: "0",
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("c"),
      }),
      "Conflict",
      [ctx.contextId],
    );
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId, second.turnId]);
    assert.equal((await store.getHead(ctx.contextId)).headTurnId, second.turnId);
  });

  test("an explicit parent outside the context's history is InvalidInput, an unknown one NotFound", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const [a1] = await appendN(store, a.contextId, 1, "a");
    await appendN(store, b.contextId, 1, "b");
    await rejectsWith(
      store.appendTurn({
        contextId: b.contextId,
        parentTurnId: a1.turnId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "InvalidInput",
      [b.contextId, a1.turnId],
    );
    await rejectsWith(
      store.appendTurn({
        contextId: b.contextId,
        parentTurnId: "888888888888",
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "NotFound",
      ["888888888888"],
    );
    assert.equal((await store.listTurns(b.contextId)).length, 1, "nothing was written");
  });
}
