/**
 * Blobs and filesystem roots: content addressing by BLAKE3, deduplication,
 * and roots attached to a turn and inherited by its descendants.
 *
 * @module
 */
import assert from "node:assert/strict";
import { blake3Hex } from "../core/hash.ts";
import { appendN, bytes, rejectsWith, unique } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the blob and filesystem-root tests. */
export function defineBlobTests(test: ConformanceTest): void {
  test("blobs are addressed by BLAKE3, deduplicated and returned intact", async ({ store }) => {
    const data = bytes(unique("blob"));
    const put = await store.putBlob(data);
    assert.equal(put.hash, blake3Hex(data));
    assert.equal(put.wasNew, true);
    assert.equal((await store.putBlob(data)).wasNew, false);
    assert.deepEqual(await store.getBlob(put.hash), data);
    assert.equal(await store.hasBlob(put.hash), true);
    const empty = await store.putBlob(new Uint8Array());
    assert.equal(empty.hash, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assert.equal((await store.getBlob(empty.hash)).length, 0);
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    const bigPut = await store.putBlob(big);
    assert.deepEqual(await store.getBlob(bigPut.hash), big);
    const absent = blake3Hex(bytes(unique("absent")));
    assert.equal(await store.hasBlob(absent), false);
    await rejectsWith(store.getBlob(absent), "NotFound", [absent]);
    await rejectsWith(store.getBlob("xyz"), "InvalidInput", ["hash"]);
  });

  test("a filesystem root attaches to a turn and is inherited by its descendants", async ({ store }) => {
    const ctx = await store.createContext();
    const [t1, t2] = await appendN(store, ctx.contextId, 2);
    const root = (await store.putBlob(bytes(unique("tree")))).hash;
    const other = (await store.putBlob(bytes(unique("tree2")))).hash;
    await store.attachFs(t2.turnId, root);
    await store.attachFs(t2.turnId, root); // again: harmless
    const [t3] = await appendN(store, ctx.contextId, 1);
    assert.equal(await store.getFsRoot(t1.turnId), undefined);
    assert.equal(await store.getFsRoot(t2.turnId), root);
    assert.equal(await store.getFsRoot(t3.turnId), root, "inherited from the nearest ancestor");
    await rejectsWith(store.attachFs(t2.turnId, other), "Conflict", [t2.turnId]);
    const t4 = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("with fs"),
      fsRootHash: other,
    });
    assert.equal(await store.getFsRoot(t4.turnId), other);
    const missing = blake3Hex(bytes(unique("missing")));
    await rejectsWith(store.attachFs(t1.turnId, missing), "NotFound", [missing]);
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
        fsRootHash: missing,
      }),
      "NotFound",
      [missing],
    );
    assert.equal(
      (await store.getHead(ctx.contextId)).headTurnId,
      t4.turnId,
      "nothing was appended",
    );
    await rejectsWith(store.attachFs("999999999998", root), "NotFound", ["999999999998"]);
  });
}
