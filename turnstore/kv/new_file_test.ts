import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openKvStore } from "./mod.ts";
import { createKvFile, NEW_KV_FILE_PAGE_BYTES } from "./new_file.ts";
import { withStoreFile } from "./test_util.ts";

const te = new TextEncoder();

/** The page size and journal mode SQLite reports for the file at `path`. */
function pageAndJournal(path: string): { page: number; journal: string } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const page = db.prepare("PRAGMA page_size").get() as { page_size: number };
    const journal = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    return { page: page.page_size, journal: journal.journal_mode };
  } finally {
    db.close();
  }
}

Deno.test("openKvStore creates a new file with 8 KiB pages in WAL mode, and it reopens with its turns", async () => {
  await withStoreFile(async (path) => {
    const store = await openKvStore(path);
    const { contextId } = await store.createContext();
    const turn = await store.appendTurn({
      contextId,
      typeId: "test.page",
      typeVersion: 1,
      payload: new Uint8Array(10_000).fill(3),
    });
    await store.close();
    assert.deepEqual(pageAndJournal(path), { page: NEW_KV_FILE_PAGE_BYTES, journal: "wal" });
    const again = await openKvStore(path);
    try {
      assert.deepEqual((await again.getTurn(turn.turnId)).payload, turn.payload);
    } finally {
      await again.close();
    }
    assert.equal(pageAndJournal(path).page, NEW_KV_FILE_PAGE_BYTES);
  });
});

Deno.test("an existing KV file keeps its page size and its data", async () => {
  await withStoreFile(async (path) => {
    const kv = await Deno.openKv(path); // Deno KV's own default: 4 KiB pages
    await kv.set(["kept"], "yes");
    kv.close();
    const before = pageAndJournal(path).page;
    assert.notEqual(before, NEW_KV_FILE_PAGE_BYTES);
    const store = await openKvStore(path);
    const { contextId } = await store.createContext();
    await store.appendTurn({ contextId, typeId: "t", typeVersion: 1, payload: te.encode("x") });
    await store.close();
    assert.equal(pageAndJournal(path).page, before);
    const raw = await Deno.openKv(path);
    try {
      assert.equal((await raw.get(["kept"])).value, "yes");
    } finally {
      raw.close();
    }
  });
});

Deno.test("createKvFile changes nothing where a file is, and gives way where it cannot create one", async () => {
  await withStoreFile(async (path) => {
    await Deno.writeTextFile(path, "not a database");
    assert.equal(createKvFile(path), false);
    assert.equal(await Deno.readTextFile(path), "not a database");
    const nowhere = `${path}.missing-dir/forge.kv`;
    assert.equal(createKvFile(nowhere), false);
    await assert.rejects(() => Deno.stat(nowhere), Deno.errors.NotFound);
    const fresh = `${path}.fresh`;
    assert.equal(createKvFile(fresh, 16 * 1024), true);
    assert.deepEqual(pageAndJournal(fresh), { page: 16 * 1024, journal: "wal" });
    assert.equal(createKvFile(fresh), false, "a second call finds the file");
  });
});
