import assert from "node:assert/strict";
import {
  ancestorAt,
  ContextIndex,
  jumpFor,
  ROOT_META,
  TurnIndex,
  type TurnMeta,
} from "./indexes.ts";
import { withTempDir } from "./test_util.ts";

function chain(length: number): Map<number, TurnMeta> {
  const metas = new Map<number, TurnMeta>([[0, ROOT_META]]);
  for (let id = 1; id <= length; id++) {
    const parent = metas.get(id - 1)!;
    metas.set(id, {
      turnId: id,
      offset: id * 100,
      length: 100,
      parentTurnId: parent.turnId,
      depth: parent.depth + 1,
      originContextId: 1,
      ...jumpFor(parent, (j) => metas.get(j)!),
    });
  }
  return metas;
}

Deno.test("ancestorAt finds the ancestor at any depth in O(log depth) lookups", () => {
  const metas = chain(100_000);
  let lookups = 0;
  const lookup = (id: number) => {
    lookups++;
    return metas.get(id)!;
  };
  const head = metas.get(100_000)!;
  for (const depth of [0, 1, 2, 3, 17, 1000, 31_337, 65_535, 65_536, 99_999, 100_000]) {
    lookups = 0;
    assert.equal(ancestorAt(head, depth, lookup).turnId, depth);
    assert.ok(lookups <= 4 * 17, `depth ${depth} took ${lookups} lookups`);
  }
  const mid = metas.get(777)!;
  for (let depth = 0; depth <= 777; depth += 7) {
    assert.equal(ancestorAt(mid, depth, lookup).depth, depth);
  }
});

Deno.test("turn and context slots round-trip and absent slots read as undefined", async () => {
  await withTempDir(async (dir) => {
    const turns = new TurnIndex(
      Deno.openSync(`${dir}/t`, { read: true, write: true, create: true }),
      `${dir}/t`,
    );
    const contexts = new ContextIndex(
      Deno.openSync(`${dir}/c`, { read: true, write: true, create: true }),
      `${dir}/c`,
    );
    const meta: TurnMeta = {
      turnId: 5,
      offset: 2 ** 40 + 3,
      length: 123,
      parentTurnId: 4,
      depth: 9,
      jumpTurnId: 2,
      jumpDepth: 6,
      originContextId: 2 ** 33,
    };
    turns.put(meta);
    assert.deepEqual(turns.get(5), meta);
    assert.equal(turns.get(3), undefined, "a hole is no turn");
    assert.equal(turns.get(6), undefined, "past the end is no turn");
    contexts.put({ contextId: 3, baseTurnId: 1, baseDepth: 1, headTurnId: 7, headDepth: 4 });
    assert.deepEqual(contexts.get(3), {
      contextId: 3,
      baseTurnId: 1,
      baseDepth: 1,
      headTurnId: 7,
      headDepth: 4,
    });
    assert.equal(contexts.get(2), undefined);
    turns.file.close();
    contexts.file.close();
  });
});
