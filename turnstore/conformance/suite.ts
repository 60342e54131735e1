/**
 * The turn store conformance suite. Every backend (memory, kv, fs, cxdb, and
 * any third-party one) registers the same tests by calling
 * {@link defineConformanceSuite}; passing them is what "implements the turn
 * store contract" means. The tests never assume particular id values or an
 * empty store, so they also run against shared servers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ForgeStore, StoredTurn } from "../core/types.ts";
import { isTurnStoreError, type TurnStoreErrorCode } from "../core/errors.ts";
import { blake3Hex } from "../core/hash.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import { defineListContextsTests } from "./contexts.ts";

/** A store under test, with what the suite needs to reopen and clean it up. */
export interface ConformanceHandle {
  /** A store to test. It may hold other data, but none the suite wrote before. */
  readonly store: ForgeStore;
  /** Opens the same data again (after `store.close()`); required with `durable: true`. */
  readonly reopen?: () => Promise<ForgeStore>;
  /** Removes whatever the test left behind (temp dirs, files). */
  readonly cleanup?: () => Promise<void>;
}

/** Options of {@link defineConformanceSuite}. */
export interface ConformanceOptions {
  /** Passed to Deno.test: ignore the whole suite (say why in `ignoreReason`). */
  readonly ignore?: boolean;
  /** Deno.test's resource and op sanitizers; default true. */
  readonly sanitize?: boolean;
  /**
   * The backend keeps its data across close and reopen: registers the
   * durability test, which needs `reopen` from the handle. Default false.
   */
  readonly durable?: boolean;
  /** Bytes of the large-payload test; default 10 MB. */
  readonly largePayloadBytes?: number;
}

const te = new TextEncoder();
const bytes = (s: string) => te.encode(s);
let uniq = 0;
/** A value no other test run uses, so shared servers do not see collisions. */
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${(uniq++).toString(36)}`;

async function rejectsWith<T>(
  what: Promise<T> | (() => Promise<T>),
  code: TurnStoreErrorCode,
  mentions: string[] = [],
): Promise<Error> {
  try {
    await (typeof what === "function" ? what() : what);
  } catch (error) {
    assert.ok(
      isTurnStoreError(error, code),
      `expected a ${code} error, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
    for (const m of mentions) {
      assert.ok(
        (error as Error).message.includes(m),
        `the ${code} message should name ${m}: ${(error as Error).message}`,
      );
    }
    return error as Error;
  }
  assert.fail(`expected a ${code} error, but the call succeeded`);
}

async function appendN(store: ForgeStore, contextId: string, n: number, label = "t") {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await store.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes(`${label}${i}`),
      }),
    );
  }
  return out;
}

const ids = (turns: readonly StoredTurn[]) => turns.map((t) => t.turnId);

function checkChain(turns: readonly StoredTurn[]) {
  for (let i = 1; i < turns.length; i++) {
    assert.equal(
      turns[i].parentTurnId,
      turns[i - 1].turnId,
      "each turn's parent is the one before",
    );
    assert.equal(turns[i].depth, turns[i - 1].depth + 1, "depth grows by one");
  }
}

/**
 * Registers the conformance tests for one backend. `open` is called once per
 * test and must return a usable store.
 */
export function defineConformanceSuite(
  name: string,
  open: () => Promise<ConformanceHandle>,
  options: ConformanceOptions = {},
): void {
  const sanitize = options.sanitize ?? true;
  const test = (title: string, fn: (h: ConformanceHandle) => Promise<void>) =>
    Deno.test({
      name: `${name} conformance: ${title}`,
      ignore: options.ignore,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      fn: async () => {
        const handle = await open();
        let store = handle.store;
        try {
          await fn({
            ...handle,
            get store() {
              return store;
            },
            reopen: handle.reopen && (async () => (store = await handle.reopen!())),
          });
        } finally {
          await store.close().catch(() => {});
          await handle.cleanup?.();
        }
      },
    });

  defineListContextsTests(test, options.durable ?? false);

  test("an empty context has head 0 at depth 0 and no turns", async ({ store }) => {
    const ctx = await store.createContext();
    assert.match(ctx.contextId, /^[1-9][0-9]*$/);
    assert.equal(ctx.headTurnId, "0");
    assert.equal(ctx.headDepth, 0);
    assert.deepEqual(await store.getHead(ctx.contextId), ctx);
    assert.deepEqual(await store.listTurns(ctx.contextId), []);
    const other = await store.createContext();
    assert.notEqual(other.contextId, ctx.contextId, "context ids are unique");
  });

  test("the first turn has depth 1 and each append moves the head one deeper", async ({ store }) => {
    const ctx = await store.createContext();
    const [a, b, c] = await appendN(store, ctx.contextId, 3);
    assert.deepEqual([a.depth, b.depth, c.depth], [1, 2, 3]);
    assert.deepEqual([a.parentTurnId, b.parentTurnId, c.parentTurnId], ["0", a.turnId, b.turnId]);
    for (const t of [a, b, c]) {
      assert.equal(t.contextId, ctx.contextId);
      assert.equal(t.deduplicated, false);
    }
    assert.ok(
      BigInt(b.turnId) > BigInt(a.turnId) && BigInt(c.turnId) > BigInt(b.turnId),
      "a turn's id is greater than its parent's",
    );
    assert.deepEqual(await store.getHead(ctx.contextId), {
      contextId: ctx.contextId,
      headTurnId: c.turnId,
      headDepth: 3,
    });
  });

  test("a stored turn comes back byte for byte with its BLAKE3 content hash", async ({ store }) => {
    const ctx = await store.createContext();
    const payload = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const t = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.bytes",
      typeVersion: 7,
      payload,
    });
    assert.equal(t.contentHash, blake3Hex(payload));
    const got = await store.getTurn(t.turnId);
    assert.deepEqual(got, {
      turnId: t.turnId,
      parentTurnId: "0",
      depth: 1,
      typeId: "test.bytes",
      typeVersion: 7,
      payload,
      contentHash: blake3Hex(payload),
    });
    payload[0] = 99; // the store kept its own copy
    assert.notEqual((await store.getTurn(t.turnId)).payload[0], 99);
    const empty = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.empty",
      typeVersion: 1,
      payload: new Uint8Array(),
    });
    assert.equal((await store.getTurn(empty.turnId)).payload.length, 0);
  });

  test("a fork shares history up to its base turn and diverges after it", async ({ store }) => {
    const main = await store.createContext();
    const [t1, t2, t3] = await appendN(store, main.contextId, 3, "main");
    const fork = await store.forkContext(t2.turnId);
    assert.notEqual(fork.contextId, main.contextId);
    assert.equal(fork.headTurnId, t2.turnId);
    assert.equal(fork.headDepth, 2);
    assert.deepEqual(ids(await store.listTurns(fork.contextId)), [t1.turnId, t2.turnId]);
    const [f3, f4] = await appendN(store, fork.contextId, 2, "fork");
    assert.equal(f3.parentTurnId, t2.turnId);
    assert.equal(f3.depth, 3);
    assert.deepEqual(ids(await store.listTurns(fork.contextId)), [
      t1.turnId,
      t2.turnId,
      f3.turnId,
      f4.turnId,
    ]);
    assert.deepEqual(
      ids(await store.listTurns(main.contextId)),
      [t1.turnId, t2.turnId, t3.turnId],
      "the original context is untouched",
    );
    const forkOfFork = await store.createContext({ baseTurnId: f3.turnId });
    assert.equal(forkOfFork.headDepth, 3);
    const [g4] = await appendN(store, forkOfFork.contextId, 1, "g");
    assert.deepEqual(ids(await store.listTurns(forkOfFork.contextId)), [
      t1.turnId,
      t2.turnId,
      f3.turnId,
      g4.turnId,
    ]);
    const fromRoot = await store.forkContext("0");
    assert.equal(fromRoot.headTurnId, "0");
    assert.equal(fromRoot.headDepth, 0);
    await rejectsWith(store.forkContext("999999999999"), "NotFound", ["999999999999"]);
    await rejectsWith(store.createContext({ baseTurnId: "999999999999" }), "NotFound", [
      "999999999999",
    ]);
  });

  test("an explicit parent must be the head: a stale one is a Conflict and writes nothing", async ({ store }) => {
    const ctx = await store.createContext();
    const first = await store.appendTurn({
      contextId: ctx.contextId,
      parentTurnId: "0",
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("a"),
    });
    const second = await store.appendTurn({
      contextId: ctx.contextId,
      parentTurnId: first.turnId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("b"),
    });
    assert.equal(second.parentTurnId, first.turnId);
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        parentTurnId: first.turnId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("c"),
      }),
      "Conflict",
      [ctx.contextId, first.turnId, second.turnId],
    );
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        parentTurnId: "0",
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("c"),
      }),
      "Conflict",
      [ctx.contextId],
    );
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId, second.turnId]);
    assert.equal((await store.getHead(ctx.contextId)).headTurnId, second.turnId);
  });

  test("an explicit parent outside the context's history is InvalidInput, an unknown one NotFound", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const [a1] = await appendN(store, a.contextId, 1, "a");
    await appendN(store, b.contextId, 1, "b");
    await rejectsWith(
      store.appendTurn({
        contextId: b.contextId,
        parentTurnId: a1.turnId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "InvalidInput",
      [b.contextId, a1.turnId],
    );
    await rejectsWith(
      store.appendTurn({
        contextId: b.contextId,
        parentTurnId: "888888888888",
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "NotFound",
      ["888888888888"],
    );
    assert.equal((await store.listTurns(b.contextId)).length, 1, "nothing was written");
  });

  test("listTurns pages from the head towards the root with beforeTurnId", async ({ store }) => {
    const ctx = await store.createContext();
    const all = await appendN(store, ctx.contextId, 25);
    const page1 = await store.listTurns(ctx.contextId, { limit: 10 });
    assert.deepEqual(ids(page1), ids(all.slice(15)), "the newest 10, oldest first");
    checkChain(page1);
    const page2 = await store.listTurns(ctx.contextId, {
      limit: 10,
      beforeTurnId: page1[0].turnId,
    });
    assert.deepEqual(ids(page2), ids(all.slice(5, 15)));
    const page3 = await store.listTurns(ctx.contextId, {
      limit: 10,
      beforeTurnId: page2[0].turnId,
    });
    assert.deepEqual(ids(page3), ids(all.slice(0, 5)));
    assert.deepEqual(await store.listTurns(ctx.contextId, { beforeTurnId: all[0].turnId }), []);
    assert.deepEqual(
      ids(await store.listTurns(ctx.contextId)),
      ids(all),
      "default limit covers 25",
    );
    assert.deepEqual(ids(await store.listTurns(ctx.contextId, { limit: 1 })), [all[24].turnId]);
  });

  test("paging crosses fork points into the shared history", async ({ store }) => {
    const main = await store.createContext();
    const base = await appendN(store, main.contextId, 6, "m");
    await appendN(store, main.contextId, 3, "m-after");
    const fork = await store.forkContext(base[5].turnId);
    const own = await appendN(store, fork.contextId, 4, "f");
    const expected = [...ids(base), ...ids(own)];
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listTurns(fork.contextId, { limit: 3, beforeTurnId: before });
      if (page.length === 0) break;
      checkChain(page);
      seen.unshift(...ids(page));
      before = page[0].turnId;
    }
    assert.deepEqual(seen, expected);
  });

  test("a paging cursor outside the history is InvalidInput; a bad limit is InvalidInput", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const [a1] = await appendN(store, a.contextId, 1);
    await appendN(store, b.contextId, 2);
    await rejectsWith(store.listTurns(b.contextId, { beforeTurnId: a1.turnId }), "InvalidInput", [
      a1.turnId,
      b.contextId,
    ]);
    await rejectsWith(store.listTurns(b.contextId, { beforeTurnId: "777777777777" }), "NotFound", [
      "777777777777",
    ]);
    for (const limit of [0, -1, 1.5, 10_001, Number.NaN]) {
      await rejectsWith(store.listTurns(b.contextId, { limit }), "InvalidInput", ["limit"]);
    }
  });

  test("the same idempotency key returns the same turn and writes nothing new", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("key");
    const req = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("once"),
      idempotencyKey: key,
    };
    const first = await store.appendTurn(req);
    await appendN(store, ctx.contextId, 2, "later");
    const again = await store.appendTurn(req);
    assert.equal(again.turnId, first.turnId);
    assert.equal(again.depth, first.depth);
    assert.equal(again.deduplicated, true);
    assert.equal(first.deduplicated, false);
    assert.equal((await store.listTurns(ctx.contextId)).length, 3, "no second turn");
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 3, "the head did not move");
  });

  test("the same key with different bytes, type or version is a Conflict and writes nothing", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("key");
    const base = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("v1"),
      idempotencyKey: key,
    };
    const first = await store.appendTurn(base);
    await rejectsWith(store.appendTurn({ ...base, payload: bytes("v2") }), "Conflict", [
      ctx.contextId,
      first.turnId,
    ]);
    await rejectsWith(store.appendTurn({ ...base, typeId: "test.other" }), "Conflict", [
      ctx.contextId,
    ]);
    await rejectsWith(store.appendTurn({ ...base, typeVersion: 2 }), "Conflict", [ctx.contextId]);
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId]);
  });

  test("idempotency keys are scoped to a context, and a fork starts with none", async ({ store }) => {
    const a = await store.createContext();
    const b = await store.createContext();
    const key = unique("shared");
    const req = {
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("same"),
      idempotencyKey: key,
    };
    const inA = await store.appendTurn({ ...req, contextId: a.contextId });
    const inB = await store.appendTurn({ ...req, contextId: b.contextId });
    assert.notEqual(inA.turnId, inB.turnId);
    const fork = await store.forkContext(inA.turnId);
    const inFork = await store.appendTurn({ ...req, contextId: fork.contextId });
    assert.equal(inFork.deduplicated, false);
    assert.equal(inFork.parentTurnId, inA.turnId);
  });

  test("bad arguments are InvalidInput naming the argument", async ({ store }) => {
    const ctx = await store.createContext();
    for (const bad of ["abc", "-1", "01", "1.0", "", "18446744073709551616"]) {
      await rejectsWith(store.getHead(bad), "InvalidInput", ["contextId"]);
      await rejectsWith(store.getTurn(bad), "InvalidInput", ["turnId"]);
    }
    const ok = {
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("x"),
    };
    await rejectsWith(store.appendTurn({ ...ok, typeVersion: 0 }), "InvalidInput", ["typeVersion"]);
    await rejectsWith(store.appendTurn({ ...ok, typeVersion: 1.5 }), "InvalidInput", [
      "typeVersion",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, typeId: "" }), "InvalidInput", ["typeId"]);
    await rejectsWith(
      store.appendTurn({ ...ok, payload: "text" as unknown as Uint8Array }),
      "InvalidInput",
      ["payload"],
    );
    await rejectsWith(store.appendTurn({ ...ok, idempotencyKey: "" }), "InvalidInput", [
      "idempotencyKey",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, parentTurnId: "x1" }), "InvalidInput", [
      "parentTurnId",
    ]);
    await rejectsWith(store.appendTurn({ ...ok, fsRootHash: "abc" }), "InvalidInput", [
      "fsRootHash",
    ]);
    assert.deepEqual(await store.listTurns(ctx.contextId), [], "nothing was written");
  });

  test("unknown contexts and turns are NotFound naming the id", async ({ store }) => {
    const missing = "987654321987";
    await rejectsWith(store.getHead(missing), "NotFound", [missing, "context"]);
    await rejectsWith(store.listTurns(missing), "NotFound", [missing]);
    await rejectsWith(
      store.appendTurn({
        contextId: missing,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
      }),
      "NotFound",
      [missing],
    );
    await rejectsWith(store.getTurn(missing), "NotFound", [missing, "turn"]);
    await rejectsWith(store.getTurn("0"), "NotFound", ["0"]);
  });

  test("concurrent appenders on one context never lose a turn or break the chain", async ({ store }) => {
    const ctx = await store.createContext();
    const n = 24;
    const results = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          store.appendTurn({
            contextId: ctx.contextId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes(`c${i}`),
          }),
      ),
    );
    assert.equal(new Set(ids(results)).size, n, "every append made its own turn");
    const listed = await store.listTurns(ctx.contextId, { limit: 1000 });
    assert.equal(listed.length, n);
    checkChain(listed);
    assert.deepEqual(new Set(ids(listed)), new Set(ids(results)));
    assert.deepEqual(listed.map((t) => t.depth), Array.from({ length: n }, (_, i) => i + 1));
    const head = await store.getHead(ctx.contextId);
    assert.equal(head.headTurnId, listed[n - 1].turnId);
    assert.equal(head.headDepth, n);
  });

  test("appends issued without waiting are applied in call order, whatever their size", async ({ store }) => {
    const ctx = await store.createContext();
    // Writers pipeline their appends (an agent records several turns per
    // step); the chain must follow the order of the calls, even when a large
    // payload that a backend stores differently sits between small ones.
    const sizes = [10, 200_000, 10, 10, 70_000, 10, 1, 300_000, 10, 10];
    const pending = sizes.map((size, i) => {
      const payload = new Uint8Array(size).fill(i + 1);
      return store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.order",
        typeVersion: 1,
        payload,
      });
    });
    const appended = await Promise.all(pending);
    const listed = await store.listTurns(ctx.contextId);
    assert.deepEqual(ids(listed), ids(appended), "stored in call order");
    checkChain(listed);
    assert.deepEqual(listed.map((t) => t.payload[0]), sizes.map((_, i) => i + 1));
  });

  test("concurrent appends with one idempotency key create exactly one turn", async ({ store }) => {
    const ctx = await store.createContext();
    const key = unique("race");
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          store.appendTurn({
            contextId: ctx.contextId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes("r"),
            idempotencyKey: key,
          }),
      ),
    );
    assert.equal(new Set(ids(results)).size, 1);
    assert.equal(results.filter((r) => !r.deduplicated).length, 1);
    assert.equal((await store.listTurns(ctx.contextId)).length, 1);
  });

  test("concurrent compare-and-set appends on one head: exactly one wins", async ({ store }) => {
    const ctx = await store.createContext();
    const [head] = await appendN(store, ctx.contextId, 1);
    const settled = await Promise.allSettled(
      Array.from(
        { length: 6 },
        (_, i) =>
          store.appendTurn({
            contextId: ctx.contextId,
            parentTurnId: head.turnId,
            typeId: "test.item",
            typeVersion: 1,
            payload: bytes(`cas${i}`),
          }),
      ),
    );
    const won = settled.filter((s) => s.status === "fulfilled");
    assert.equal(won.length, 1);
    for (const s of settled) {
      if (s.status === "rejected") {
        assert.ok(isTurnStoreError(s.reason, "Conflict"), String(s.reason));
      }
    }
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 2);
  });

  test("blobs are addressed by BLAKE3, deduplicated and returned intact", async ({ store }) => {
    const data = bytes(unique("blob"));
    const put = await store.putBlob(data);
    assert.equal(put.hash, blake3Hex(data));
    assert.equal(put.wasNew, true);
    assert.equal((await store.putBlob(data)).wasNew, false);
    assert.deepEqual(await store.getBlob(put.hash), data);
    assert.equal(await store.hasBlob(put.hash), true);
    const empty = await store.putBlob(new Uint8Array());
    assert.equal(empty.hash, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assert.equal((await store.getBlob(empty.hash)).length, 0);
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    const bigPut = await store.putBlob(big);
    assert.deepEqual(await store.getBlob(bigPut.hash), big);
    const absent = blake3Hex(bytes(unique("absent")));
    assert.equal(await store.hasBlob(absent), false);
    await rejectsWith(store.getBlob(absent), "NotFound", [absent]);
    await rejectsWith(store.getBlob("xyz"), "InvalidInput", ["hash"]);
  });

  test("a filesystem root attaches to a turn and is inherited by its descendants", async ({ store }) => {
    const ctx = await store.createContext();
    const [t1, t2] = await appendN(store, ctx.contextId, 2);
    const root = (await store.putBlob(bytes(unique("tree")))).hash;
    const other = (await store.putBlob(bytes(unique("tree2")))).hash;
    await store.attachFs(t2.turnId, root);
    await store.attachFs(t2.turnId, root); // again: harmless
    const [t3] = await appendN(store, ctx.contextId, 1);
    assert.equal(await store.getFsRoot(t1.turnId), undefined);
    assert.equal(await store.getFsRoot(t2.turnId), root);
    assert.equal(await store.getFsRoot(t3.turnId), root, "inherited from the nearest ancestor");
    await rejectsWith(store.attachFs(t2.turnId, other), "Conflict", [t2.turnId]);
    const t4 = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("with fs"),
      fsRootHash: other,
    });
    assert.equal(await store.getFsRoot(t4.turnId), other);
    const missing = blake3Hex(bytes(unique("missing")));
    await rejectsWith(store.attachFs(t1.turnId, missing), "NotFound", [missing]);
    await rejectsWith(
      store.appendTurn({
        contextId: ctx.contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes("x"),
        fsRootHash: missing,
      }),
      "NotFound",
      [missing],
    );
    assert.equal(
      (await store.getHead(ctx.contextId)).headTurnId,
      t4.turnId,
      "nothing was appended",
    );
    await rejectsWith(store.attachFs("999999999998", root), "NotFound", ["999999999998"]);
  });

  test("registry bundles publish once, re-publish identically, and never change", async ({ store }) => {
    const id = unique("test.bundle");
    const typeId = unique("test.type");
    const bundle: RegistryBundle = {
      registry_version: 1,
      bundle_id: id,
      types: {
        [typeId]: { versions: { "1": { fields: { "1": { name: "text", type: "string" } } } } },
      },
      enums: {},
    };
    assert.deepEqual(await store.publishRegistryBundle(bundle), { created: true });
    assert.deepEqual(await store.publishRegistryBundle(structuredClone(bundle)), {
      created: false,
    });
    const got = await store.getRegistryBundle(id);
    assert.deepEqual(got?.types, bundle.types);
    assert.equal(got?.bundle_id, id);
    const changed = structuredClone(bundle);
    changed.types[typeId].versions["1"].fields["2"] = { name: "extra", type: "u64" };
    await rejectsWith(store.publishRegistryBundle(changed), "Conflict", [id]);
    const retyped: RegistryBundle = {
      registry_version: 1,
      bundle_id: unique("test.bundle2"),
      types: {
        [typeId]: { versions: { "2": { fields: { "1": { name: "text", type: "u64" } } } } },
      },
    };
    await rejectsWith(store.publishRegistryBundle(retyped), "Conflict", ["tag 1"]);
    assert.equal(await store.getRegistryBundle(unique("absent")), undefined);
    await rejectsWith(
      store.publishRegistryBundle({ bundle_id: "x" } as unknown as RegistryBundle),
      "InvalidInput",
    );
    assert.deepEqual(
      (await store.getRegistryBundle(id))?.types,
      bundle.types,
      "the first bundle is intact",
    );
  });

  test(`a large payload (${((options.largePayloadBytes ?? 10_000_000) / 1e6).toFixed(1)} MB) round-trips`, async ({ store }) => {
    const size = options.largePayloadBytes ?? 10_000_000;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) payload[i] = (i / 4096) & 0xff;
    payload[size - 1] = 7;
    const ctx = await store.createContext();
    const t = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.large",
      typeVersion: 1,
      payload,
    });
    const got = await store.getTurn(t.turnId);
    assert.equal(got.payload.length, size);
    assert.equal(blake3Hex(got.payload), blake3Hex(payload));
    const listed = await store.listTurns(ctx.contextId);
    assert.equal(listed[0].contentHash, t.contentHash);
    assert.equal(listed[0].payload.length, size);
  });

  test("a closed store refuses every call with a Backend error, and closing again is harmless", async ({ store }) => {
    const ctx = await store.createContext();
    const turn = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("before close"),
    });
    const blob = await store.putBlob(bytes(unique("closed-blob")));
    await store.close();
    const calls: [string, () => Promise<unknown>][] = [
      ["createContext", () => store.createContext()],
      ["forkContext", () => store.forkContext(turn.turnId)],
      ["appendTurn", () =>
        store.appendTurn({
          contextId: ctx.contextId,
          typeId: "test.item",
          typeVersion: 1,
          payload: bytes("after close"),
        })],
      ["getHead", () => store.getHead(ctx.contextId)],
      ["listTurns", () => store.listTurns(ctx.contextId)],
      ["getTurn", () => store.getTurn(turn.turnId)],
      ["putBlob", () => store.putBlob(bytes("after close"))],
      ["getBlob", () => store.getBlob(blob.hash)],
      ["hasBlob", () => store.hasBlob(blob.hash)],
      ["attachFs", () => store.attachFs(turn.turnId, blob.hash)],
      ["getFsRoot", () => store.getFsRoot(turn.turnId)],
      ["publishRegistryBundle", () =>
        store.publishRegistryBundle({
          registry_version: 1,
          bundle_id: unique("test.closed"),
          types: {},
        })],
      ["getRegistryBundle", () => store.getRegistryBundle("test.none")],
    ];
    for (const [name, call] of calls) {
      try {
        await rejectsWith(call, "Backend");
      } catch (error) {
        throw new Error(`${name} after close: ${(error as Error).message}`, { cause: error });
      }
    }
    await store.close();
  });

  if (!options.durable) return; // the durability test below is for durable backends only
  test("everything survives close and reopen, and new ids never collide", async (h) => {
    assert.ok(h.reopen, "a durable backend's handle must provide reopen");
    let store = h.store;
    const ctx = await store.createContext();
    const key = unique("durable");
    const first = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("d1"),
      idempotencyKey: key,
    });
    const rest = await appendN(store, ctx.contextId, 4, "d");
    const fork = await store.forkContext(rest[1].turnId);
    const blob = await store.putBlob(bytes(unique("durable-blob")));
    await store.attachFs(rest[0].turnId, blob.hash);
    const bundleId = unique("test.durable");
    await store.publishRegistryBundle({ registry_version: 1, bundle_id: bundleId, types: {} });
    await store.close();
    store = await h.reopen();
    assert.deepEqual(ids(await store.listTurns(ctx.contextId)), [first.turnId, ...ids(rest)]);
    assert.equal((await store.getHead(fork.contextId)).headTurnId, rest[1].turnId);
    const replay = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("d1"),
      idempotencyKey: key,
    });
    assert.equal(replay.turnId, first.turnId);
    assert.equal(replay.deduplicated, true);
    assert.equal(await store.getFsRoot(rest[3].turnId), blob.hash);
    assert.ok(await store.getRegistryBundle(bundleId));
    const next = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes("after"),
    });
    assert.ok(BigInt(next.turnId) > BigInt(rest[3].turnId), "ids keep growing after reopen");
    const newCtx = await store.createContext();
    assert.ok(![ctx.contextId, fork.contextId].includes(newCtx.contextId));
  });
}
