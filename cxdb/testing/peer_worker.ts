/**
 * Runs a {@link startPeer} protocol peer in a Web Worker, so that a benchmark
 * measures the client on one thread against a server on another, as with a
 * real CXDB process. The worker first posts "ready" (messages sent before its
 * module finished loading would be lost); then post `{ latencyMs? }` to
 * start; it answers with `{ port, httpUrl, url }`; post `"close"` to stop it.
 *
 * @module
 */
import { type CxdbPeer, startPeer } from "./peer.ts";

// Typed by hand rather than with `/// <reference lib="deno.worker" />`, which
// would change the global types of every module checked with this one.
const worker = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

let peer: CxdbPeer | undefined;
worker.onmessage = async (e: MessageEvent) => {
  if (e.data === "close") {
    await peer?.close();
    worker.postMessage("closed");
    worker.close();
    return;
  }
  peer = await startPeer({ latencyMs: e.data?.latencyMs });
  worker.postMessage({ port: peer.port, httpUrl: peer.httpUrl, url: peer.url });
};
worker.postMessage("ready");
