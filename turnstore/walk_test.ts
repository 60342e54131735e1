import assert from "node:assert/strict";
import { isTurnStoreError } from "./core/errors.ts";
import { openMemoryStore } from "./memory/store.ts";
import { walkHistory } from "./walk.ts";

Deno.test("walkHistory refuses a bad pageSize naming it, before reading anything", async () => {
  await using store = await openMemoryStore();
  const ctx = await store.createContext();
  for (const pageSize of [0, -1, NaN, 2.5, Infinity, 10_001]) {
    await assert.rejects(
      walkHistory(store, ctx.contextId, { pageSize }).next(),
      (e: unknown) => {
        assert.ok(isTurnStoreError(e, "InvalidInput"), `InvalidInput, got ${e}`);
        assert.match(
          (e as Error).message,
          /walkHistory pageSize must be an integer from 1 to 10000/,
        );
        return true;
      },
      String(pageSize),
    );
  }
});
