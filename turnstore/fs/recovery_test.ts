import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import {
  appendMany,
  bytes,
  crashCopy,
  cutLog,
  flipLogByte,
  logSize,
  openStore,
  tempDir,
  withTempDir,
} from "./test_util.ts";

const decoder = new TextDecoder();

/**
 * A store with five turns closed cleanly, then one more appended and
 * acknowledged, then "crashed": returns a copy of the files and where the
 * last record sits in the log.
 */
async function storeWithLastRecord(): Promise<{
  template: string;
  ctx: string;
  earlier: string[];
  lastStart: number;
  lastEnd: number;
  cleanup: () => Promise<void>;
}> {
  const dir = await tempDir();
  let store = await openStore(dir);
  const ctx = (await store.createContext()).contextId;
  const earlier = await appendMany(store, ctx, 5, "early");
  await store.close();
  store = await openStore(dir);
  const lastStart = await logSize(dir);
  await store.appendTurn({
    contextId: ctx,
    typeId: "test.item",
    typeVersion: 1,
    payload: bytes("the last record"),
  });
  const lastEnd = await logSize(dir);
  const template = await crashCopy(dir);
  await store.close();
  return {
    template,
    ctx,
    earlier,
    lastStart,
    lastEnd,
    cleanup: async () => {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(template, { recursive: true });
    },
  };
}

async function assertEarlierIntactAndAppendable(
  dir: string,
  ctx: string,
  earlier: string[],
  droppedBytes?: number,
) {
  const store = await openStore(dir);
  try {
    assert.equal(store.recovery.mode, "rebuild");
    if (droppedBytes !== undefined) {
      assert.equal(store.recovery.droppedTailBytes, droppedBytes);
    }
    const listed = await store.listTurns(ctx);
    assert.deepEqual(listed.map((t) => t.turnId), earlier);
    assert.deepEqual(
      listed.map((t) => decoder.decode(t.payload)),
      earlier.map((_, i) => `early${i}`),
    );
    assert.equal((await store.getHead(ctx)).headTurnId, earlier.at(-1));
    const next = await store.appendTurn({
      contextId: ctx,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("after recovery"),
    });
    assert.equal(next.parentTurnId, earlier.at(-1));
    assert.equal(next.depth, earlier.length + 1);
  } finally {
    await store.close();
  }
  const again = await openStore(dir);
  try {
    assert.equal(again.recovery.mode, "none", "the recovered store closes cleanly");
    assert.equal((await again.listTurns(ctx)).length, earlier.length + 1);
  } finally {
    await again.close();
  }
}

Deno.test("a torn last record is dropped at every cut offset; earlier turns stay and the store appends", async () => {
  const s = await storeWithLastRecord();
  try {
    assert.ok(s.lastEnd - s.lastStart > 60, "the last record spans many offsets");
    for (let cut = s.lastStart + 1; cut < s.lastEnd; cut++) {
      const dir = await crashCopy(s.template);
      try {
        await cutLog(dir, cut);
        await assertEarlierIntactAndAppendable(dir, s.ctx, s.earlier, cut - s.lastStart);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test("a corrupt byte anywhere in the last record drops that record only", async () => {
  const s = await storeWithLastRecord();
  try {
    const offsets = [0, 4, 8, 12, 16, 19, 20, 40, 70, s.lastEnd - s.lastStart - 1];
    for (const rel of offsets) {
      const dir = await crashCopy(s.template);
      try {
        await flipLogByte(dir, s.lastStart + rel);
        await assertEarlierIntactAndAppendable(dir, s.ctx, s.earlier);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    await s.cleanup();
  }
});

Deno.test("a whole last record lost while its index writes survived is rebuilt from the log", async () => {
  await withTempDir(async (dir) => {
    let store = await openStore(dir);
    const ctx = (await store.createContext()).contextId;
    const earlier = await appendMany(store, ctx, 5, "early");
    await store.close();
    store = await openStore(dir);
    // The index watermark written by this open covers the log up to here.
    const checkpointAtOpen = await Deno.readFile(`${dir}/checkpoint`);
    const lastStart = await logSize(dir);
    await appendMany(store, ctx, 1, "lost");
    await store.close(); // flushes the index entries of the last turn
    // Disk state as if the last record's log bytes were lost but the index
    // writes made it: the open-time watermark, the log cut back to it.
    await Deno.writeFile(`${dir}/checkpoint`, checkpointAtOpen);
    await cutLog(dir, lastStart);
    await assertEarlierIntactAndAppendable(dir, ctx, earlier);
  });
});

Deno.test("corruption in the middle of the log after a crash stops open with a BackendError naming file and offset", async () => {
  const dir = await tempDir();
  const store = await openStore(dir);
  const ctx = (await store.createContext()).contextId;
  await appendMany(store, ctx, 2, "a");
  const secondStart = await logSize(dir);
  await appendMany(store, ctx, 3, "b");
  const crashed = await crashCopy(dir);
  await store.close();
  try {
    const sizeBefore = await logSize(crashed);
    await flipLogByte(crashed, secondStart + 30);
    await assert.rejects(openStore(crashed), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.match(error.message, new RegExp(`${crashed}/log`));
      assert.match(error.message, new RegExp(`offset ${secondStart}\\b`));
      return true;
    });
    assert.equal(await logSize(crashed), sizeBefore, "nothing was cut off");
    // The lock was released: a repaired copy could be opened again.
    await flipLogByte(crashed, secondStart + 30);
    const repaired = await openStore(crashed);
    assert.equal((await repaired.listTurns(ctx)).length, 5);
    await repaired.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(crashed, { recursive: true });
  }
});

Deno.test("corruption in a cleanly closed log is a BackendError when the damaged turn is read", async () => {
  await withTempDir(async (dir) => {
    let store = await openStore(dir);
    const ctx = (await store.createContext()).contextId;
    const [first] = await appendMany(store, ctx, 1, "a");
    const damagedAt = await logSize(dir);
    const [damaged, after] = await appendMany(store, ctx, 2, "b");
    await store.close();
    await flipLogByte(dir, damagedAt + 25);
    store = await openStore(dir);
    try {
      assert.equal(decoder.decode((await store.getTurn(first)).payload), "a0");
      assert.equal(decoder.decode((await store.getTurn(after)).payload), "b1");
      for (const read of [() => store.getTurn(damaged), () => store.listTurns(ctx)]) {
        await assert.rejects(read(), (error: Error) => {
          assert.ok(isTurnStoreError(error, "Backend"), String(error));
          assert.ok(error.message.includes(`${dir}/log`), error.message);
          assert.ok(error.message.includes(`offset ${damagedAt}`), error.message);
          return true;
        });
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("a store stopped without close keeps every acknowledged change: turns, forks, keys, fs roots", async () => {
  for (const durability of ["fsync", "group"]) {
    const dir = await tempDir();
    const store = await openStore(dir, durability);
    const ctx = (await store.createContext()).contextId;
    const keyed = await store.appendTurn({
      contextId: ctx,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("keyed"),
      idempotencyKey: "k1",
    });
    const ids = await appendMany(store, ctx, 3);
    const fork = await store.forkContext(ids[0]);
    const [forked] = await appendMany(store, fork.contextId, 1, "f");
    const blob = await store.putBlob(bytes("tree"));
    await store.attachFs(ids[1], blob.hash);
    const crashed = await crashCopy(dir);
    await store.close();
    const reopened = await openStore(crashed, durability);
    try {
      assert.equal(reopened.recovery.mode, "rebuild", durability);
      assert.match(reopened.recovery.reason ?? "", /did not close cleanly/);
      assert.deepEqual((await reopened.listTurns(ctx)).map((t) => t.turnId), [
        keyed.turnId,
        ...ids,
      ]);
      assert.deepEqual((await reopened.listTurns(fork.contextId)).map((t) => t.turnId), [
        keyed.turnId,
        ids[0],
        forked,
      ]);
      assert.equal(await reopened.getFsRoot(ids[2]), blob.hash);
      const replay = await reopened.appendTurn({
        contextId: ctx,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("keyed"),
        idempotencyKey: "k1",
      });
      assert.equal(replay.turnId, keyed.turnId);
      assert.equal(replay.deduplicated, true);
    } finally {
      await reopened.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(crashed, { recursive: true });
    }
  }
});

Deno.test("a log shorter than its clean index watermark is a BackendError, not a silent loss", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir);
    const ctx = (await store.createContext()).contextId;
    await appendMany(store, ctx, 3);
    await store.close();
    await cutLog(dir, (await logSize(dir)) - 5);
    await assert.rejects(openStore(dir), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(`${dir}/log`), error.message);
      assert.match(error.message, /acknowledged records are missing/);
      return true;
    });
  });
});

Deno.test("lost index files are rebuilt from the log", async () => {
  await withTempDir(async (dir) => {
    let store = await openStore(dir, "group");
    const ctx = (await store.createContext()).contextId;
    const ids = await appendMany(store, ctx, 20);
    await store.appendTurn({
      contextId: ctx,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("k"),
      idempotencyKey: "key",
    });
    await store.close();
    for (const name of ["turns.idx", "contexts.idx", "keys.idx", "checkpoint"]) {
      await Deno.remove(`${dir}/${name}`);
    }
    store = await openStore(dir, "group");
    try {
      assert.equal(store.recovery.mode, "rebuild");
      assert.deepEqual(
        (await store.listTurns(ctx, { limit: 20 })).map((t) => t.turnId).slice(0, 20),
        [
          ...ids.slice(1),
          (await store.getHead(ctx)).headTurnId,
        ],
      );
      const again = await store.appendTurn({
        contextId: ctx,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("k"),
        idempotencyKey: "key",
      });
      assert.equal(again.deduplicated, true);
    } finally {
      await store.close();
    }
  });
});
