import assert from "node:assert/strict";
import { isTurnStoreError } from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";

const te = new TextEncoder();

Deno.test("a compare-and-set append waits for the context's earlier appends, so it cannot slip between them", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const first = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "t",
    typeVersion: 1,
    payload: te.encode("0"),
  });
  const plain = Array.from(
    { length: 5 },
    (_, i) =>
      store.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: te.encode(`p${i}`),
      }),
  );
  const cas = store.appendTurn({
    contextId: ctx.contextId,
    parentTurnId: first.turnId,
    typeId: "t",
    typeVersion: 1,
    payload: te.encode("cas"),
  });
  const later = store.appendTurn({
    contextId: ctx.contextId,
    typeId: "t",
    typeVersion: 1,
    payload: te.encode("after"),
  });
  await Promise.all(plain);
  await assert.rejects(
    cas,
    (e: unknown) => isTurnStoreError(e, "Conflict") && e.message.includes(first.turnId),
  );
  const after = await later;
  assert.equal(after.depth, 7, "the append queued behind the compare-and-set went on at the head");
  assert.equal(peer.counts.appends, 7, "the refused compare-and-set wrote nothing");
});
