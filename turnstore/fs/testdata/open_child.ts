// Child process of lock_test.ts: opens the store named on the command line
// and reports the outcome as one JSON line, then (when told) holds it open.
import { openFsStore } from "../mod.ts";

const [target, hold] = Deno.args;
try {
  const store = await openFsStore(target);
  console.log(JSON.stringify({ opened: true }));
  // A pending timer keeps the process (and its lock) alive until the parent kills it.
  if (hold === "hold") setInterval(() => {}, 60_000);
  else await store.close();
} catch (error) {
  const e = error as { code?: string; message?: string };
  console.log(JSON.stringify({ opened: false, code: e.code, message: e.message }));
}
