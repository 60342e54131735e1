import assert from "node:assert/strict";
import { isTurnStoreError } from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";

const te = new TextEncoder();
const td = new TextDecoder();

Deno.test("a lost acknowledgment of a keyed append mid-pipeline: exactly one turn, the others retried, none duplicated", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  let fired = false;
  peer.fault = (req) => {
    if (!fired && req.append?.idempotencyKey === "k-lost") {
      fired = true;
      return "drop-after"; // stored, then the connection closes: the ack is lost
    }
    return undefined;
  };
  const appends = Array.from({ length: 12 }, (_, i) =>
    store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode(`p${i}`),
      idempotencyKey: i === 5 ? "k-lost" : undefined,
    }));
  const results = await Promise.all(appends);
  assert.ok(fired, "the fault was injected");
  assert.equal(store.client.stats.drops, 1);
  assert.ok(store.client.stats.recoveredAppends >= 1, "the lost ack was recovered, not re-sent");
  assert.equal(peer.counts.appends, 12, "the server stored each append exactly once");
  const listed = await store.listTurns(ctx.contextId);
  assert.equal(listed.length, 12);
  assert.deepEqual(
    listed.map((t) => td.decode(t.payload)).sort(),
    Array.from({ length: 12 }, (_, i) => `p${i}`).sort(),
  );
  assert.deepEqual(new Set(listed.map((t) => t.turnId)), new Set(results.map((r) => r.turnId)));
  const again = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "test.item",
    typeVersion: 1,
    payload: te.encode("p5"),
    idempotencyKey: "k-lost",
  });
  assert.equal(again.deduplicated, true);
  assert.equal(again.turnId, results[5].turnId);
  assert.equal(peer.counts.appends, 12);
});

Deno.test("an append the server never stored before dropping is sent again once", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  let fired = false;
  peer.fault = (req) => {
    if (!fired && req.append?.idempotencyKey === "k-unsent") {
      fired = true;
      return "drop-before";
    }
    return undefined;
  };
  const [a, b, c] = await Promise.all(["x", "y", "z"].map((p, i) =>
    store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode(p),
      idempotencyKey: i === 1 ? "k-unsent" : undefined,
    })
  ));
  assert.equal(store.client.stats.resentAppends >= 1, true);
  assert.equal(peer.counts.appends, 3);
  assert.equal(new Set([a.turnId, b.turnId, c.turnId]).size, 3);
  assert.equal((await store.getHead(ctx.contextId)).headDepth, 3);
});

Deno.test("a failing request among pipelined appends gets a clear error naming it; the others succeed", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const missing = "9876543210";
  const settled = await Promise.allSettled([
    store.appendTurn({
      contextId: ctx.contextId,
      typeId: "t",
      typeVersion: 1,
      payload: te.encode("1"),
    }),
    store.appendTurn({ contextId: missing, typeId: "t", typeVersion: 1, payload: te.encode("2") }),
    store.appendTurn({
      contextId: ctx.contextId,
      typeId: "t",
      typeVersion: 1,
      payload: te.encode("3"),
    }),
    store.getHead(ctx.contextId),
  ]);
  assert.equal(settled[0].status, "fulfilled");
  assert.equal(settled[2].status, "fulfilled");
  assert.equal(settled[3].status, "fulfilled");
  const failure = (settled[1] as PromiseRejectedResult).reason;
  assert.ok(isTurnStoreError(failure, "NotFound"), String(failure));
  assert.match(failure.message, new RegExp(`context ${missing} not found`));
  assert.match(failure.message, /APPEND_TURN \(context 9876543210/);
  assert.equal(peer.counts.appends, 2);
  assert.deepEqual(
    (await store.listTurns(ctx.contextId)).map((t) => td.decode(t.payload)).sort(),
    ["1", "3"],
  );
});

Deno.test("a server restart between requests is invisible to the next call", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "t",
    typeVersion: 1,
    payload: te.encode("a"),
  });
  peer.dropConnections();
  await new Promise((r) => setTimeout(r, 10));
  const b = await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "t",
    typeVersion: 1,
    payload: te.encode("b"),
  });
  assert.equal(b.depth, 2);
  assert.equal(peer.counts.appends, 2);
});

Deno.test("a keyed append that timed out after the server stored it is found, not repeated, when retried", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(`${peer.url}&timeoutMs=100`);
  const ctx = await store.createContext();
  let stalled = false;
  peer.fault = (req) => {
    if (!stalled && req.append?.idempotencyKey === "k-slow") {
      stalled = true;
      return "stall-after";
    }
    return undefined;
  };
  const req = {
    contextId: ctx.contextId,
    typeId: "test.item",
    typeVersion: 1,
    payload: te.encode("slow"),
    idempotencyKey: "k-slow",
  };
  await assert.rejects(
    store.appendTurn(req),
    (e: unknown) => isTurnStoreError(e, "Backend") && e.message.includes("may still have happened"),
  );
  assert.equal(peer.counts.appends, 1, "the server stored it");
  const retry = await store.appendTurn(req);
  assert.equal(retry.deduplicated, true);
  assert.equal(retry.depth, 1);
  assert.equal(retry.parentTurnId, "0");
  assert.equal(peer.counts.appends, 1, "no second turn");
  const again = await store.appendTurn(req);
  assert.equal(again.turnId, retry.turnId);
  // An unkeyed append whose outcome is unknown is not retried by the store: the caller decides.
  assert.equal((await store.listTurns(ctx.contextId)).length, 1);
});
