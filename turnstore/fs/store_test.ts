import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import { defineConformanceSuite } from "../conformance/suite.ts";
import { openFsStore } from "./mod.ts";
import { DURABILITY_MODES } from "./options.ts";

for (const durability of DURABILITY_MODES) {
  defineConformanceSuite(`fs (${durability})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-fs-" });
    const target = `${dir}?durability=${durability}`;
    return {
      store: await openFsStore(target),
      reopen: () => openFsStore(target),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  }, { durable: true });
}

Deno.test("openTurnStore opens fs: URLs, and a bad durability is InvalidInput before anything is created", async () => {
  const { openTurnStore } = await import("../open.ts");
  const dir = await Deno.makeTempDir({ prefix: "forge-fs-" });
  try {
    const store = await openTurnStore(`fs:${dir}/store?durability=fsync`);
    assert.equal(store.backend, "fs");
    const ctx = await store.createContext();
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 0);
    await store.close();
    await assert.rejects(
      openTurnStore(`fs:${dir}/other?durability=maybe`),
      (e: Error) => isTurnStoreError(e, "InvalidInput") && e.message.includes("maybe"),
    );
    await assert.rejects(Deno.stat(`${dir}/other`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
