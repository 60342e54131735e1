import { defineConformanceSuite } from "@forge/turnstore/conformance";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";
import { realServerUrl } from "../testing/real.ts";

defineConformanceSuite("cxdb (protocol peer)", async () => {
  const peer = await startPeer();
  const store = await openCxdbStore(peer.url);
  return { store, cleanup: () => peer.close() };
});

const real = realServerUrl();
defineConformanceSuite("cxdb (real server)", async () => ({ store: await openCxdbStore(real!) }), {
  ignore: real === undefined,
});
