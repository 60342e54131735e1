import assert from "node:assert/strict";
import { blake3Hex } from "../core/hash.ts";
import { isTurnStoreError } from "../core/errors.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { crashCopy, openStore, tempDir, withTempDir } from "./test_util.ts";

Deno.test("a 10 MB blob is stored as one content-addressed file and survives reopen", async () => {
  await withTempDir(async (dir) => {
    const big = new Uint8Array(10_000_000);
    for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff;
    let store = await openStore(dir, "group");
    const put = await store.putBlob(big);
    assert.equal(put.hash, blake3Hex(big));
    const onDisk = await Deno.stat(`${dir}/blobs/${put.hash.slice(0, 2)}/${put.hash}`);
    assert.equal(onDisk.size, big.length);
    assert.deepEqual([...Deno.readDirSync(`${dir}/blobs/tmp`)], [], "no temp file is left");
    await store.close();
    store = await openStore(dir, "group");
    try {
      assert.equal(blake3Hex(await store.getBlob(put.hash)), put.hash);
      assert.equal((await store.putBlob(big)).wasNew, false);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a damaged blob file is a BackendError naming the file, never wrong bytes", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir);
    try {
      const { hash } = await store.putBlob(new TextEncoder().encode("tree root"));
      const path = `${dir}/blobs/${hash.slice(0, 2)}/${hash}`;
      await Deno.writeTextFile(path, "tree roof");
      await assert.rejects(store.getBlob(hash), (error: Error) => {
        assert.ok(isTurnStoreError(error, "Backend"), String(error));
        assert.ok(error.message.includes(path), error.message);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

Deno.test("published bundles survive a crash, and a torn bundle record is dropped", async () => {
  const dir = await tempDir();
  const bundle = (id: string): RegistryBundle => ({
    registry_version: 1,
    bundle_id: id,
    types: { "test.kind": { versions: { "1": { fields: { "1": { name: "a", type: "u64" } } } } } },
  });
  try {
    const store = await openStore(dir);
    await store.publishRegistryBundle(bundle("first"));
    const keptSize = (await Deno.stat(`${dir}/registry.log`)).size;
    await store.publishRegistryBundle(bundle("second"));
    const crashed = await crashCopy(dir);
    await store.close();
    try {
      const fullSize = (await Deno.stat(`${crashed}/registry.log`)).size;
      await Deno.truncate(`${crashed}/registry.log`, keptSize + (fullSize - keptSize) / 2);
      const reopened = await openStore(crashed);
      try {
        assert.equal((await reopened.getRegistryBundle("first"))?.bundle_id, "first");
        assert.equal(await reopened.getRegistryBundle("second"), undefined);
        assert.deepEqual(await reopened.publishRegistryBundle(bundle("second")), { created: true });
      } finally {
        await reopened.close();
      }
      assert.ok((await Deno.stat(`${crashed}/registry.log`)).size > keptSize);
    } finally {
      await Deno.remove(crashed, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
