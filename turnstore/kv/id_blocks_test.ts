import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import { LOCAL_KV_LIMITS } from "./limits.ts";
import { withStoreFile } from "./test_util.ts";
import type { CommitStats } from "./budget.ts";

const te = new TextEncoder();

/** A store on `path` that counts its commits. */
async function counted(
  path: string,
  options: { contextIdBlock?: number; turnIdBlock?: number } = {},
): Promise<{ store: KvStore; commits: CommitStats[] }> {
  const commits: CommitStats[] = [];
  const store = new KvStore(await Deno.openKv(path), {
    limits: LOCAL_KV_LIMITS,
    onCommit: (s) => commits.push(s),
    ...options,
  });
  return { store, commits };
}

Deno.test("id blocks: a fresh handle's first context and first append take one commit each", async () => {
  await withStoreFile(async (path) => {
    const { store, commits } = await counted(path);
    try {
      const { contextId } = await store.createContext();
      // The context, and the reservations of both id blocks (a check and a set each).
      assert.equal(commits.length, 1);
      assert.equal(commits[0].checks, 3);
      await store.appendTurn({ contextId, typeId: "t", typeVersion: 1, payload: te.encode("a") });
      assert.equal(commits.length, 2, "the append needs no counter commit of its own");
      const second = await store.createContext();
      assert.equal(commits.length, 3, "the next context takes an id from the block");
      assert.equal(commits[2].checks, 1);
      assert.equal(BigInt(second.contextId), BigInt(contextId) + 1n);
    } finally {
      await store.close();
    }
  });
});

Deno.test("id blocks: used up, a block is reserved again in the next context's own commit", async () => {
  await withStoreFile(async (path) => {
    const { store, commits } = await counted(path, { contextIdBlock: 2 });
    try {
      const ids: bigint[] = [];
      for (let i = 0; i < 5; i++) ids.push(BigInt((await store.createContext()).contextId));
      assert.equal(commits.length, 5);
      assert.deepEqual(commits.map((c) => c.checks), [3, 1, 2, 1, 2]);
      assert.deepEqual(ids, [1n, 2n, 3n, 4n, 5n]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("id blocks: handles creating contexts and appending at once get distinct ids", async () => {
  await withStoreFile(async (path) => {
    const handles = await Promise.all(
      Array.from({ length: 4 }, () => counted(path, { contextIdBlock: 3, turnIdBlock: 5 })),
    );
    try {
      const made = await Promise.all(
        handles.flatMap(({ store }) =>
          Array.from({ length: 12 }, async (_, i) => {
            const { contextId } = await store.createContext();
            const turns = [];
            for (let k = 0; k < 3; k++) {
              turns.push(
                await store.appendTurn({
                  contextId,
                  typeId: "t",
                  typeVersion: 1,
                  payload: te.encode(`${i}.${k}`),
                }),
              );
            }
            return { contextId, turns };
          })
        ),
      );
      const contextIds = made.map((m) => m.contextId);
      assert.equal(new Set(contextIds).size, 48, "context ids are distinct");
      const turnIds = made.flatMap((m) => m.turns.map((t) => t.turnId));
      assert.equal(new Set(turnIds).size, 144, "turn ids are distinct");
      for (const m of made) {
        for (let k = 1; k < 3; k++) {
          assert.ok(
            BigInt(m.turns[k].turnId) > BigInt(m.turns[k - 1].turnId),
            "child above parent",
          );
        }
        const read = await handles[0].store.listTurns(m.contextId);
        assert.deepEqual(read.map((t) => t.turnId), m.turns.map((t) => t.turnId));
      }
    } finally {
      for (const { store } of handles) await store.close();
    }
  });
});
