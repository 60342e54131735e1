import assert from "node:assert/strict";
import { PooledBytes } from "./pooled_bytes.ts";

Deno.test("copies hold the bytes given, and later changes to the source do not reach them", () => {
  const copies = new PooledBytes();
  const source = new Uint8Array([1, 2, 3]);
  const copy = copies.copy(source);
  source[0] = 99;
  assert.deepEqual([...copy], [1, 2, 3]);
});

Deno.test("small copies share a buffer without overlapping; writing one leaves the others", () => {
  const copies = new PooledBytes();
  const made = Array.from({ length: 40 }, (_, i) => copies.copy(new Uint8Array(1000).fill(i)));
  assert.equal(made[0].buffer, made[1].buffer, "small copies share a buffer");
  for (const c of made) c.fill(0xff);
  made[3].fill(0);
  for (const [i, c] of made.entries()) {
    assert.equal(c.length, 1000);
    assert.ok(c.every((b) => b === (i === 3 ? 0 : 0xff)), `copy ${i} intact`);
  }
  // Views start 8-byte aligned and never run into the next one.
  for (let i = 1; i < made.length; i++) {
    const [a, b] = [made[i - 1], made[i]];
    if (a.buffer !== b.buffer) continue;
    assert.equal(b.byteOffset % 8, 0);
    assert.ok(a.byteOffset + a.length <= b.byteOffset);
  }
});

Deno.test("large and empty payloads get buffers of their own", () => {
  const copies = new PooledBytes();
  const big = copies.copy(new Uint8Array(4096).fill(5));
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 4096);
  assert.ok(big.every((b) => b === 5));
  const empty = copies.copy(new Uint8Array(0));
  assert.equal(empty.length, 0);
});

Deno.test("zeroed arrays are zero, their own, and share buffers with copies", () => {
  const pool = new PooledBytes();
  const copy = pool.copy(new Uint8Array(100).fill(1));
  const hash = pool.zeroed(32);
  assert.equal(hash.length, 32);
  assert.ok(hash.every((b) => b === 0));
  assert.equal(hash.buffer, copy.buffer);
  hash.fill(9);
  assert.ok(copy.every((b) => b === 1));
  assert.equal(pool.zeroed(5000).byteOffset, 0);
});

Deno.test("a pool sized by its options: buffer size, the largest pooled array, alignment", () => {
  const pool = new PooledBytes({ bufferBytes: 1024, pooledBelow: 600, align: 1 });
  const a = pool.zeroed(100);
  const b = pool.zeroed(599);
  assert.equal(b.buffer, a.buffer, "599 bytes are pooled");
  assert.equal(b.byteOffset, a.byteOffset + 100, "align 1 keeps arrays back to back");
  const own = pool.zeroed(600);
  assert.equal(own.buffer.byteLength, 600, "600 bytes get a buffer of their own");
  const next = pool.zeroed(400);
  assert.notEqual(next.buffer, a.buffer, "what no longer fits starts a new buffer");
  assert.equal(next.buffer.byteLength, 1024);
  const aligned = new PooledBytes({ align: 16 });
  const [x, y] = [aligned.zeroed(3), aligned.zeroed(3)];
  assert.equal(y.byteOffset - x.byteOffset, 16);
  assert.throws(() => new PooledBytes({ align: 0 }), RangeError);
});
