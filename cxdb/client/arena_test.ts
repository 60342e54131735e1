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
  assert.notEqual(arena.bytes, chunk);
});
