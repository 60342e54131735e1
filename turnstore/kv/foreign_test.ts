/**
 * A kv file that another program wrote. Its own keys are left alone (a kv
 * store only reads and writes its own key names); rows of another program
 * under those names are refused with a BackendError naming the row, never
 * read as contexts or turns with ids like "undefined", and nothing of the
 * other program's is changed.
 */
import assert from "node:assert/strict";
import { BackendError } from "../core/errors.ts";
import { openKvStore } from "./mod.ts";

async function withKvFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-foreign-" });
  try {
    await fn(`${dir}/other.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rows(path: string): Promise<string> {
  const kv = await Deno.openKv(path);
  try {
    const out = [];
    for await (const e of kv.list({ prefix: [] })) out.push([e.key, e.value]);
    return Deno.inspect(out, { depth: 10 });
  } finally {
    kv.close();
  }
}

Deno.test("another program's rows under other key names are left alone", async () => {
  await withKvFile(async (path) => {
    const other = await Deno.openKv(path);
    await other.set(["users", 1], { name: "ada" });
    await other.set(["settings"], "dark");
    other.close();
    const store = await openKvStore(path);
    try {
      const ctx = await store.createContext();
      await store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: new Uint8Array([1]),
      });
      assert.equal((await store.listTurns(ctx.contextId)).length, 1);
    } finally {
      await store.close();
    }
    const kv = await Deno.openKv(path);
    try {
      assert.deepEqual((await kv.get(["users", 1])).value, { name: "ada" });
      assert.equal((await kv.get(["settings"])).value, "dark");
    } finally {
      kv.close();
    }
  });
});

Deno.test("another program's rows under the store's key names are BackendErrors naming the row", async () => {
  await withKvFile(async (path) => {
    const other = await Deno.openKv(path);
    await other.set(["ctx", 1n], "not a context");
    await other.set(["ctx", 2n], { base: "zz" });
    await other.set(["turn", 1n, 1], { foo: 1 });
    await other.set(["run", 1n], 5);
    other.close();
    const before = await rows(path);
    const store = await openKvStore(path);
    const refused = (row: RegExp) => (e: unknown) => {
      assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
      assert.match(e.message, row);
      assert.match(e.message, /is not a \w+ record of this store/);
      return true;
    };
    try {
      // Before: getHead("1") answered headTurnId "undefined".
      await assert.rejects(store.getHead("1"), refused(/\["ctx", 1\]/));
      await assert.rejects(store.getHead("2"), refused(/\["ctx", 2\]/));
      await assert.rejects(store.listContexts(), refused(/\["ctx", 2\]/));
      await assert.rejects(store.listTurns("1"), refused(/\["ctx", 1\]/));
      await assert.rejects(store.getTurn("1"), refused(/\["run", 1\]/));
      await assert.rejects(store.forkContext("1"), refused(/\["run", 1\]/));
      await assert.rejects(
        store.appendTurn({
          contextId: "1",
          typeId: "test.item",
          typeVersion: 1,
          payload: new Uint8Array([1]),
        }),
        refused(/\["ctx", 1\]/),
      );
    } finally {
      await store.close();
    }
    assert.equal(await rows(path), before, "the other program's rows are unchanged");
  });
});

Deno.test("a turn row of another program under a context of this store is a BackendError", async () => {
  await withKvFile(async (path) => {
    const store = await openKvStore(path);
    try {
      const ctx = await store.createContext();
      const kv = await Deno.openKv(path);
      await kv.set(["turn", BigInt(ctx.contextId), 1], { foo: 1 });
      kv.close();
      await assert.rejects(store.listTurns(ctx.contextId), (e: unknown) => {
        assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
        assert.match(e.message, /neither bytes nor a turn record of this store/);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

Deno.test("a SQLite database of another program is refused, unchanged", async () => {
  await withKvFile(async (path) => {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES ('ada')",
    );
    db.close();
    const before = await Deno.readFile(path);
    // Before: Deno KV added its tables beside `users` and the store opened.
    await assert.rejects(openKvStore(path), (e: unknown) => {
      assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
      assert.match(e.message, /is a SQLite database of another program \(tables: users\)/);
      return true;
    });
    assert.deepEqual(await Deno.readFile(path), before, "not a byte changed");
  });
});

Deno.test("an empty file opens as a new store", async () => {
  await withKvFile(async (path) => {
    await Deno.writeFile(path, new Uint8Array());
    const store = await openKvStore(path);
    try {
      assert.deepEqual(await store.listContexts(), []);
      assert.equal((await store.createContext()).contextId, "1");
    } finally {
      await store.close();
    }
  });
});
