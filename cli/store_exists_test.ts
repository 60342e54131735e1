// Which store URLs name a local file or folder that must already exist for a read command.
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertStoreExists, localStorePath, StoreMissingError } from "./store_exists.ts";

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
    await assertStoreExists(`fs:${dir}`);
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
