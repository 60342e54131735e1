import { defineConformanceSuite } from "../conformance/suite.ts";
import { KvStore } from "./store.ts";
import { KV_CONNECT_LIMITS, LOCAL_KV_LIMITS } from "./limits.ts";
import { startKvConnectPeer } from "./testing/kv_connect_peer.ts";

async function tempKv() {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-" });
  const path = `${dir}/forge.kv`;
  return { path, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

// A file or memory KV as openKvStore opens it: local commit limits (100 contexts per commit).
defineConformanceSuite("kv (file)", async () => {
  const { path, cleanup } = await tempKv();
  const limits = LOCAL_KV_LIMITS;
  return {
    store: new KvStore(await Deno.openKv(path), { limits }),
    reopen: async () => new KvStore(await Deno.openKv(path), { limits }),
    cleanup,
  };
}, { durable: true });

defineConformanceSuite("kv (:memory:)", async () => ({
  store: new KvStore(await Deno.openKv(":memory:"), { limits: LOCAL_KV_LIMITS }),
}));

// The remote code path's limits (10 contexts per commit) on a local file.
defineConformanceSuite("kv (file, KV Connect limits)", async () => {
  const { path, cleanup } = await tempKv();
  const limits = KV_CONNECT_LIMITS;
  return {
    store: new KvStore(await Deno.openKv(path), { limits }),
    reopen: async () => new KvStore(await Deno.openKv(path), { limits }),
    cleanup,
  };
}, { durable: true });

// The remote code path itself: Deno's KV Connect client against the in-repo peer on 127.0.0.1.
// The peer keeps its data in memory across clients, so `reopen` (a new client) sees every commit.
defineConformanceSuite("kv (KV Connect, in-repo peer)", async () => {
  const peer = await startKvConnectPeer();
  Deno.env.set("DENO_KV_ACCESS_TOKEN", peer.token);
  const open = async () => new KvStore(await Deno.openKv(peer.url), { limits: KV_CONNECT_LIMITS });
  return { store: await open(), reopen: open, cleanup: () => peer.close() };
}, { durable: true });

const remoteUrl = Deno.env.get("FORGE_TEST_KV_URL");
defineConformanceSuite(
  "kv (remote, ignored unless FORGE_TEST_KV_URL is set)",
  async () => ({
    store: new KvStore(await Deno.openKv(remoteUrl!), { limits: KV_CONNECT_LIMITS }),
    reopen: async () => new KvStore(await Deno.openKv(remoteUrl!), { limits: KV_CONNECT_LIMITS }),
  }),
  { ignore: !remoteUrl, durable: true },
);
