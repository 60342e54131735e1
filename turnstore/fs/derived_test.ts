/**
 * Every derived file of the fs store (the turn, context and root indexes, the
 * key table, the index watermark) is checked before it is trusted: damage found at
 * open rebuilds it from the log; damage found while open is a BackendError
 * naming the file and the offset; no call ever returns wrong bytes or lets a
 * raw OS error out.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { isTurnStoreError } from "../core/errors.ts";
import type { FsStore } from "./store.ts";
import { appendMany, bytes, flipLogByte, openStore, tempDir } from "./test_util.ts";

const DERIVED = ["turns.idx", "contexts.idx", "roots.idx", "keys.idx", "checkpoint"] as const;

interface Fixture {
  dir: string;
  ctx: string;
  fork: string;
  ids: string[];
  keyed: string;
  root: string;
  forkHead: string;
}

/** A closed store with 40 turns, a fork, a keyed turn and an fs root. */
async function fixture(): Promise<Fixture> {
  const dir = await tempDir();
  const store = await openStore(dir, "group");
  const ctx = (await store.createContext()).contextId;
  const ids = await appendMany(store, ctx, 40);
  const keyed = (await store.appendTurn({
    contextId: ctx,
    typeId: "test.item",
    typeVersion: 1,
    payload: bytes("keyed"),
    idempotencyKey: "the-key",
  })).turnId;
  const fork = (await store.forkContext(ids[9])).contextId;
  const [forkHead] = await appendMany(store, fork, 1, "fork");
  const root = (await store.putBlob(bytes("a tree"))).hash;
  await store.attachFs(ids[20], root);
  await store.close();
  return { dir, ctx, fork, ids, keyed, root, forkHead };
}

/** Checks that `store` answers exactly what the fixture wrote. */
async function assertIntact(store: FsStore, f: Fixture): Promise<void> {
  const listed = await store.listTurns(f.ctx, { limit: 100 });
  assert.deepEqual(listed.map((t) => t.turnId), [...f.ids, f.keyed]);
  listed.slice(0, 40).forEach((t, i) => assert.equal(new TextDecoder().decode(t.payload), `t${i}`));
  assert.equal((await store.getHead(f.fork)).headTurnId, f.forkHead);
  assert.deepEqual(
    (await store.listTurns(f.fork, { limit: 100 })).map((t) => t.turnId),
    [...f.ids.slice(0, 10), f.forkHead],
  );
  assert.equal(await store.getFsRoot(f.ids[25]), f.root);
  assert.equal(await store.getFsRoot(f.ids[5]), undefined);
  const again = await store.appendTurn({
    contextId: f.ctx,
    typeId: "test.item",
    typeVersion: 1,
    payload: bytes("keyed"),
    idempotencyKey: "the-key",
  });
  assert.equal(again.turnId, f.keyed, "the key table still finds the keyed turn");
  assert.equal(again.deduplicated, true);
}

/** Overwrites `length` bytes at `offset` of a file with a pattern that is not zero. */
async function overwrite(path: string, offset: number, length: number): Promise<void> {
  const file = await Deno.open(path, { write: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    await file.write(new Uint8Array(length).map((_, i) => 0x5a ^ i));
  } finally {
    file.close();
  }
}

const damages = {
  overwritten: async (path: string) => {
    const size = (await Deno.stat(path)).size;
    await overwrite(path, Math.floor(size / 3), Math.min(37, Math.max(1, size - 1)));
  },
  truncated: async (path: string) => {
    const size = (await Deno.stat(path)).size;
    await Deno.truncate(path, Math.floor(size / 2));
  },
  removed: (path: string) => Deno.remove(path),
};

for (const name of DERIVED) {
  for (const [how, damage] of Object.entries(damages)) {
    Deno.test(`${name} ${how} while closed: open rebuilds it from the intact log and says why`, async () => {
      const f = await fixture();
      try {
        await damage(`${f.dir}/${name}`);
        const store = await openStore(f.dir, "group");
        try {
          assert.equal(store.recovery.mode, "rebuild", `${name} ${how}`);
          const reason = store.recovery.reason ?? "";
          assert.ok(
            name === "checkpoint" ? /checkpoint/.test(reason) : reason.includes(name),
            `the reason names ${name}: ${reason}`,
          );
          await assertIntact(store, f);
        } finally {
          await store.close();
        }
        const clean = await openStore(f.dir, "group");
        assert.equal(clean.recovery.mode, "none", "the rebuilt files pass their checks next time");
        await clean.close();
      } finally {
        await Deno.remove(f.dir, { recursive: true });
      }
    });
  }
}

Deno.test("a damaged index and a log damaged in the middle: open fails with a BackendError naming the log and the offset", async () => {
  const f = await fixture();
  try {
    await overwrite(`${f.dir}/turns.idx`, 100, 20);
    await flipLogByte(f.dir, 200);
    await assert.rejects(openStore(f.dir, "group"), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(`${f.dir}/log`), error.message);
      assert.match(error.message, /offset \d+/);
      return true;
    });
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

/** Rewrites the `turns.idx` slot of `turnId` with valid-checksum fields of our choosing. */
async function forgeTurnSlot(dir: string, turnId: number, offset: number, length: number) {
  const slot = new Uint8Array(48);
  const view = new DataView(slot.buffer);
  view.setUint32(0, offset % 2 ** 32, true);
  view.setUint32(4, Math.floor(offset / 2 ** 32), true);
  view.setUint32(40, length, true);
  view.setUint32(44, crc32(slot.subarray(0, 44)) >>> 0, true);
  const file = await Deno.open(`${dir}/turns.idx`, { write: true });
  try {
    await file.seek((turnId - 1) * 48, Deno.SeekMode.Start);
    await file.write(slot);
  } finally {
    file.close();
  }
}

Deno.test("index damage found while open is a BackendError naming the index file and the offset, never wrong bytes", async () => {
  const f = await fixture();
  const store = await openStore(f.dir, "group");
  try {
    const victim = Number(f.ids[3]);
    await overwrite(`${f.dir}/turns.idx`, (victim - 1) * 48 + 8, 4);
    await assert.rejects(store.getTurn(String(victim)), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(`${f.dir}/turns.idx`), error.message);
      assert.ok(error.message.includes(`offset ${(victim - 1) * 48}`), error.message);
      return true;
    });
    await overwrite(`${f.dir}/contexts.idx`, (Number(f.fork) - 1) * 32 + 8, 2);
    await assert.rejects(store.getHead(f.fork), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(`${f.dir}/contexts.idx`), error.message);
      assert.ok(error.message.includes(`offset ${(Number(f.fork) - 1) * 32}`), error.message);
      return true;
    });
    await overwrite(`${f.dir}/roots.idx`, (Number(f.ids[20]) - 1) * 40 + 3, 1);
    await assert.rejects(store.getFsRoot(f.ids[25]), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(`${f.dir}/roots.idx`), error.message);
      return true;
    });
    // Undamaged entries still answer.
    assert.equal((await store.getTurn(f.ids[4])).turnId, f.ids[4]);
  } finally {
    await store.close().catch(() => {});
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("an index entry pointing outside the log blames the index, not the log, and no raw OS error escapes", async () => {
  const f = await fixture();
  const store = await openStore(f.dir, "group");
  try {
    const logSize = (await Deno.stat(`${f.dir}/log`)).size;
    const cases: [number, number, number][] = [
      [Number(f.ids[1]), logSize + 10, 60], // past the end
      [Number(f.ids[2]), 2 ** 52, 60], // a seek the OS refuses
      [Number(f.ids[3]), 0, 3], // shorter than a record header
    ];
    for (const [turnId, offset, length] of cases) {
      await forgeTurnSlot(f.dir, turnId, offset, length);
      await assert.rejects(store.getTurn(String(turnId)), (error: Error) => {
        assert.ok(isTurnStoreError(error, "Backend"), String(error));
        assert.ok(error.message.includes(`${f.dir}/turns.idx`), error.message);
        assert.ok(error.message.includes(`offset ${(turnId - 1) * 48}`), error.message);
        return true;
      });
    }
  } finally {
    await store.close().catch(() => {});
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("random damage to the index files while open: every call answers right or throws a typed error", async () => {
  const f = await fixture();
  const store = await openStore(f.dir, "group");
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const expected = new Map<string, string>(f.ids.map((id, i) => [id, `t${i}`]));
  let typed = 0;
  let right = 0;
  try {
    for (let round = 0; round < 60; round++) {
      const name = ["turns.idx", "contexts.idx", "roots.idx"][round % 3];
      const path = `${f.dir}/${name}`;
      const size = (await Deno.stat(path)).size;
      if (size > 0) await overwrite(path, Math.floor(next() * size), 1 + Math.floor(next() * 8));
      const id = f.ids[Math.floor(next() * f.ids.length)];
      const calls: (() => Promise<void>)[] = [
        async () => {
          const t = await store.getTurn(id);
          assert.equal(new TextDecoder().decode(t.payload), expected.get(id), "never wrong bytes");
        },
        async () => {
          for (const t of await store.listTurns(f.ctx, { limit: 100 })) {
            if (expected.has(t.turnId)) {
              assert.equal(new TextDecoder().decode(t.payload), expected.get(t.turnId));
            }
          }
        },
        async () => {
          const head = await store.getHead(f.fork);
          assert.equal(head.headTurnId, f.forkHead, "never a wrong head");
        },
        async () => {
          const root = await store.getFsRoot(id);
          if (root !== undefined) assert.equal(root, f.root, "never a wrong root");
        },
        async () => {
          const again = await store.appendTurn({
            contextId: f.ctx,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes("keyed"),
            idempotencyKey: "the-key",
          });
          assert.equal(again.turnId, f.keyed, "a keyed re-send finds its turn, never a new one");
        },
      ];
      for (const call of calls) {
        try {
          await call();
          right++;
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          assert.ok(isTurnStoreError(error, "Backend"), `a typed error, got ${error}`);
          typed++;
        }
      }
    }
    assert.ok(typed > 0, "the damage was found");
    assert.ok(right > 0, "undamaged reads still answer");
  } finally {
    await store.close().catch(() => {});
    await Deno.remove(f.dir, { recursive: true });
  }
});
