// Which store URLs name a local file or folder that must already exist for a read command.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openStore } from "@forge/stores";
import {
  assertStoreExists,
  localStorePath,
  NotAStoreError,
  StoreMissingError,
} from "./store_exists.ts";

Deno.test("localStorePath: kv files and fs folders are local; memory, remote KV and CXDB are not", () => {
  assert.equal(localStorePath("kv:.forge/forge.kv"), ".forge/forge.kv");
  assert.equal(localStorePath("fs:./store?durability=group"), "./store");
  assert.equal(
    localStorePath("FS:./store"),
    "./store",
    "schemes are case-insensitive, as openTurnStore reads them",
  );
  for (
    const url of ["memory:", "kv::memory:", "kv:https://kv.example/db", "cxdb://h:9009", "kv:"]
  ) {
    assert.equal(localStorePath(url), undefined, url);
  }
});

Deno.test("assertStoreExists: a missing kv file or fs folder is a StoreMissingError naming its path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fsStore = join(dir, "store");
    await (await openStore(`fs:${fsStore}`)).close();
    await assertStoreExists(`fs:${fsStore}`);
    await assertStoreExists("memory:");
    const missing = join(dir, "nope.kv");
    await assert.rejects(assertStoreExists(`kv:${missing}`), (e: unknown) => {
      assert.ok(e instanceof StoreMissingError);
      assert.equal(e.code, "StoreMissing");
      assert.match(e.message, /there is no store at .*nope\.kv/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assertStoreExists: a path that is no store of its kind is a NotAStoreError, even for a command that creates stores", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "file.txt"), "x");
    await Deno.mkdir(join(dir, "notes"));
    await Deno.writeTextFile(join(dir, "notes", "keep.txt"), "x");
    await Deno.mkdir(join(dir, "empty"));
    const notAStore = (what: RegExp) => (e: unknown) => {
      assert.ok(e instanceof NotAStoreError, String(e));
      assert.equal(e.code, "NotAStore");
      assert.match(e.message, what);
      return true;
    };
    for (const create of [false, true]) {
      await assert.rejects(
        assertStoreExists(`kv:${join(dir, "notes")}`, { create }),
        notAStore(/notes \(from --store kv:.*\) is a directory; a kv: store is one file/),
      );
      await assert.rejects(
        assertStoreExists(`fs:${join(dir, "file.txt")}`, { create }),
        notAStore(/file\.txt \(from --store fs:.*\) is a file; an fs: store is a directory/),
      );
      // Opening it would write the store's files among the folder's own.
      await assert.rejects(
        assertStoreExists(`fs:${join(dir, "notes")}`, { create }),
        notAStore(/holds other files but no fs: store/),
      );
    }
    // An empty folder: a store may be made there, but a read finds none.
    await assertStoreExists(`fs:${join(dir, "empty")}`, { create: true });
    await assert.rejects(
      assertStoreExists(`fs:${join(dir, "empty")}`),
      notAStore(/is an empty directory, not an fs: store/),
    );
    // A missing store is fine for a command that creates one.
    await assertStoreExists(`kv:${join(dir, "new.kv")}`, { create: true });
    await assertStoreExists(`fs:${join(dir, "new")}`, { create: true });
    const left = [];
    for await (const e of Deno.readDir(join(dir, "notes"))) left.push(e.name);
    assert.deepEqual(left, ["keep.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
