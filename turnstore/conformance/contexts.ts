/**
 * Conformance tests of the store-level context listing (`listContexts`),
 * registered by {@link defineConformanceSuite} for every backend. Like the
 * rest of the suite they never assume an empty store: they check the
 * contexts they create and the order of whatever else is listed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ContextSummary, ForgeStore } from "../core/types.ts";
import { isTurnStoreError } from "../core/errors.ts";
import type { ConformanceTest } from "./types.ts";
import { bytes } from "./helpers.ts";

async function append(store: ForgeStore, contextId: string, text: string) {
  return await store.appendTurn({
    contextId,
    typeId: "test.item",
    typeVersion: 1,
    payload: bytes(text),
  });
}

function ids(page: readonly ContextSummary[]): string[] {
  return page.map((c) => c.contextId);
}

function assertNewestFirst(page: readonly ContextSummary[]): void {
  for (let i = 1; i < page.length; i++) {
    assert.ok(
      BigInt(page[i - 1].contextId) > BigInt(page[i].contextId),
      `listContexts must list newest first (by id): ${ids(page).join(", ")}`,
    );
  }
}

/** Registers the listContexts tests with `test`; `durable` adds the reopen test. */
export function defineListContextsTests(test: ConformanceTest, durable: boolean): void {
  test("listContexts lists contexts newest first with their heads and creation times", async ({ store }) => {
    const since = Date.now();
    const a = await store.createContext();
    const [t1] = [await append(store, a.contextId, "a1")];
    const b = await store.forkContext(t1.turnId);
    const c = await store.createContext();
    const t2 = await append(store, a.contextId, "a2"); // a's head moves after c exists
    const page = await store.listContexts({ limit: 3 });
    assert.deepEqual(ids(page), [c.contextId, b.contextId, a.contextId]);
    assert.deepEqual(
      page.map(({ contextId, headTurnId, headDepth }) => ({ contextId, headTurnId, headDepth })),
      [
        { contextId: c.contextId, headTurnId: "0", headDepth: 0 },
        { contextId: b.contextId, headTurnId: t1.turnId, headDepth: 1 },
        { contextId: a.contextId, headTurnId: t2.turnId, headDepth: 2 },
      ],
    );
    for (const s of page) {
      assert.equal(typeof s.createdAt, "number", `context ${s.contextId} has a creation time`);
      // Backends may keep whole seconds; allow that much rounding.
      assert.ok(
        s.createdAt! >= since - 1000 && s.createdAt! <= Date.now() + 1000,
        `creation time ${s.createdAt} of context ${s.contextId} is when it was created`,
      );
    }
    assert.ok(page[0].createdAt! >= page[2].createdAt!, "newer contexts were created later");
    // The base, where the backend knows it: "0" for an empty start, the fork's turn otherwise.
    const bases = page.map((s) => s.baseTurnId);
    if (bases.some((b) => b !== undefined)) assert.deepEqual(bases, ["0", t1.turnId, "0"]);
  });

  test("listContexts pages with beforeContextId, visiting each context once", async ({ store }) => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await store.createContext()).contextId);
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.listContexts({ limit: 2, beforeContextId: before });
      assert.ok(page.length <= 2, "a page holds at most limit contexts");
      assertNewestFirst(page);
      if (before !== undefined) {
        for (const s of page) assert.ok(BigInt(s.contextId) < BigInt(before), "after the cursor");
      }
      seen.push(...ids(page));
      if (page.length < 2 || seen.includes(made[0])) break;
      before = page[page.length - 1].contextId;
    }
    const mine = seen.filter((id) => made.includes(id));
    assert.deepEqual(mine, [...made].reverse(), "every context of ours, once, newest first");
    assert.equal(new Set(seen).size, seen.length, "no context is listed twice");
    assert.deepEqual(
      ids(await store.listContexts({ beforeContextId: made[3], limit: 2 })).slice(0, 2),
      [made[2], made[1]],
    );
    assert.deepEqual(await store.listContexts({ beforeContextId: "1" }), []);
    assert.deepEqual(await store.listContexts({ beforeContextId: "0" }), []);
  });

  test("listContexts with bad options is InvalidInput naming the option", async ({ store }) => {
    for (const limit of [0, -1, 1.5, 10_001, Number.NaN]) {
      await assert.rejects(
        store.listContexts({ limit }),
        (e: Error) => isTurnStoreError(e, "InvalidInput") && e.message.includes("limit"),
        `limit ${limit}`,
      );
    }
    for (const beforeContextId of ["x", "-1", "01", ""]) {
      await assert.rejects(
        store.listContexts({ beforeContextId }),
        (e: Error) => isTurnStoreError(e, "InvalidInput") && e.message.includes("beforeContextId"),
        `beforeContextId ${JSON.stringify(beforeContextId)}`,
      );
    }
  });

  if (durable) {
    test("listContexts lists the same contexts after close and reopen", async (h) => {
      const a = await h.store.createContext();
      await append(h.store, a.contextId, "x");
      const before = await h.store.listContexts({ limit: 1 });
      await h.store.close();
      const store = await h.reopen!();
      assert.deepEqual(await store.listContexts({ limit: 1 }), before);
      const b = await store.createContext();
      assert.ok(BigInt(b.contextId) > BigInt(a.contextId), "a new context lists above the old");
      assert.deepEqual(ids(await store.listContexts({ limit: 2 })), [b.contextId, a.contextId]);
    });
  }
}
