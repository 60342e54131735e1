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
