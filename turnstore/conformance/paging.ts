/**
 * History paging: `listTurns` from the head towards the root with
 * `beforeTurnId`, across fork points, and its bad cursors and limits.
 *
 * @module
 */
import assert from "node:assert/strict";
import { appendN, checkChain, ids, rejectsWith } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the paging tests. */
export function definePagingTests(test: ConformanceTest): void {
  test("listTurns pages from the head towards the root with beforeTurnId", async ({ store }) => {
    const ctx = await store.createContext();
    const all = await appendN(store, ctx.contextId, 25);
    const page1 = await store.listTurns(ctx.contextId, { limit: 10 });
    assert.deepEqual(ids(page1), ids(all.slice(15)), "the newest 10, oldest first");
    checkChain(page1);
    const page2 = await store.listTurns(ctx.contextId, {
      limit: 10,
      beforeTurnId: page1[0].turnId,
    });
    assert.deepEqual(ids(page2), ids(all.slice(5, 15)));
    const page3 = await store.listTurns(ctx.contextId, {
      limit: 10,
      beforeTurnId: page2[0].turnId,
    });
    assert.deepEqual(ids(page3), ids(all.slice(0, 5)));
    assert.deepEqual(await store.listTurns(ctx.contextId, { beforeTurnId: all[0].turnId }), []);
    assert.deepEqual(
      ids(await store.listTurns(ctx.contextId)),
      ids(all),
      "default limit covers 25",
    );
    assert.deepEqual(ids(await store.listTurns(ctx.contextId, { limit: 1 })), [all[24].turnId]);
  });

  test("paging crosses fork points into the shared history", async ({ store }) => {
    const main = await store.createContext();
    const base = await appendN(store, main.contextId, 6, "m");
    await appendN(store, main.contextId, 3, "m-after");
    const fork = await store.forkContext(base[5].turnId);
    const own = await appendN(store, fork.contextId, 4, "f");
    const expected = [...ids(base), ...ids(own)];
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listTurns(fork.contextId, { limit: 3, beforeTurnId: before });
      if (page.length === 0) break;
      checkChain(page);
      seen.unshift(...ids(page));
      before = page[0].turnId;
    }
    assert.deepEqual(seen, expected);
  });

  test("a cursor in the base context above the fork point, or in a sibling fork, is outside the history", async ({ store }) => {
    const main = await store.createContext();
    const base = await appendN(store, main.contextId, 3, "m");
    const after = await appendN(store, main.contextId, 2, "m-after");
    const fork = await store.forkContext(base[2].turnId);
    const sibling = await store.forkContext(base[2].turnId);
    const [s1] = await appendN(store, sibling.contextId, 1, "s");
    await appendN(store, fork.contextId, 2, "f");
    for (const outside of [after[0], after[1], s1]) {
      await rejectsWith(
        store.listTurns(fork.contextId, { beforeTurnId: outside.turnId }),
        "InvalidInput",
        [outside.turnId, fork.contextId],
      );
    }
    // The fork point itself and the turns below it are in the fork's history.
    assert.deepEqual(
      ids(await store.listTurns(fork.contextId, { beforeTurnId: base[2].turnId })),
      ids(base.slice(0, 2)),
    );
    assert.deepEqual(
      ids(await store.listTurns(fork.contextId, { beforeTurnId: base[1].turnId, limit: 5 })),
      [base[0].turnId],
    );
  });

  test("a paging cursor outside the history is InvalidInput; a bad limit is InvalidInput", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const [a1] = await appendN(store, a.contextId, 1);
    await appendN(store, b.contextId, 2);
    await rejectsWith(store.listTurns(b.contextId, { beforeTurnId: a1.turnId }), "InvalidInput", [
      a1.turnId,
      b.contextId,
    ]);
    await rejectsWith(store.listTurns(b.contextId, { beforeTurnId: "777777777777" }), "NotFound", [
      "777777777777",
    ]);
    for (const limit of [0, -1, 1.5, 10_001, Number.NaN]) {
      await rejectsWith(store.listTurns(b.contextId, { limit }), "InvalidInput", ["limit"]);
    }
  });
}
