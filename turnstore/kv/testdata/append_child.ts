/**
 * Appends turns to one context of a KV file from a separate process, for the
 * cross-process concurrency test. Usage: append_child.ts <file> <context> <count> <label>
 *
 * @module
 */
import { KvStore } from "../store.ts";

const [path, contextId, count, label] = Deno.args;
const store = new KvStore(await Deno.openKv(path));
// Several appenders at once, so this process also batches.
let next = 0;
await Promise.all(Array.from({ length: 4 }, async () => {
  for (let i = next++; i < Number(count); i = next++) {
    await store.appendTurn({
      contextId,
      typeId: "test.child",
      typeVersion: 1,
      payload: new TextEncoder().encode(`${label}${i}`),
    });
  }
}));
await store.close();
