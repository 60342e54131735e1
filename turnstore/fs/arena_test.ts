import assert from "node:assert/strict";
import { ARENA_CHUNK_BYTES, ARENA_OWN_ABOVE, batchWrites, recordArena } from "./arena.ts";

Deno.test("the arena hands out zeroed, disjoint regions, consecutive ones adjacent in one chunk", () => {
  const arena = recordArena();
  const a = arena.zeroed(100);
  a.fill(0xff);
  const b = arena.zeroed(200);
  assert.ok(b.every((x) => x === 0), "zeroed, untouched by the region before");
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.byteOffset, a.byteOffset + 100);
  const big = arena.zeroed(ARENA_OWN_ABOVE + 1);
  assert.notEqual(big.buffer, a.buffer, "a large record has its own array");
  assert.equal(big.byteLength, big.buffer.byteLength);
  // Fill the chunk: the next region starts a new one rather than running past the end.
  let last = b;
  while (last.buffer === a.buffer) last = arena.zeroed(ARENA_OWN_ABOVE);
  assert.equal(last.byteOffset, 0);
  assert.equal(last.buffer.byteLength, ARENA_CHUNK_BYTES);
});

Deno.test("a batch of adjacent records is written from the chunk itself, others in runs or one copy", () => {
  const arena = recordArena();
  const frames = [arena.zeroed(10), arena.zeroed(20), arena.zeroed(30)];
  frames.forEach((f, i) => f.fill(i + 1));
  const expected = new Uint8Array([...frames[0], ...frames[1], ...frames[2]]);

  const one = batchWrites(frames, 60);
  assert.equal(one.length, 1);
  assert.equal(one[0].buffer, frames[0].buffer, "no copy");
  assert.deepEqual(one[0], expected);

  const apart = [frames[0], new Uint8Array(5).fill(9), frames[1], frames[2]];
  const two = batchWrites(apart.slice(0, 2), 15);
  assert.equal(two.length, 2, "two runs: two writes");
  assert.deepEqual(
    new Uint8Array([...two[0], ...two[1]]),
    new Uint8Array([...frames[0], 9, 9, 9, 9, 9]),
  );

  const three = batchWrites([frames[0], apart[1], frames[2]], 45);
  assert.equal(three.length, 1, "more runs than writes allowed: one copy");
  assert.notEqual(three[0].buffer, frames[0].buffer);
  assert.deepEqual(three[0], new Uint8Array([...frames[0], 9, 9, 9, 9, 9, ...frames[2]]));

  const gap = batchWrites([frames[0], frames[2]], 40);
  assert.equal(gap.length, 2, "same chunk but not adjacent (a skipped record between): two runs");
  assert.deepEqual(gap[1], frames[2]);
});
