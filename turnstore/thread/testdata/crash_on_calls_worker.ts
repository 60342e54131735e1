// A store thread that opens, then dies on the first calls it receives: the
// proxy must reject every pending call with a typed error, never hang.
const port = self as unknown as {
  onmessage: ((e: MessageEvent<{ t: string }>) => void) | null;
  postMessage(message: unknown): void;
};
port.onmessage = (e) => {
  if (e.data.t === "open") port.postMessage({ t: "opened", backend: "memory" });
  if (e.data.t === "calls") throw new Error("the store thread crashed on purpose");
};
port.postMessage({ t: "ready" });
