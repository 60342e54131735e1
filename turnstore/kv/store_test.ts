import { defineConformanceSuite } from "../conformance/suite.ts";
import { KvStore } from "./store.ts";

async function tempKv() {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-" });
  const path = `${dir}/forge.kv`;
  return { path, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

defineConformanceSuite("kv (file)", async () => {
  const { path, cleanup } = await tempKv();
  return {
    store: new KvStore(await Deno.openKv(path)),
    reopen: async () => new KvStore(await Deno.openKv(path)),
    cleanup,
  };
}, { durable: true });

defineConformanceSuite("kv (:memory:)", async () => ({
  store: new KvStore(await Deno.openKv(":memory:")),
}));

const remoteUrl = Deno.env.get("FORGE_TEST_KV_URL");
defineConformanceSuite(
  "kv (remote, ignored unless FORGE_TEST_KV_URL is set)",
  async () => ({
    store: new KvStore(await Deno.openKv(remoteUrl!)),
    reopen: async () => new KvStore(await Deno.openKv(remoteUrl!)),
  }),
  { ignore: !remoteUrl, durable: true },
);
