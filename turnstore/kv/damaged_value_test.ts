/**
 * Damage inside a stored value: SQLite keeps no checksum of a value, so a
 * flipped byte in a payload or blob would read back as data. The store
 * checks every payload and blob against its hash and refuses a damaged one
 * with a BackendError naming it, never returning the altered bytes.
 */
import assert from "node:assert/strict";
import { BackendError } from "../core/errors.ts";
import { openKvStore } from "./mod.ts";

const MARKER = new TextEncoder().encode("DAMAGE-ME-");

/** Flips a bit of the first byte of the marker in the closed file at `path`. */
async function flipMarker(path: string): Promise<void> {
  const file = await Deno.readFile(path);
  let at = -1;
  outer: for (let i = 0; i <= file.length - MARKER.length; i++) {
    for (let j = 0; j < MARKER.length; j++) if (file[i + j] !== MARKER[j]) continue outer;
    at = i;
    break;
  }
  assert.ok(at >= 0, "the marker is in the closed file");
  file[at] ^= 0x20;
  await Deno.writeFile(path, file);
}

/** A payload of `size` bytes that starts with the marker. */
function marked(size: number): Uint8Array {
  const bytes = new Uint8Array(size).map((_, i) => (i * 7 + 3) & 0xff);
  bytes.set(MARKER);
  return bytes;
}

for (
  const [what, size] of [
    ["an inline payload", 200],
    ["a payload in a body row", 10_000],
    ["a payload in chunks", 100_000],
  ] as const
) {
  Deno.test(`kv damage: ${what} that does not match its hash is refused on every read`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-damage-" });
    try {
      let store = await openKvStore(`${dir}/s.kv`);
      const ctx = await store.createContext();
      const turn = await store.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: marked(size),
      });
      await store.close();
      await flipMarker(`${dir}/s.kv`);
      store = await openKvStore(`${dir}/s.kv`);
      try {
        await assert.rejects(
          store.getTurn(turn.turnId),
          (e) => e instanceof BackendError && /turn 1 .*damaged/.test(e.message),
        );
        await assert.rejects(store.listTurns(ctx.contextId), BackendError);
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (const [what, size] of [["an inline blob", 300], ["a chunked blob", 100_000]] as const) {
  Deno.test(`kv damage: ${what} whose bytes do not match its hash is refused`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-damage-" });
    try {
      let store = await openKvStore(`${dir}/s.kv`);
      const { hash } = await store.putBlob(marked(size));
      await store.close();
      await flipMarker(`${dir}/s.kv`);
      store = await openKvStore(`${dir}/s.kv`);
      try {
        await assert.rejects(
          store.getBlob(hash),
          (e) => e instanceof BackendError && e.message.includes(hash),
        );
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
