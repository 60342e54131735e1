import assert from "node:assert/strict";
import {
  FsStore,
  isTurnStoreError,
  KvStore,
  MemoryStore,
  openFsStore,
  openKvStore,
  openMemoryStore,
  openTurnStore,
  ThreadStore,
} from "../turnstore/mod.ts";
import { CxdbStore, openCxdbStore } from "../cxdb/mod.ts";
import { openStore, STORE_SCHEMES } from "../stores/mod.ts";
import { startPeer } from "../cxdb/testing/peer.ts";

Deno.test("memory: opens an empty in-memory store", async () => {
  await using store = await openStore("memory:");
  assert.ok(store instanceof MemoryStore);
  assert.equal(store.backend, "memory");
});

Deno.test("an unknown scheme is Unsupported and lists every known one, CXDB's included", async () => {
  await assert.rejects(openStore("redis://127.0.0.1:6379"), (e) => {
    assert.ok(isTurnStoreError(e, "Unsupported"));
    assert.match((e as Error).message, /redis:.*cxdb: cxdbs: memory: kv: fs:/);
    return true;
  });
  assert.deepEqual(STORE_SCHEMES, ["memory:", "kv:", "fs:", "cxdb:", "cxdbs:"]);
});

Deno.test("turnstore's openTurnStore knows its own backends only", async () => {
  await assert.rejects(openTurnStore("cxdb://127.0.0.1:1"), (e) => {
    assert.ok(isTurnStoreError(e, "Unsupported"));
    assert.match((e as Error).message, /\(known: memory: kv: fs:\)$/);
    return true;
  });
});

Deno.test("a URL without a scheme is InvalidInput", async () => {
  for (const url of ["", "./data", ":memory:"]) {
    await assert.rejects(openStore(url), (e) => isTurnStoreError(e, "InvalidInput"));
  }
  await assert.rejects(openStore("memory:extra"), (e) => isTurnStoreError(e, "InvalidInput"));
});

Deno.test("extra schemes are passed in by the caller and win over built-in ones", async () => {
  let seen = "";
  const store = await openStore("demo:rest-of-url", {
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

Deno.test("kv:, fs: and cxdb:// URLs open their backends' classes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-open-" });
  const peer = await startPeer();
  try {
    const cases: [string, { prototype: object }][] = [
      [`kv:${dir}/a.kv`, KvStore],
      ["kv::memory:", KvStore],
      [`fs:${dir}/log`, FsStore],
      [peer.url, CxdbStore],
    ];
    for (const [url, type] of cases) {
      await using store = await openStore(url);
      assert.ok(Object.getPrototypeOf(store) === type.prototype, url);
      const ctx = await store.createContext();
      assert.equal(ctx.headDepth, 0);
    }
  } finally {
    await peer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every backend opens the same way: an async openXStore returning its exported class", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-open-" });
  const peer = await startPeer();
  try {
    const opened = [
      [await openMemoryStore(), MemoryStore],
      [await openKvStore(":memory:"), KvStore],
      [await openFsStore(`${dir}/log`), FsStore],
      [await openCxdbStore(peer.url), CxdbStore],
    ] as const;
    for (const [store, type] of opened) {
      assert.ok(store instanceof type, store.backend);
      await store.close();
    }
  } finally {
    await peer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openStore runs a kv file or fs store on its own thread when asked; CXDB stays on the caller's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-open-thread-" });
  try {
    for (const url of [`kv:${dir}/t.kv`, `fs:${dir}/fs`]) {
      await using store = await openStore(url, { thread: "worker" });
      assert.ok(store instanceof ThreadStore, url);
      assert.equal(store.backend, url.slice(0, 2));
      const ctx = await store.createContext();
      assert.equal((await store.getHead(ctx.contextId)).headDepth, 0);
    }
    await assert.rejects(
      openStore("cxdb://127.0.0.1:9", { thread: "worker" }),
      (e: Error) => isTurnStoreError(e, "Unsupported") && /cxdb:.*own thread/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
