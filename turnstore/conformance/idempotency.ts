/**
 * Idempotency keys: a replay returns the same turn and writes nothing, a
 * changed replay is a Conflict, and keys are scoped to their context.
 *
 * @module
 */
import assert from "node:assert/strict";
import { appendN, bytes, ids, rejectsWith, unique } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the idempotency-key tests. */
export function defineIdempotencyTests(test: ConformanceTest): void {
  test("the same idempotency key returns the same turn and writes nothing new", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("key");
    const req = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("once"),
      idempotencyKey: key,
    };
    const first = await store.appendTurn(req);
    await appendN(store, ctx.contextId, 2, "later");
    const again = await store.appendTurn(req);
    assert.equal(again.turnId, first.turnId);
    assert.equal(again.depth, first.depth);
    assert.equal(again.deduplicated, true);
    assert.equal(first.deduplicated, false);
    assert.equal((await store.listTurns(ctx.contextId)).length, 3, "no second turn");
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 3, "the head did not move");
  });

  test("the same key with different bytes, type or version is a Conflict and writes nothing", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("key");
    const base = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("v1"),
      idempotencyKey: key,
    };
    const first = await store.appendTurn(base);
    await rejectsWith(store.appendTurn({ ...base, payload: bytes("v2") }), "Conflict", [
      ctx.contextId,
      first.turnId,
    ]);
    await rejectsWith(store.appendTurn({ ...base, typeId: "test.other" }), "Conflict", [
      ctx.contextId,
    ]);
    await rejectsWith(store.appendTurn({ ...base, typeVersion: 2 }), "Conflict", [ctx.contextId]);
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId]);
  });

  test("idempotency keys are scoped to a context, and a fork starts with none", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const key = unique("shared");
    const req = {
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("same"),
      idempotencyKey: key,
    };
    const inA = await store.appendTurn({ ...req, contextId: a.contextId });
    const inB = await store.appendTurn({ ...req, contextId: b.contextId });
    assert.notEqual(inA.turnId, inB.turnId);
    const fork = await store.forkContext(inA.turnId);
    const inFork = await store.appendTurn({ ...req, contextId: fork.contextId });
    assert.equal(inFork.deduplicated, false);
    assert.equal(inFork.parentTurnId, inA.turnId);
  });
}
