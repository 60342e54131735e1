import assert from "node:assert/strict";
import { isTurnStoreError, MemoryStore, openTurnStore } from "../turnstore/mod.ts";

Deno.test("memory: opens an empty in-memory store", async () => {
  await using store = await openTurnStore("memory:");
  assert.ok(store instanceof MemoryStore);
  assert.equal(store.backend, "memory");
});

Deno.test("an unknown scheme is Unsupported and lists the known ones", async () => {
  await assert.rejects(openTurnStore("redis://127.0.0.1:6379"), (e) => {
    assert.ok(isTurnStoreError(e, "Unsupported"));
    assert.match((e as Error).message, /redis:.*memory: kv: fs:/);
    return true;
  });
});

Deno.test("a URL without a scheme is InvalidInput", async () => {
  for (const url of ["", "./data", ":memory:"]) {
    await assert.rejects(openTurnStore(url), (e) => isTurnStoreError(e, "InvalidInput"));
  }
  await assert.rejects(openTurnStore("memory:extra"), (e) => isTurnStoreError(e, "InvalidInput"));
});

Deno.test("extra schemes are passed in by the caller and win over built-in ones", async () => {
  let seen = "";
  const store = await openTurnStore("demo:rest-of-url", {
    schemes: {
      "demo:": (rest, url) => {
        seen = `${rest} | ${url}`;
        return Promise.resolve(new MemoryStore());
      },
    },
  });
  assert.equal(seen, "rest-of-url | demo:rest-of-url");
  await store.close();
});

Deno.test("kv: and fs: URLs open their backends", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-open-" });
  try {
    for (
      const [url, backend] of [[`kv:${dir}/a.kv`, "kv"], ["kv::memory:", "kv"], [
        `fs:${dir}/log`,
        "fs",
      ]]
    ) {
      await using store = await openTurnStore(url);
      assert.equal(store.backend, backend, url);
      const ctx = await store.createContext();
      assert.equal(ctx.headDepth, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
