/**
 * Test helper: numbers the writes a runtime asks its store for, so a test can
 * check that what a CXDB server stored is every write once, in order. Records
 * carry no write counter (the parent edge is the order), so the numbers come
 * from the calls.
 *
 * @module
 */
import assert from "node:assert/strict";
import { openCxdbStore } from "../cxdb/store/store.ts";
import type { AppendTurnInput, ForgeStore } from "../turnstore/core/types.ts";
import type { RecordCatalog } from "../turnstore/records/mod.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Wraps `store` so that each distinct payload it is asked to append gets the
 * next number (1, 2, …) the first time it is asked; a retry re-sends the same
 * bytes and keeps its number.
 */
export function recordWrites(
  store: ForgeStore,
): { store: ForgeStore; number: Map<string, number> } {
  const number = new Map<string, number>();
  const appendTurn = store.appendTurn.bind(store);
  const wrapped = new Proxy(store, {
    get(target, name) {
      if (name !== "appendTurn") {
        // The store keeps private fields: its methods run on the store itself.
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (input: AppendTurnInput) => {
        const id = hex(input.payload);
        if (!number.has(id)) number.set(id, number.size + 1);
        return appendTurn(input);
      };
    },
  });
  return { store: wrapped, number };
}

/**
 * The turns of a context on the CXDB server at `url`, as the numbers of the
 * writes that made them; every turn must decode with `catalog` and be one of
 * the numbered writes.
 */
export async function storedWriteNumbers(
  url: string,
  contextId: string,
  number: Map<string, number>,
  catalog: RecordCatalog,
): Promise<number[]> {
  await using store = await openCxdbStore(url);
  const turns = await store.listTurns(contextId, { limit: 1000 });
  return turns.map((t) => {
    assert.ok(catalog.decode(t), `turn ${t.turnId} decodes as a known record`);
    const n = number.get(hex(t.payload));
    assert.ok(n !== undefined, `turn ${t.turnId} was one of the numbered writes`);
    return n;
  });
}
