import assert from "node:assert/strict";
import { PayloadPacker } from "./packer.ts";

function payload(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("the packer copies each payload once and finds it again in the message's buffers", () => {
  const packer = new PayloadPacker();
  const sizes = [0, 1, 250, 16 * 1024, 16 * 1024 + 1, 40_000, 30_000, 100, 70_000, 5];
  for (let round = 0; round < 3; round++) {
    const sent = sizes.map((n, i) => payload(n, i + round));
    const placed = sent.map((p) => packer.add(p));
    for (const p of sent) p.fill(0); // the caller reuses its buffers: the copies stay
    const buffers = packer.take();
    placed.forEach(([buffer, offset, copy], i) => {
      const expected = payload(sizes[i], i + round);
      assert.deepEqual(new Uint8Array(buffers[buffer], offset, sizes[i]), expected);
      assert.deepEqual(copy, expected);
    });
  }
});

Deno.test("a message's buffers hold only its own bytes, and a taken message leaves nothing behind", () => {
  const packer = new PayloadPacker();
  packer.add(payload(100, 1));
  assert.equal(packer.take()[0].byteLength, 100);
  packer.add(payload(300, 2));
  packer.add(payload(20, 3));
  const buffers = packer.take();
  assert.deepEqual(buffers.map((b) => b.byteLength), [320]);
  assert.deepEqual(packer.take(), []);
});
