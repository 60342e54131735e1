/**
 * Opening something that is not an fs store: a path that is a file, a
 * directory whose `log` or `registry.log` is some other file. The store
 * refuses with a BackendError naming the file, and the file keeps every byte
 * (recovery once took such a file for a torn tail and cut it to nothing).
 * A first append torn inside its magic is still recovered as an empty store.
 */
import assert from "node:assert/strict";
import { BackendError } from "../core/errors.ts";
import { openFsStore } from "./mod.ts";
import { bytes, withTempDir } from "./test_util.ts";

async function assertRefusedUnchanged(dir: string, file: string, content: Uint8Array) {
  await assert.rejects(openFsStore(`${dir}?durability=none`), (error: unknown) => {
    assert.ok(error instanceof BackendError, `a BackendError, got ${error}`);
    assert.equal(error.code, "Backend");
    assert.match(error.message, new RegExp(`${file}.*not a log of this store`));
    return true;
  });
  assert.deepEqual(await Deno.readFile(`${dir}/${file}`), content, `${file} keeps every byte`);
}

Deno.test("a directory whose log is some other file is refused, the file unchanged", async () => {
  const foreign: Record<string, Uint8Array> = {
    "random bytes": crypto.getRandomValues(new Uint8Array(5000)),
    "an application's text log": new TextEncoder().encode("2026-12-02 started\n".repeat(100)),
    "a JSON document": new TextEncoder().encode('{"log": ["FLG1"]}'),
    "one byte": new Uint8Array([0x7b]),
    // Zeros, or part of the magic, then other bytes: not an append that missed the disk.
    "zeros, then data": new Uint8Array([0, 0, 0, 0, ...new TextEncoder().encode("data")]),
    "half the magic, then data": new Uint8Array([0x46, 0x4c, 0, 0, 0x64, 0x61]),
  };
  for (const [what, content] of Object.entries(foreign)) {
    await withTempDir(async (dir) => {
      await Deno.writeFile(`${dir}/log`, content);
      await assertRefusedUnchanged(dir, "log", content).catch((e) => {
        throw new Error(`${what}: ${e.message}`, { cause: e });
      });
      // Refused before any file of the store was made beside it.
      const names = [];
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
      assert.deepEqual(names.filter((n) => n.endsWith(".idx")), [], `${what}: no index made`);
    });
  }
});

Deno.test("a directory whose registry.log is some other file is refused, the file unchanged", async () => {
  await withTempDir(async (dir) => {
    const content = new TextEncoder().encode("not a registry\n");
    await Deno.writeFile(`${dir}/registry.log`, content);
    await assertRefusedUnchanged(dir, "registry.log", content);
  });
});

Deno.test("a store whose log was replaced by other bytes is refused, the bytes kept", async () => {
  await withTempDir(async (dir) => {
    const store = await openFsStore(`${dir}?durability=none`);
    const ctx = await store.createContext();
    await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("kept"),
    });
    await store.close();
    const log = await Deno.readFile(`${dir}/log`);
    log[0] ^= 0x20; // "FLG1" → "fLG1": no append leaves that
    await Deno.writeFile(`${dir}/log`, log);
    await assertRefusedUnchanged(dir, "log", log);
  });
});

Deno.test("a first append torn inside its magic is an empty store, not a refusal", async () => {
  // What a crash during the very first write can leave: a prefix of the
  // magic, or zeros where the write never reached the disk.
  for (
    const torn of [[0x46], [0x46, 0x4c, 0x47], [0x46, 0x4c, 0x47, 0x31, 9, 9], [0, 0, 0, 0, 0]]
  ) {
    await withTempDir(async (dir) => {
      await Deno.writeFile(`${dir}/log`, new Uint8Array(torn));
      const store = await openFsStore(`${dir}?durability=none`);
      try {
        assert.deepEqual(await store.listContexts(), [], `torn ${torn}: no context`);
        const ctx = await store.createContext();
        assert.equal(ctx.contextId, "1", `torn ${torn}: the store grows from the start`);
      } finally {
        await store.close();
      }
    });
  }
});

Deno.test("a path that is a file, not a directory, is refused saying so", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/plain`, "hello");
    await assert.rejects(openFsStore(`${dir}/plain`), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(error.message, /plain \(it exists and is not a directory\)/);
      return true;
    });
    assert.equal(await Deno.readTextFile(`${dir}/plain`), "hello");
  });
});
