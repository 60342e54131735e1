import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openKvStore } from "./mod.ts";
import { BackendError } from "../core/errors.ts";

/** A KV file holding one context with a few turns, closed. */
async function storeFile(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-probe-" });
  const path = `${dir}/forge.kv`;
  const store = await openKvStore(path);
  const ctx = await store.createContext();
  for (let i = 0; i < 5; i++) {
    await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.note",
      typeVersion: 1,
      payload: new Uint8Array(64).fill(i),
    });
  }
  store.close();
  return { path, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/** Overwrites the first page of the table or index `name` with garbage (the WAL checkpointed first). */
function damage(path: string, name: string): void {
  const db = new DatabaseSync(path);
  db.exec("pragma wal_checkpoint(truncate)");
  const { rootpage } = db.prepare("select rootpage from sqlite_master where name = ?").get(
    name,
  ) as { rootpage: number };
  const { page_size } = db.prepare("pragma page_size").get() as { page_size: number };
  db.close();
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    file.seekSync((rootpage - 1) * page_size, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(page_size).fill(0xa5));
    file.syncSync();
  } finally {
    file.close();
  }
}

Deno.test("kv file probe: an undamaged store opens and reads back", async () => {
  const { path, cleanup } = await storeFile();
  try {
    const store = await openKvStore(path);
    const [context] = await store.listContexts({ limit: 1 });
    assert.equal(context.headDepth, 5);
    store.close();
  } finally {
    await cleanup();
  }
});

// Deno KV's queue and expiry threads read these first; damage there ended the
// process with a panic instead of reaching the caller.
for (
  const name of [
    "sqlite_autoindex_queue_1", // the queue's (ts, id) key, which its reads use
    "sqlite_autoindex_queue_running_1",
    "kv_expiration_ms_idx",
    "data_version",
  ]
) {
  Deno.test(`kv file probe: damage to ${name} is a Backend error naming the file, and the file is left as it was`, async () => {
    const { path, cleanup } = await storeFile();
    try {
      damage(path, name);
      const before = await Deno.readFile(path);
      const error = await openKvStore(path).then(
        (store) => (store.close(), undefined),
        (e) => e,
      );
      assert.ok(error instanceof BackendError, `expected a Backend error, got ${error}`);
      assert.match(error.message, new RegExp(`kv file .*forge\\.kv is damaged .*malformed`));
      assert.deepEqual(await Deno.readFile(path), before);
    } finally {
      await cleanup();
    }
  });
}

Deno.test("kv file probe: a file that is not a database is a Backend error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-probe-" });
  try {
    const path = `${dir}/notes.kv`;
    await Deno.writeTextFile(path, "these are my notes, not a database\n".repeat(200));
    await assert.rejects(openKvStore(path), (e) => e instanceof BackendError);
    assert.equal(
      await Deno.readTextFile(path),
      "these are my notes, not a database\n".repeat(200),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
