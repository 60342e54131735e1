/**
 * The write path of one batch: appends queued in one tick are planned
 * together, their records (encoded at the call into shared chunks) written
 * in runs or one copy, and each answered on its own.
 */
import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import { ARENA_OWN_ABOVE } from "./arena.ts";
import { bytes, crashCopy, openStore, tempDir, withTempDir } from "./test_util.ts";

for (const durability of ["group", "none"]) {
  Deno.test(`one batch (${durability}) with a replay, a refusal and a large record in between writes every new turn right`, async () => {
    const dir = await tempDir();
    let copy: string | undefined;
    try {
      const store = await openStore(dir, durability);
      const { contextId } = await store.createContext();
      const input = bytes("first");
      const big = new Uint8Array(ARENA_OWN_ABOVE + 100).map((_, i) => i % 251);
      const append = (payload: Uint8Array, key?: string, parentTurnId?: string) =>
        store.appendTurn({
          contextId,
          typeId: "test.batch",
          typeVersion: 1,
          payload,
          idempotencyKey: key,
          parentTurnId,
        });
      // All queued in one tick: one batch.
      const calls = [
        append(input, "k1"),
        append(bytes("first"), "k1"), // a replay of the first, in the same batch
        append(bytes("stale"), undefined, "0"), // refused: the head is no longer the root
        append(bytes("second"), "k2"),
        append(big), // its own array
        append(bytes("third")),
      ];
      input.fill(0); // the caller reuses its buffer at once
      const settled = await Promise.allSettled(calls);
      const [first, replay, stale, second, large, third] = settled;
      assert.equal(first.status, "fulfilled");
      assert.equal(replay.status, "fulfilled");
      assert.equal(stale.status, "rejected");
      assert.ok(isTurnStoreError(stale.reason, "Conflict"), String(stale.reason));
      const turns = [first, second, large, third].map((r) => {
        assert.equal(r.status, "fulfilled");
        return r.value;
      });
      assert.equal(replay.value.turnId, turns[0].turnId);
      assert.equal(replay.value.deduplicated, true);
      assert.deepEqual(turns.map((t) => t.depth), [1, 2, 3, 4]);
      assert.deepEqual(
        turns[0].payload,
        bytes("first"),
        "the answer keeps the copy made at the call",
      );
      // More appends fill the shared chunks further; earlier answers do not change.
      for (let i = 0; i < 300; i++) await append(bytes(`more ${i}`), `m${i}`);
      assert.deepEqual(turns[0].payload, bytes("first"));
      assert.deepEqual(turns[2].payload, big);
      const expected = [bytes("first"), bytes("second"), big, bytes("third")];
      copy = await crashCopy(dir); // what a crash would leave: rebuilt from the log alone
      await store.close();
      for (const at of [dir, copy]) {
        const reopened = await openStore(at, durability);
        const page = await reopened.listTurns(contextId, { limit: 1000 });
        assert.equal(page.length, 304);
        assert.deepEqual(page.slice(0, 4).map((t) => t.payload), expected);
        assert.deepEqual(page[303].payload, bytes("more 299"));
        const again = await reopened.appendTurn({
          contextId,
          typeId: "test.batch",
          typeVersion: 1,
          payload: bytes("second"),
          idempotencyKey: "k2",
        });
        assert.equal(again.deduplicated, true, "keys of the batch are found after reopen");
        assert.equal(again.turnId, turns[1].turnId);
        await reopened.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      if (copy) await Deno.remove(copy, { recursive: true });
    }
  });
}

Deno.test("one batch: a key repeated on another context is a new turn there, and on its own context a replay", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir, "group");
    const a = await store.createContext();
    const b = await store.createContext();
    const append = (contextId: string, text: string) =>
      store.appendTurn({
        contextId,
        typeId: "test.batch",
        typeVersion: 1,
        payload: bytes(text),
        idempotencyKey: "same-key",
      });
    const [onA, onB, againA, againB] = await Promise.all([
      append(a.contextId, "a"),
      append(b.contextId, "b"),
      append(a.contextId, "a"),
      append(b.contextId, "b"),
    ]);
    assert.notEqual(onA.turnId, onB.turnId);
    assert.equal(onA.contextId, a.contextId);
    assert.equal(onB.contextId, b.contextId);
    assert.deepEqual([againA.turnId, againA.deduplicated], [onA.turnId, true]);
    assert.deepEqual([againB.turnId, againB.deduplicated], [onB.turnId, true]);
    await assert.rejects(
      append(a.contextId, "changed"),
      (e: Error) => isTurnStoreError(e, "Conflict"),
      "the same key with other content is a conflict",
    );
    await store.close();
  });
});

Deno.test("group mode: reads of committed turns while batches are written on an I/O thread see the right bytes", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir, "group");
    const { contextId } = await store.createContext();
    const committed: { turnId: string; text: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const text = `committed ${i} `.repeat(1 + (i % 7));
      const t = await store.appendTurn({
        contextId,
        typeId: "test.batch",
        typeVersion: 1,
        payload: bytes(text),
      });
      committed.push({ turnId: t.turnId, text });
    }
    const inFlight: Promise<unknown>[] = [];
    const decoder = new TextDecoder();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 25; i++) {
        inFlight.push(store.appendTurn({
          contextId,
          typeId: "test.batch",
          typeVersion: 1,
          payload: bytes(`later ${round}.${i} `.repeat(40)),
        }));
      }
      // Reads seek the store's own handle, in the turns of the event loop
      // in which the writer's handle is between its seek and its write.
      for (let k = 0; k < 10; k++) {
        await Promise.resolve();
        const { turnId, text } = committed[(round * 10 + k) % 50];
        assert.equal(decoder.decode((await store.getTurn(turnId)).payload), text);
      }
    }
    await Promise.all(inFlight);
    const page = await store.listTurns(contextId, { limit: 1000 });
    assert.equal(page.length, 550);
    assert.equal(decoder.decode(page[549].payload), "later 19.24 ".repeat(40));
    await store.close();
    const reopened = await openStore(dir, "group");
    assert.equal(reopened.recovery.mode, "none", "a clean close: indexes trusted as they are");
    assert.equal((await reopened.getHead(contextId)).headDepth, 550);
    await reopened.close();
  });
});

Deno.test("more contexts and turns than the entry caches hold: heads and parents come back from held and written slots", async () => {
  await withTempDir(async (dir) => {
    const store = await openStore(dir, "none");
    const contexts = await Promise.all(
      Array.from({ length: 2100 }, () => store.createContext()),
    );
    // Two rounds over every context: the second finds each head after 2,099 others displaced it.
    for (let round = 1; round <= 2; round++) {
      const turns = await Promise.all(contexts.map(({ contextId }) =>
        store.appendTurn({
          contextId,
          typeId: "test.batch",
          typeVersion: 1,
          payload: bytes(`${contextId}.${round}`),
        })
      ));
      for (const [i, turn] of turns.entries()) assert.equal(turn.depth, round, `context ${i}`);
    }
    for (const { contextId } of [contexts[0], contexts[1], contexts[2047], contexts[2048]]) {
      const head = await store.getHead(contextId);
      assert.equal(head.headDepth, 2);
      const page = await store.listTurns(contextId);
      assert.deepEqual(page.map((t) => new TextDecoder().decode(t.payload)), [
        `${contextId}.1`,
        `${contextId}.2`,
      ]);
    }
    await store.close();
  });
});
