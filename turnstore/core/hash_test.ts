import assert from "node:assert/strict";
import { blake3Bytes, blake3Hex, fromHex, toHex } from "./hash.ts";

/**
 * BLAKE3's published test vectors (input: bytes 0, 1, …, 250, 0, 1, … of the
 * given length; the first 32 bytes of the output), the lengths that cross its
 * block (64 B), chunk (1 KiB) and tree boundaries.
 */
const VECTORS: Record<number, string> = {
  0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
  63: "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b",
  64: "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98",
  65: "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee",
  1023: "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11",
  1024: "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
  1025: "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444",
  2048: "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a",
  2049: "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030",
  3072: "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2",
  4096: "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969",
  4097: "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995",
  8193: "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b",
  16384: "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4",
  31744: "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47",
  102400: "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085",
};

function vectorInput(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

Deno.test("blake3Hex and blake3Bytes reproduce BLAKE3's published test vectors", () => {
  for (const [length, expected] of Object.entries(VECTORS)) {
    const input = vectorInput(Number(length));
    assert.equal(blake3Hex(input), expected, `length ${length}`);
    assert.deepEqual(blake3Bytes(input), fromHex(expected), `length ${length}`);
  }
});

Deno.test("a view into a larger buffer hashes as its own bytes, at any offset", () => {
  const backing = vectorInput(8192 + 3);
  for (const [offset, length] of [[1, 1024], [3, 4096], [2, 8192], [1, 0]]) {
    const view = backing.subarray(offset, offset + length);
    assert.equal(blake3Hex(view), blake3Hex(view.slice()), `offset ${offset}, length ${length}`);
  }
});

Deno.test("each blake3Bytes result is a fresh array, unchanged by later calls", () => {
  const first = blake3Bytes(vectorInput(1));
  blake3Bytes(vectorInput(64));
  blake3Hex(vectorInput(65));
  assert.equal(toHex(first), VECTORS[1]);
});

Deno.test("toHex gives two lowercase digits per byte for any length, and fromHex undoes it", () => {
  for (const length of [0, 1, 31, 32, 33, 4096, 4097, 10_000]) {
    const bytes = vectorInput(length).map((b, i) => (b * 7 + i) & 0xff);
    const hex = toHex(bytes);
    assert.equal(hex, Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
    assert.deepEqual(fromHex(hex), bytes);
  }
});
