import assert from "node:assert/strict";
import { keyFingerprint, keyFingerprintOf, KeyIndex } from "./keys.ts";
import { tempDir, withTempDir } from "./test_util.ts";

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
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.idx`;
    const first = KeyIndex.open(path).index;
    first.insert(keyFingerprint(1, "a"), 1);
    first.close();
    await Deno.truncate(path, 100);
    const reopened = KeyIndex.open(path);
    assert.equal(reopened.fresh, true);
    assert.deepEqual([...reopened.index.candidates(keyFingerprint(1, "a"))], []);
    reopened.index.close();
  });
});

Deno.test("key inserts are found at once, and reach the file only at flush", async () => {
  await withTempDir(async (dir) => {
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
  });
});

Deno.test("a mirrored key table's flushes (page-sized runs) leave the file a table probed in the file would", async () => {
  await withTempDir(async (dir) => {
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
  });
});

Deno.test("a key's fingerprint taken from its UTF-8 bytes in a record equals the one from the string", () => {
  const encoder = new TextEncoder();
  for (
    const key of ["", "k", "forge-agent:v1|36:0f0e|17|10:model_call", "naïve 🔑", "z".repeat(900)]
  ) {
    for (const contextId of [0, 1, 9, 10, 42, 1_000_000, 2 ** 40, 2 ** 53 - 1, 2 ** 64, 1e21]) {
      const utf8 = encoder.encode(key);
      const record = new Uint8Array(utf8.length + 13).fill(0xaa);
      record.set(utf8, 7);
      assert.deepEqual(
        keyFingerprintOf(contextId, record, 7, 7 + utf8.length),
        keyFingerprint(contextId, key),
        `context ${contextId}, key ${JSON.stringify(key.slice(0, 20))}`,
      );
    }
  }
});

Deno.test("find stops at the first candidate the caller confirms, and finds nothing for a new key", async () => {
  await withTempDir(async (dir) => {
    const { index } = KeyIndex.open(`${dir}/keys.idx`);
    const fp = keyFingerprint(3, "shared");
    for (const turnId of [4, 9, 12]) index.insert(fp, turnId); // as if three keys collided
    const asked: number[] = [];
    const found = index.find(fp, (turnId) => {
      asked.push(turnId);
      return turnId === 9;
    });
    assert.equal(found, 9);
    assert.deepEqual(asked, [4, 9], "nearest first, none after the confirmed one");
    assert.equal(index.find(fp, () => false), undefined, "none confirmed");
    assert.equal(index.find(keyFingerprint(3, "other"), () => true), undefined);
    index.close();
  });
});
