/**
 * The bytes of an append are those of the call, on every path the CXDB store
 * sends an append by: the returned turn's payload, its hash and the stored
 * turn, even when the caller reuses its buffer at once — including appends
 * that wait (an explicit parent reads the head first, an fs root is checked
 * first) before they are encoded.
 */
import assert from "node:assert/strict";
import { blake3Hex } from "@forge/turnstore";
import type { AppendTurnInput } from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("the returned and the stored payload are the bytes at the call on every append path", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  let head = "0";
  const root = (await store.putBlob(text("a tree"))).hash;
  const paths: [string, () => Partial<AppendTurnInput>][] = [
    ["plain", () => ({})],
    ["keyed", () => ({ idempotencyKey: "k-1" })],
    ["explicit parent", () => ({ parentTurnId: head })],
    ["fs root", () => ({ fsRootHash: root })],
  ];
  for (const [path, extra] of paths) {
    const payload = text(`as it was at the call (${path})`);
    const expected = payload.slice();
    const pending = store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.reused",
      typeVersion: 1,
      payload,
      ...extra(),
    });
    payload.fill(0x21); // the caller reuses its buffer before the append settles
    const turn = await pending;
    head = turn.turnId;
    assert.deepEqual(turn.payload, expected, `${path}: returned payload`);
    assert.equal(turn.contentHash, blake3Hex(expected), `${path}: hash`);
    const stored = await store.getTurn(turn.turnId);
    assert.deepEqual(stored.payload, expected, `${path}: stored payload`);
    assert.equal(stored.contentHash, blake3Hex(expected), `${path}: stored hash`);
  }
});

Deno.test("a returned payload is the caller's to change: no other turn and no retry sees it", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const turns = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: text(`turn ${i}`),
      })),
  );
  for (const t of turns) t.payload.fill(0); // payload views share pooled buffers: never overlapping
  for (const [i, t] of turns.entries()) {
    const stored = await store.getTurn(t.turnId);
    assert.deepEqual(stored.payload, text(`turn ${i}`));
  }
  const again = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "test.item",
    typeVersion: 1,
    payload: text("after"),
  });
  assert.deepEqual(again.payload, text("after"));
});
