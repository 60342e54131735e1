// Child process of crash_test.ts: appends turns forever, printing each id
// once its append is acknowledged; the parent kills it with SIGKILL.
import { openFsStore } from "../mod.ts";

const [target, contextId, writers] = Deno.args;
const store = await openFsStore(target);
const encoder = new TextEncoder();
let n = 0;
await Promise.all(
  Array.from({ length: Number(writers) }, async () => {
    for (;;) {
      const i = n++;
      const turn = await store.appendTurn({
        contextId,
        typeId: "test.crash",
        typeVersion: 1,
        payload: encoder.encode(`payload-${i}`.padEnd(200, ".")),
      });
      console.log(`${turn.turnId} ${i}`);
    }
  }),
);
