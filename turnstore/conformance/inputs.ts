/**
 * Bad input and unknown ids: InvalidInput naming the argument, NotFound
 * naming the id.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bytes, rejectsWith } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the bad-argument and unknown-id tests. */
export function defineInputTests(test: ConformanceTest): void {
  test("bad arguments are InvalidInput naming the argument", async ({ store }) => {
    const ctx = await store.createContext();
    for (const bad of ["abc", "-1", "01", "1.0", "", "18446744073709551616"]) {
      await rejectsWith(store.getHead(bad), "InvalidInput", ["contextId"]);
      await rejectsWith(store.getTurn(bad), "InvalidInput", ["turnId"]);
    }
    const ok = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("x"),
    };
    await rejectsWith(store.appendTurn({ ...ok, typeVersion: 0 }), "InvalidInput", ["typeVersion"]);
    await rejectsWith(store.appendTurn({ ...ok, typeVersion: 1.5 }), "InvalidInput", [
      "typeVersion",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, typeId: "" }), "InvalidInput", ["typeId"]);
    await rejectsWith(
      store.appendTurn({ ...ok, payload: "text" as unknown as Uint8Array }),
      "InvalidInput",
      ["payload"],
    );
    await rejectsWith(store.appendTurn({ ...ok, idempotencyKey: "" }), "InvalidInput", [
      "idempotencyKey",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, parentTurnId: "x1" }), "InvalidInput", [
      "parentTurnId",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, fsRootHash: "abc" }), "InvalidInput", [
      "fsRootHash",
    ]);
    // A lone surrogate has no UTF-8 form: stored, it would read back as U+FFFD,
    // and two keys differing only there would name one turn.
    await rejectsWith(store.appendTurn({ ...ok, typeId: "test.\uD800" }), "InvalidInput", [
      "typeId",
    ]);
    for (const key of ["k\uD800", "k\uDFFF", "\uDC00\uD800"]) {
      await rejectsWith(store.appendTurn({ ...ok, idempotencyKey: key }), "InvalidInput", [
        "idempotencyKey",
      ]);
    }
    for (const limit of [-1, NaN, Infinity, 2.5, 2 ** 53, null, "5"]) {
      await rejectsWith(store.listTurns(ctx.contextId, { limit } as never), "InvalidInput", [
        "limit",
      ]);
    }
    for (const options of [null, 5, "5"]) {
      await rejectsWith(store.listTurns(ctx.contextId, options as never), "InvalidInput", [
        "listTurns options",
      ]);
    }
    // Once a TypeError on some backends, ignored or "not found" on others.
    await rejectsWith(store.createContext(null as never), "InvalidInput", ["createContext"]);
    for (const id of ["", 1]) {
      await rejectsWith(store.getRegistryBundle(id as never), "InvalidInput", ["bundleId"]);
    }
    await rejectsWith(store.hasBlob("A".repeat(64)), "InvalidInput", ["hash"]);
    assert.deepEqual(await store.listTurns(ctx.contextId), [], "nothing was written");
  });

  test("unknown contexts and turns are NotFound naming the id", async ({ store }) => {
    const missing = "987654321987";
    await rejectsWith(store.getHead(missing), "NotFound", [missing, "context"]);
    await rejectsWith(store.listTurns(missing), "NotFound", [missing]);
    await rejectsWith(
      store.appendTurn({
        contextId: missing,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "NotFound",
      [missing],
    );
    await rejectsWith(store.getTurn(missing), "NotFound", [missing, "turn"]);
    await rejectsWith(store.getTurn("0"), "NotFound", ["0"]);
  });
}
