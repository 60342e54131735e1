import { defineConformanceSuite } from "../conformance/suite.ts";
import { openThreadStore } from "./store.ts";

// The same suite, test for test, as the backends on the caller's thread.
defineConformanceSuite("thread: kv (file)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-thread-kv-" });
  const url = `kv:${dir}/store.kv`;
  return {
    store: await openThreadStore(url),
    reopen: () => openThreadStore(url),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}, { durable: true });

defineConformanceSuite("thread: fs (group)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-thread-fs-" });
  const url = `fs:${dir}?durability=group`;
  return {
    store: await openThreadStore(url),
    reopen: () => openThreadStore(url),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}, { durable: true });
