// A store thread that opens, then dies on the first calls it receives: the
// proxy must reject every pending call with a typed error, never hang.
import { parentPort } from "node:worker_threads";

parentPort!.on("message", (message: { t: string }) => {
  if (message.t === "open") parentPort!.postMessage({ t: "opened", backend: "memory" });
  if (message.t === "calls") throw new Error("the store thread crashed on purpose");
});
parentPort!.postMessage({ t: "ready" });
