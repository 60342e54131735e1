import assert from "node:assert/strict";
import {
  ancestorAt,
  ContextIndex,
  jumpFor,
  keyFingerprint,
  KeyIndex,
  ROOT_META,
  TurnIndex,
  type TurnMeta,
} from "./indexes.ts";
import { tempDir } from "./test_util.ts";

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
  const dir = await tempDir();
  try {
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const [where, mirrorSlots] of [["in memory", undefined], ["in the file", 0]] as const) {
  Deno.test(`the key table grows past its first size, keeps every key and survives reopen (probed ${where})`, async () => {
    const dir = await tempDir();
    try {
      const path = `${dir}/keys.idx`;
      let { index, fresh } = KeyIndex.open(path, mirrorSlots);
      assert.equal(fresh, true);
      const n = 9000; // more than half of the initial 8192 slots, twice over
      for (let i = 1; i <= n; i++) index.insert(keyFingerprint(1, `k${i}`), i);
      index.insert(keyFingerprint(1, "k1"), 1); // again: harmless
      index.close();
      ({ index, fresh } = KeyIndex.open(path, mirrorSlots));
      assert.equal(fresh, false);
      for (const i of [1, 2, 500, 1024, 4097, 8999, 9000]) {
        assert.deepEqual([...index.candidates(keyFingerprint(1, `k${i}`))], [i]);
      }
      assert.deepEqual([...index.candidates(keyFingerprint(2, "k1"))], [], "keys are per context");
      index.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a damaged key table is reported fresh, so the store rebuilds it", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/keys.idx`;
    const first = KeyIndex.open(path).index;
    first.insert(keyFingerprint(1, "a"), 1);
    first.close();
    await Deno.truncate(path, 100);
    const reopened = KeyIndex.open(path);
    assert.equal(reopened.fresh, true);
    assert.deepEqual([...reopened.index.candidates(keyFingerprint(1, "a"))], []);
    reopened.index.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("key inserts are found at once, and reach the file only at flush", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/keys.idx`;
    const { index } = KeyIndex.open(path);
    index.insert(keyFingerprint(1, "held"), 7);
    assert.deepEqual([...index.candidates(keyFingerprint(1, "held"))], [7]);
    const before = KeyIndex.open(path).index; // another reader sees only the file
    assert.deepEqual([...before.candidates(keyFingerprint(1, "held"))], []);
    before.close();
    index.flush();
    const after = KeyIndex.open(path).index;
    assert.deepEqual([...after.candidates(keyFingerprint(1, "held"))], [7]);
    after.close();
    index.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a mirrored key table's flushes (page-sized runs) leave the file a table probed in the file would", async () => {
  const dir = await tempDir();
  try {
    const files = [];
    for (const mirrorSlots of [undefined, 0]) {
      const path = `${dir}/keys-${mirrorSlots ?? "mirrored"}.idx`;
      const { index } = KeyIndex.open(path, mirrorSlots);
      // 3,000 keys: two flushes of 1,024 held inserts and one at close, no growth.
      for (let i = 1; i <= 3000; i++) index.insert(keyFingerprint(7, `key-${i}`), i);
      index.close();
      files.push(await Deno.readFile(path));
    }
    assert.equal(files[0].length, files[1].length);
    assert.ok(files[0].some((b) => b !== 0));
    assert.deepEqual(files[0], files[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
