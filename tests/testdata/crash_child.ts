/**
 * Child process of tests/crash_test.ts: appends keyed turns to one context
 * with several concurrent writers, printing "turnId i" once each append is
 * acknowledged, until it is killed (or, given a count, until it has appended
 * that many and closed the store).
 *
 * Usage: crash_child.ts <store URL> <context> <writers> <key prefix> [count]
 *
 * @module
 */
import { openTurnStore } from "../../turnstore/open.ts";
import { crashPayload } from "./crash_payload.ts";

const [url, contextId, writers, prefix, count] = Deno.args;
const limit = count === undefined ? Infinity : Number(count);
const store = await openTurnStore(url);
let next = 0;
await Promise.all(
  Array.from({ length: Number(writers) }, async () => {
    for (let i = next++; i < limit; i = next++) {
      const turn = await store.appendTurn({
        contextId,
        typeId: "test.crash",
        typeVersion: 1,
        payload: crashPayload(`${prefix}${i}`, i),
        idempotencyKey: `${prefix}${i}`,
      });
      console.log(`${turn.turnId} ${i}`);
    }
  }),
);
await store.close();
