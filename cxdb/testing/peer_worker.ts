/**
 * Runs a {@link startPeer} protocol peer in a Web Worker, so that a benchmark
 * measures the client on one thread against a server on another, as with a
 * real CXDB process. The worker first posts "ready" (messages sent before its
 * module finished loading would be lost); then post `{ latencyMs? }` to
 * start; it answers with `{ port, httpUrl, url }`; post `"close"` to stop it.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type CxdbPeer, startPeer } from "./peer.ts";

let peer: CxdbPeer | undefined;
self.onmessage = async (e: MessageEvent) => {
  if (e.data === "close") {
    await peer?.close();
    self.postMessage("closed");
    self.close();
    return;
  }
  peer = await startPeer({ latencyMs: e.data?.latencyMs });
  self.postMessage({ port: peer.port, httpUrl: peer.httpUrl, url: peer.url });
};
self.postMessage("ready");
