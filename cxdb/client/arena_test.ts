import assert from "node:assert/strict";
import { FrameArena } from "./arena.ts";

Deno.test("frames reserved one after another sit side by side in one chunk", () => {
  const arena = new FrameArena();
  arena.reserve(100);
  const first = { bytes: arena.bytes, at: arena.at };
  arena.reserve(50);
  assert.equal(arena.bytes, first.bytes);
  assert.equal(arena.at, first.at + 100);
  assert.equal(arena.view.buffer, arena.bytes.buffer);
  assert.equal(arena.chunk.live, 2);
});

Deno.test("a frame that does not fit the rest of a chunk starts a new chunk; the old one is left as it was", () => {
  const arena = new FrameArena();
  arena.reserve(60_000);
  const old = arena.bytes;
  old.fill(7, arena.at, arena.at + 60_000);
  for (let i = 0; i < 4; i++) arena.reserve(60_000);
  assert.notEqual(arena.bytes, old);
  assert.equal(arena.at, 0);
  assert.ok(old.subarray(0, 60_000).every((b) => b === 7));
});

Deno.test("a large frame gets a buffer of its own of exactly its size", () => {
  const arena = new FrameArena();
  arena.reserve(10);
  const chunk = arena.bytes;
  arena.reserve(1 << 20);
  assert.equal(arena.bytes.length, 1 << 20);
  assert.equal(arena.at, 0);
  arena.reserve(10);
  assert.notEqual(arena.bytes.length, 1 << 20, "nothing shares the large frame's buffer");
  assert.equal(arena.bytes, chunk, "small frames go on in the shared chunk");
  assert.equal(arena.at, 10);
});

/** Fills a chunk with four 60 000-byte frames; returns their chunk. */
function fillChunk(arena: FrameArena) {
  arena.reserve(60_000);
  const chunk = arena.chunk;
  for (let i = 0; i < 3; i++) arena.reserve(60_000);
  assert.equal(arena.chunk, chunk);
  return chunk;
}

Deno.test("a chunk is written again only once all its frames are released and recycle() says no write can read it", () => {
  const counter = { sendChunks: 0 };
  const arena = new FrameArena(counter);
  const first = fillChunk(arena);
  const second = fillChunk(arena);
  assert.notEqual(second, first);
  for (let i = 0; i < 4; i++) arena.release(first);
  // Released, but a write under way may still be reading it: not reused yet.
  const third = fillChunk(arena);
  assert.ok(third !== first && third !== second);
  assert.equal(counter.sendChunks, 3);
  arena.recycle();
  assert.equal(fillChunk(arena), first, "the released chunk comes back after recycle()");
  assert.equal(counter.sendChunks, 3, "no new chunk was allocated for it");
});

Deno.test("a chunk with one frame still wanted is never reused, however often recycle() runs", () => {
  const counter = { sendChunks: 0 };
  const arena = new FrameArena(counter);
  const first = fillChunk(arena);
  for (let i = 0; i < 3; i++) arena.release(first); // one of four frames still unsettled
  first.bytes.fill(9, 0, 60_000);
  for (let round = 0; round < 5; round++) {
    const chunk = fillChunk(arena);
    assert.notEqual(chunk, first);
    for (let i = 0; i < 4; i++) arena.release(chunk);
    arena.recycle();
  }
  assert.ok(first.bytes.subarray(0, 60_000).every((b) => b === 9), "its bytes are as they were");
});

Deno.test("the chunk being filled is not retired when its frames are released; a large frame's buffer is never reused", () => {
  const arena = new FrameArena();
  arena.reserve(100);
  const current = arena.chunk;
  arena.release(current);
  arena.recycle();
  arena.reserve(100);
  assert.equal(arena.chunk, current);
  assert.equal(arena.at, 100, "still filled in order, nothing handed out twice");
  arena.reserve(1 << 20);
  const own = arena.chunk;
  arena.release(own);
  arena.recycle();
  arena.reserve(1 << 20);
  assert.notEqual(arena.chunk, own);
});

Deno.test("join copies a batch's frames side by side, into one buffer reused only after recycle()", () => {
  const arena = new FrameArena();
  arena.reserve(60_000); // earlier frames: the batch below begins near the chunk's end
  arena.reserve(60_000);
  arena.reserve(60_000);
  const frames = [];
  for (const [size, fill] of [[30_000, 1], [40_000, 2], [40_000, 3]]) {
    arena.reserve(size);
    arena.bytes.fill(fill, arena.at, arena.at + size);
    frames.push({ chunk: arena.chunk, at: arena.at, size });
  }
  assert.notEqual(frames[2].chunk, frames[0].chunk, "the batch does not lie in one chunk");
  const first = arena.join(frames, 110_000);
  assert.equal(first.length, 110_000);
  assert.equal(first[0], 1);
  assert.equal(first[29_999], 1);
  assert.equal(first[30_000], 2);
  assert.equal(first[109_999], 3);
  const meanwhile = arena.join(frames.slice(0, 2), 70_000);
  assert.notEqual(meanwhile.buffer, first.buffer, "a write may still be reading the first");
  arena.recycle();
  const again = arena.join(frames.slice(1), 80_000);
  assert.equal(again.buffer, first.buffer, "reused once no write is under way");
  assert.equal(again[0], 2);
  assert.equal(again[79_999], 3);
});

Deno.test("while recycle() is not called, released chunks are left to the collector beyond the few kept", () => {
  const counter = { sendChunks: 0 };
  const arena = new FrameArena(counter);
  for (let i = 0; i < 20; i++) {
    const chunk = fillChunk(arena);
    for (let k = 0; k < 4; k++) arena.release(chunk);
  }
  arena.recycle();
  const before = counter.sendChunks;
  const reused = new Set();
  for (let i = 0; i < 8; i++) reused.add(fillChunk(arena));
  assert.equal(counter.sendChunks - before, 4, "four came back from the kept ones, four are new");
  assert.equal(reused.size, 8);
});
