import assert from "node:assert/strict";
import { appendMany, crashCopy, logSize, openStore, tempDir, withTempDir } from "./test_util.ts";

const fileSize = async (dir: string) => (await Deno.stat(`${dir}/log`)).size;

for (const durability of ["fsync", "group"]) {
  Deno.test(`durability=${durability}: the log is written ahead with zeros, and a crash copy loses nothing to them`, async () => {
    const dir = await tempDir();
    const store = await openStore(dir, durability);
    let crashed: string | undefined;
    try {
      const ctx = (await store.createContext()).contextId;
      const ids = await appendMany(store, ctx, 20, "t");
      const end = await logSize(dir);
      assert.ok(await fileSize(dir) > end, "space past the last record is preallocated");
      const tail = (await Deno.readFile(`${dir}/log`)).subarray(end);
      assert.ok(tail.every((b) => b === 0), "the preallocated space is zeros");

      crashed = await crashCopy(dir);
      const reopened = await openStore(crashed, durability);
      try {
        // An unclean stop is rebuilt from the log; the zeros are free space, not a torn tail.
        assert.equal(reopened.recovery.mode, "rebuild");
        assert.equal(reopened.recovery.droppedTailBytes, 0);
        assert.equal(reopened.recovery.tornReason, undefined);
        assert.deepEqual((await reopened.listTurns(ctx)).map((t) => t.turnId), ids);
        const next = await reopened.appendTurn({
          contextId: ctx,
          typeId: "test.item",
          typeVersion: 1,
          payload: new Uint8Array([1, 2, 3]),
        });
        assert.equal(next.parentTurnId, ids.at(-1));
      } finally {
        await reopened.close();
      }
      const again = await openStore(crashed, durability);
      try {
        assert.equal((await again.listTurns(ctx)).length, 21);
      } finally {
        await again.close();
      }
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
      if (crashed) await Deno.remove(crashed, { recursive: true });
    }
  });
}

Deno.test("a clean close gives the preallocated space back; the next open needs no recovery", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir);
    const ctx = (await store.createContext()).contextId;
    await appendMany(store, ctx, 5, "t");
    await store.close();
    assert.equal(await fileSize(dir), await logSize(dir));
    const reopened = await openStore(dir);
    assert.equal(reopened.recovery.mode, "none");
    assert.equal((await reopened.listTurns(ctx)).length, 5);
    await reopened.close();
  });
});

Deno.test("a torn record before the preallocated zeros is still a torn tail", async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  let crashed: string | undefined;
  try {
    const ctx = (await store.createContext()).contextId;
    const ids = await appendMany(store, ctx, 4, "t");
    crashed = await crashCopy(dir);
    // Half a record's header where the next record would start, zeros after it.
    const end = await logSize(crashed);
    const log = await Deno.readFile(`${crashed}/log`);
    log.set(log.subarray(0, 12), end);
    await Deno.writeFile(`${crashed}/log`, log);
    const reopened = await openStore(crashed);
    try {
      assert.equal(reopened.recovery.mode, "rebuild");
      assert.ok(reopened.recovery.tornReason, "the tail is reported as torn");
      assert.deepEqual((await reopened.listTurns(ctx)).map((t) => t.turnId), ids);
    } finally {
      await reopened.close();
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
    if (crashed) await Deno.remove(crashed, { recursive: true });
  }
});

Deno.test("durability=none writes no space ahead", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir, "none");
    const ctx = (await store.createContext()).contextId;
    await appendMany(store, ctx, 5, "t");
    assert.equal(await fileSize(dir), await logSize(dir));
    await store.close();
  });
});
