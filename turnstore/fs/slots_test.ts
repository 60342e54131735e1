import assert from "node:assert/strict";
import { present, RecentById, SlotScratch, WriteBehind } from "./slots.ts";
import { tempDir } from "./test_util.ts";

const SLOT = 16;

/** A slot whose bytes say which write made it. */
function slotOf(write: number): Uint8Array {
  const bytes = new Uint8Array(SLOT);
  new DataView(bytes.buffer).setUint32(0, write + 1, true);
  return bytes;
}

async function withFile(run: (file: Deno.FsFile, path: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  const path = `${dir}/slots`;
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  try {
    await run(file, path);
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("held slot writes are read back at once and reach the file only at flush, in one run", async () => {
  await withFile(async (file, path) => {
    const slots = new WriteBehind(file, SLOT, 4096);
    for (let i = 0; i < 10; i++) slots.write(i * SLOT, slotOf(i));
    for (let i = 0; i < 10; i++) assert.deepEqual(slots.read(i * SLOT), slotOf(i));
    assert.equal((await Deno.readFile(path)).length, 0, "nothing written before flush");
    slots.flush();
    const bytes = await Deno.readFile(path);
    assert.equal(bytes.length, 4096, "the file grows in steps");
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(bytes.subarray(i * SLOT, (i + 1) * SLOT), slotOf(i));
      assert.deepEqual(slots.read(i * SLOT), slotOf(i), "read from the file after flush");
    }
    assert.ok(bytes.subarray(10 * SLOT).every((b) => b === 0), "past the last slot: zeros");
  });
});

Deno.test("the caller's slot array is copied: reusing it changes no held write", async () => {
  await withFile(async (file) => {
    const slots = new WriteBehind(file, SLOT, 4096);
    const scratch = slotOf(1);
    slots.write(0, scratch); // starts the run
    slots.write(5 * SLOT, scratch); // outside it
    scratch.fill(0xee);
    assert.deepEqual(slots.read(0), slotOf(1));
    assert.deepEqual(slots.read(5 * SLOT), slotOf(1));
  });
});

Deno.test("random slot writes, rewrites and flushes leave the file as a plain map of them would", async () => {
  await withFile(async (file, path) => {
    const slots = new WriteBehind(file, SLOT, 64);
    const model = new Map<number, Uint8Array>();
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let next = 0; // the next slot of a growing run, as new turns write
    for (let write = 0; write < 5000; write++) {
      const choice = random(10);
      // Mostly the next slot; else a rewrite of a recent one, or any slot.
      const slot = choice < 6
        ? next++
        : choice < 8
        ? Math.max(0, next - 1 - random(4))
        : random(3000);
      const bytes = slotOf(write);
      slots.write(slot * SLOT, bytes);
      model.set(slot, bytes);
      if (random(50) === 0) {
        const probe = [...model.keys()][random(model.size)];
        assert.deepEqual(slots.read(probe * SLOT), model.get(probe), `slot ${probe} before flush`);
      }
      if (random(700) === 0) slots.flush();
    }
    for (const [slot, bytes] of model) assert.deepEqual(slots.read(slot * SLOT), bytes);
    slots.flush();
    const file_ = await Deno.readFile(path);
    for (const [slot, bytes] of model) {
      assert.deepEqual(file_.subarray(slot * SLOT, (slot + 1) * SLOT), bytes, `slot ${slot}`);
    }
  });
});

Deno.test("a sealed scratch slot reads as present; a flipped byte is named damage", () => {
  const scratch = new SlotScratch(24);
  scratch.view.setUint32(0, 77, true);
  const slot = scratch.sealed().slice();
  assert.equal(present(slot, "idx", 48, "turn 3"), true);
  assert.equal(present(new Uint8Array(24), "idx", 0, "turn 1"), false, "all zeros: no entry");
  slot[2] ^= 1;
  assert.throws(() => present(slot, "idx", 48, "turn 3"), /idx is damaged at offset 48/);
});

Deno.test("the recent cache keeps the newest entry per place and forgets on clear", () => {
  const recent = new RecentById<string>();
  recent.set(5, "five");
  assert.equal(recent.get(5), "five");
  assert.equal(recent.get(5 + 2048), undefined, "same place, other id: a miss, not a wrong entry");
  recent.set(5 + 2048, "newer");
  assert.equal(recent.get(5), undefined, "replaced by the newer id in its place");
  assert.equal(recent.get(5 + 2048), "newer");
  recent.set(2 ** 40 + 5, "big");
  assert.equal(recent.get(2 ** 40 + 5), "big", "ids past 2^32 have a place too");
  recent.clear();
  assert.equal(recent.get(2 ** 40 + 5), undefined);
});
