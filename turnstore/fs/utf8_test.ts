import assert from "node:assert/strict";
import { blake3Bytes } from "../core/hash.ts";
import { keyFingerprint } from "./keys.ts";
import { utf8, utf8Cached } from "./utf8.ts";

const samples = [
  "",
  "agent.turn",
  "session-7:000123:tool_call_started",
  "naïve — ключ 🔑",
  "x".repeat(300),
  "é".repeat(300),
  "\u007f\u0080",
];

Deno.test("utf8 gives TextEncoder's bytes for ASCII, non-ASCII and long strings", () => {
  const encoder = new TextEncoder();
  for (const s of samples) {
    assert.deepEqual(utf8(s), encoder.encode(s), JSON.stringify(s.slice(0, 20)));
    assert.deepEqual(utf8Cached(s), encoder.encode(s));
    assert.deepEqual(utf8Cached(s), encoder.encode(s), "the cached copy is unchanged");
  }
});

Deno.test("a key's fingerprint is the first 8 bytes of BLAKE3 of `${context}\\n${key}` (the stored format)", () => {
  const encoder = new TextEncoder();
  for (const key of [...samples, "y".repeat(1000)]) {
    for (const contextId of [1, 42, 2 ** 40]) {
      const digest = blake3Bytes(encoder.encode(`${contextId}\n${key}`));
      const view = new DataView(digest.buffer);
      const expected = [view.getUint32(0, true), view.getUint32(4, true)];
      assert.deepEqual(keyFingerprint(contextId, key), expected);
    }
  }
});
