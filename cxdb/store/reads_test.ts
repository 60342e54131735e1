import assert from "node:assert/strict";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";

const te = new TextEncoder();
const td = new TextDecoder();

Deno.test("getTurn of a turn this store has seen reads it without creating a throwaway context", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const turns = [];
  for (let i = 0; i < 5; i++) {
    turns.push(
      await store.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: te.encode(`v${i}`),
      }),
    );
  }
  const before = (await store.http!.contexts({ limit: 100 })).length;
  assert.equal(
    td.decode((await store.getTurn(turns[2].turnId)).payload),
    "v2",
    "a middle turn, via its child",
  );
  assert.equal(td.decode((await store.getTurn(turns[4].turnId)).payload), "v4", "the head");
  assert.equal(
    (await store.http!.contexts({ limit: 100 })).length,
    before,
    "no context was created",
  );
});

Deno.test("a store that has never seen a turn still reads it, its history and its fs root (through a fork)", async () => {
  await using peer = await startPeer();
  await using writer = await openCxdbStore(peer.url);
  const ctx = await writer.createContext();
  const turns = [];
  for (let i = 0; i < 6; i++) {
    turns.push(
      await writer.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 2,
        payload: te.encode(`w${i}`),
      }),
    );
  }
  await using reader = await openCxdbStore(peer.url);
  const got = await reader.getTurn(turns[3].turnId);
  assert.deepEqual(
    {
      id: got.turnId,
      parent: got.parentTurnId,
      depth: got.depth,
      v: got.typeVersion,
      text: td.decode(got.payload),
    },
    { id: turns[3].turnId, parent: turns[2].turnId, depth: 4, v: 2, text: "w3" },
  );
  const page = await reader.listTurns(ctx.contextId, { beforeTurnId: turns[4].turnId, limit: 2 });
  assert.deepEqual(page.map((t) => t.turnId), [turns[2].turnId, turns[3].turnId]);
  assert.deepEqual(page.map((t) => t.depth), [3, 4]);
  assert.equal(await reader.getFsRoot(turns[5].turnId), undefined);
});
