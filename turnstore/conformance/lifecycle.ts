/**
 * Size and lifecycle: a large payload round-trips, a closed store refuses
 * every call, and a durable backend keeps everything across close and reopen.
 *
 * @module
 */
import assert from "node:assert/strict";
import { blake3Hex } from "../core/hash.ts";
import { appendN, bytes, ids, rejectsWith, unique } from "./helpers.ts";
import type { ConformanceOptions, ConformanceTest } from "./types.ts";

/** Registers the large-payload, closed-store and durability tests. */
export function defineLifecycleTests(test: ConformanceTest, options: ConformanceOptions): void {
  test(`a large payload (${((options.largePayloadBytes ?? 10_000_000) / 1e6).toFixed(1)} MB) round-trips`, async ({ store }) => {
    const size = options.largePayloadBytes ?? 10_000_000;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) payload[i] = (i / 4096) & 0xff;
    payload[size - 1] = 7;
    const ctx = await store.createContext();
    const t = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.large",
      typeVersion: 1,
      payload,
    });
    const got = await store.getTurn(t.turnId);
    assert.equal(got.payload.length, size);
    assert.equal(blake3Hex(got.payload), blake3Hex(payload));
    const listed = await store.listTurns(ctx.contextId);
    assert.equal(listed[0].contentHash, t.contentHash);
    assert.equal(listed[0].payload.length, size);
  });

  test("a closed store refuses every call with a Backend error, and closing again is harmless", async ({ store }) => {
    const ctx = await store.createContext();
    const turn = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("before close"),
    });
    const blob = await store.putBlob(bytes(unique("closed-blob")));
    await store.close();
    const calls: [string, () => Promise<unknown>][] = [
      ["createContext", () => store.createContext()],
      ["forkContext", () => store.forkContext(turn.turnId)],
      ["appendTurn", () =>
        store.appendTurn({
          contextId: ctx.contextId,
          typeId: "test.item",
          typeVersion: 1,
          payload: bytes("after close"),
        })],
      ["getHead", () => store.getHead(ctx.contextId)],
      ["listContexts", () => store.listContexts()],
      ["listTurns", () => store.listTurns(ctx.contextId)],
      ["getTurn", () => store.getTurn(turn.turnId)],
      ["putBlob", () => store.putBlob(bytes("after close"))],
      ["getBlob", () => store.getBlob(blob.hash)],
      ["hasBlob", () => store.hasBlob(blob.hash)],
      ["attachFs", () => store.attachFs(turn.turnId, blob.hash)],
      ["getFsRoot", () => store.getFsRoot(turn.turnId)],
      ["publishRegistryBundle", () =>
        store.publishRegistryBundle({
          registry_version: 1,
          bundle_id: unique("test.closed"),
          types: {},
        })],
      ["getRegistryBundle", () => store.getRegistryBundle("test.none")],
    ];
    for (const [name, call] of calls) {
      try {
        await rejectsWith(call, "Backend");
      } catch (error) {
        throw new Error(`${name} after close: ${(error as Error).message}`, { cause: error });
      }
    }
    await store.close();
  });

  if (!options.durable) return; // the durability test below is for durable backends only
  test("everything survives close and reopen, and new ids never collide", async (h) => {
    assert.ok(h.reopen, "a durable backend's handle must provide reopen");
    let store = h.store;
    const ctx = await store.createContext();
    const key = unique("durable");
    const first = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("d1"),
      idempotencyKey: key,
    });
    const rest = await appendN(store, ctx.contextId, 4, "d");
    const fork = await store.forkContext(rest[1].turnId);
    const blob = await store.putBlob(bytes(unique("durable-blob")));
    await store.attachFs(rest[0].turnId, blob.hash);
    const bundleId = unique("test.durable");
    await store.publishRegistryBundle({ registry_version: 1, bundle_id: bundleId, types: {} });
    await store.close();
    store = await h.reopen();
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId, ...ids(rest)]);
    assert.equal((await store.getHead(fork.contextId)).headTurnId, rest[1].turnId);
    const replay = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("d1"),
      idempotencyKey: key,
    });
    assert.equal(replay.turnId, first.turnId);
    assert.equal(replay.deduplicated, true);
    assert.equal(await store.getFsRoot(rest[3].turnId), blob.hash);
    assert.ok(await store.getRegistryBundle(bundleId));
    const next = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("after"),
    });
    assert.ok(BigInt(next.turnId) > BigInt(rest[3].turnId), "ids keep growing after reopen");
    const newCtx = await store.createContext();
    assert.ok(![ctx.contextId, fork.contextId].includes(newCtx.contextId));
  });
}
