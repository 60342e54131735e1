/**
 * Concurrency: appenders on one context never lose a turn, unawaited appends
 * land in call order, one key makes one turn, one compare-and-set wins.
 *
 * @module
 */
import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import { appendN, bytes, checkChain, ids, unique } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the concurrency tests. */
export function defineConcurrencyTests(test: ConformanceTest): void {
  test("concurrent appenders on one context never lose a turn or break the chain", async ({ store }) => {
    const ctx = await store.createContext();
    const n = 24;
    const results = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          store.appendTurn({
            contextId: ctx.contextId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes(`c${i}`),
          }),
      ),
    );
    assert.equal(new Set(ids(results)).size, n, "every append made its own turn");
    const listed = await store.listTurns(ctx.contextId, { limit: 1000 });
    assert.equal(listed.length, n);
    checkChain(listed);
    assert.deepEqual(new Set(ids(listed)), new Set(ids(results)));
    assert.deepEqual(listed.map((t) => t.depth), Array.from({ length: n }, (_, i) => i + 1));
    const head = await store.getHead(ctx.contextId);
    assert.equal(head.headTurnId, listed[n - 1].turnId);
    assert.equal(head.headDepth, n);
  });

  test("appends issued without waiting are applied in call order, whatever their size", async ({ store }) => {
    const ctx = await store.createContext();
    // Writers pipeline their appends (an agent records several turns per
    // step); the chain must follow the order of the calls, even when a large
    // payload that a backend stores differently sits between small ones.
    const sizes = [10, 200_000, 10, 10, 70_000, 10, 1, 300_000, 10, 10];
    const pending = sizes.map((size, i) => {
      const payload = new Uint8Array(size).fill(i + 1);
      return store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.order",
        typeVersion: 1,
        payload,
      });
    });
    const appended = await Promise.all(pending);
    const listed = await store.listTurns(ctx.contextId);
    assert.deepEqual(ids(listed), ids(appended), "stored in call order");
    checkChain(listed);
    assert.deepEqual(listed.map((t) => t.payload[0]), sizes.map((_, i) => i + 1));
  });

  test("concurrent appends with one idempotency key create exactly one turn", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("race");
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          store.appendTurn({
            contextId: ctx.contextId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes("r"),
            idempotencyKey: key,
          }),
      ),
    );
    assert.equal(new Set(ids(results)).size, 1);
    assert.equal(results.filter((r) => !r.deduplicated).length, 1);
    assert.equal((await store.listTurns(ctx.contextId)).length, 1);
  });

  test("concurrent compare-and-set appends on one head: exactly one wins", async ({ store }) => {
    const ctx = await store.createContext();
    const [head] = await appendN(store, ctx.contextId, 1);
    const settled = await Promise.allSettled(
      Array.from(
        { length: 6 },
        (_, i) =>
          store.appendTurn({
            contextId: ctx.contextId,
            parentTurnId: head.turnId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes(`cas${i}`),
          }),
      ),
    );
    const won = settled.filter((s) => s.status === "fulfilled");
    assert.equal(won.length, 1);
    for (const s of settled) {
      if (s.status === "rejected") {
        assert.ok(isTurnStoreError(s.reason, "Conflict"), String(s.reason));
      }
    }
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 2);
  });
}
