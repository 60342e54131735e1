/**
 * Starts the protocol peer on its own thread (see peer_worker.ts).
 *
 * @module
 */

/** A peer running in a worker. */
export interface PeerThread extends AsyncDisposable {
  /** Binary protocol port. */
  readonly port: number;
  /** HTTP base URL. */
  readonly httpUrl: string;
  /** cxdb:// URL. */
  readonly url: string;
  /** Stops the peer and the worker. */
  close(): Promise<void>;
}

/** Starts a peer in a worker thread and waits until it listens. */
export async function startPeerThread(options: { latencyMs?: number } = {}): Promise<PeerThread> {
  const worker = new Worker(new URL("./peer_worker.ts", import.meta.url), { type: "module" });
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e);
    });
  await next(); // "ready"
  const ready = next();
  worker.postMessage(options);
  const info = await ready as { port: number; httpUrl: string; url: string };
  const close = async () => {
    const done = next();
    worker.postMessage("close");
    await done;
    worker.terminate();
  };
  return { ...info, close, [Symbol.asyncDispose]: close };
}
