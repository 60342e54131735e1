import assert from "node:assert/strict";
import {
  BackendError,
  ConflictError,
  InvalidInputError,
  isTurnStoreError,
  NotFoundError,
  UnsupportedError,
} from "../core/errors.ts";
import type { ForgeStore } from "../core/types.ts";
import type { CommitStats } from "../kv/budget.ts";
import { openKvStore } from "../kv/mod.ts";
import { openMemoryStore } from "../memory/store.ts";
import { openTurnStore } from "../open.ts";
import { openThreadStore, ThreadStore } from "./store.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const note = (contextId: string, text: string, idempotencyKey?: string) => ({
  contextId,
  typeId: "test.note",
  typeVersion: 1,
  payload: bytes(text),
  idempotencyKey,
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-thread-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What `call` throws, on the caller's thread and through the worker, side by side. */
async function sameError(
  here: ForgeStore,
  there: ForgeStore,
  call: (store: ForgeStore) => Promise<unknown>,
): Promise<Error> {
  const expected = await call(here).then(() => assert.fail("expected a rejection"), (e) => e);
  const actual = await call(there).then(() => assert.fail("expected a rejection"), (e) => e);
  assert.equal(actual.constructor, expected.constructor);
  assert.equal(actual.code, expected.code);
  assert.equal(actual.name, expected.name);
  assert.equal(actual.message, expected.message);
  assert.equal(actual.resource, expected.resource);
  assert.equal(actual.id, expected.id);
  return actual;
}

Deno.test("errors cross the thread as the same classes, codes, messages and fields", async () => {
  await using here = await openMemoryStore();
  await using there = await openThreadStore("memory:");
  const notFound = await sameError(here, there, (s) => s.getHead("424242"));
  assert.ok(notFound instanceof NotFoundError);
  assert.equal(notFound.resource, "context");
  assert.equal(notFound.id, "424242");
  assert.ok(await sameError(here, there, (s) => s.getTurn("77")) instanceof NotFoundError);
  assert.ok(
    await sameError(here, there, (s) => s.getBlob("ab".repeat(32))) instanceof NotFoundError,
  );
  const invalid = await sameError(
    here,
    there,
    (s) => s.appendTurn({ ...note("1", "x"), typeVersion: 0 }),
  );
  assert.ok(invalid instanceof InvalidInputError);
  // A reused idempotency key: same ids on both sides, since both stores start empty.
  const conflict = await sameError(here, there, async (s) => {
    const ctx = await s.createContext();
    await s.appendTurn(note(ctx.contextId, "first", "k"));
    await s.appendTurn(note(ctx.contextId, "other", "k"));
  });
  assert.ok(conflict instanceof ConflictError);
  assert.match(conflict.message, /idempotency key "k"/);
});

Deno.test("a backend that fails to open gives its own typed error; the thread ends", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      openThreadStore(`fs:${dir}/s?durability=maybe`),
      (e: Error) => e instanceof InvalidInputError && e.message.includes("maybe"),
    );
    await Deno.mkdir(`${dir}/a-directory`);
    await assert.rejects(
      openThreadStore(`kv:${dir}/a-directory`),
      (e: Error) => e instanceof BackendError && e.message.includes(`${dir}/a-directory`),
    );
  });
});

Deno.test("a thread that fails to start is a Backend error naming the URL", async () => {
  await assert.rejects(
    openThreadStore("memory:", {
      workerUrl: new URL("./testdata/crash_on_load_worker.ts", import.meta.url),
    }),
    (e: Error) =>
      e instanceof BackendError && e.message.includes("memory:") &&
      e.message.includes("failed to load on purpose"),
  );
});

Deno.test("schemes a thread cannot open are Unsupported, bad options InvalidInput", async () => {
  await assert.rejects(openThreadStore("cxdb://127.0.0.1:9009"), UnsupportedError);
  await assert.rejects(openThreadStore(""), InvalidInputError);
  await assert.rejects(
    openTurnStore("mine:x", { thread: "worker", schemes: { "mine:": () => openMemoryStore() } }),
    (e: Error) => e instanceof UnsupportedError && e.message.includes("mine:"),
  );
  await assert.rejects(
    openTurnStore("memory:", { thread: "elsewhere" as "worker" }),
    (e: Error) => e instanceof InvalidInputError && e.message.includes("elsewhere"),
  );
});

Deno.test("openTurnStore(url, { thread: 'worker' }) runs the backend in a worker", async () => {
  await withDir(async (dir) => {
    await using store = await openTurnStore(`kv:${dir}/s.kv`, { thread: "worker" });
    assert.ok(store instanceof ThreadStore);
    assert.equal(store.backend, "kv");
    const ctx = await store.createContext();
    const turn = await store.appendTurn(note(ctx.contextId, "hello"));
    assert.deepEqual(turn.payload, bytes("hello"));
    assert.equal((await store.getTurn(turn.turnId)).contentHash, turn.contentHash);
  });
});

Deno.test("a thread that dies rejects every pending call, later calls and close with a Backend error naming the URL", async () => {
  const store = await openThreadStore("memory:", {
    workerUrl: new URL("./testdata/crash_on_calls_worker.ts", import.meta.url),
  });
  const calls = [store.createContext(), store.getHead("1"), store.hasBlob("ab".repeat(32))];
  const results = await Promise.allSettled(calls);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    const error = (result as PromiseRejectedResult).reason;
    assert.ok(error instanceof BackendError, String(error));
    assert.match(error.message, /store thread memory: died: .*crashed on purpose/);
  }
  await assert.rejects(store.getTurn("1"), /died.*\(getTurn\)/);
  await assert.rejects(store.close(), (e: Error) => isTurnStoreError(e, "Backend"));
});

Deno.test("close lets every call already made finish, then refuses new ones", async () => {
  await withDir(async (dir) => {
    const url = `kv:${dir}/s.kv`;
    const store = await openThreadStore(url);
    const ctx = await store.createContext();
    const appends = [];
    for (let i = 0; i < 300; i++) appends.push(store.appendTurn(note(ctx.contextId, `n${i}`)));
    const closed = store.close(); // same tick: the appends have not even left yet
    await assert.rejects(
      store.getHead(ctx.contextId),
      (e: Error) => e instanceof BackendError && /closed \(getHead\)/.test(e.message),
    );
    const turns = await Promise.all(appends);
    assert.deepEqual(turns.map((t) => t.depth), turns.map((_, i) => i + 1));
    await closed;
    await store.close(); // harmless
    await using again = await openThreadStore(url);
    assert.equal((await again.getHead(ctx.contextId)).headDepth, 300);
  });
});

Deno.test("await using closes the store and its thread", async () => {
  let kept: ThreadStore;
  {
    await using store = await openThreadStore("memory:");
    kept = store;
    await store.createContext();
  }
  await assert.rejects(kept.createContext(), BackendError);
});

Deno.test("calls of one tick travel in one message each way", async () => {
  await using store = await openThreadStore("memory:");
  const ctx = await store.createContext();
  const before = store.traffic;
  const appends = [];
  for (let i = 0; i < 128; i++) appends.push(store.appendTurn(note(ctx.contextId, `n${i}`)));
  const turns = await Promise.all(appends);
  const after = store.traffic;
  assert.equal(after.calls - before.calls, 128);
  assert.equal(after.sent - before.sent, 1);
  assert.equal(after.received - before.received, 1);
  assert.deepEqual(turns.map((t) => t.depth), turns.map((_, i) => i + 1));
});

Deno.test("kv commits are counted through the thread, and are no more per append than on the caller's", async () => {
  await withDir(async (dir) => {
    const workload = async (store: ForgeStore) => {
      const ctx = await store.createContext();
      const appends = [];
      for (let i = 0; i < 128; i++) {
        appends.push(store.appendTurn(note(ctx.contextId, `n${i}`, `key-${i}`)));
      }
      await Promise.all(appends);
    };
    const here: CommitStats[] = [];
    const direct = await openKvStore(`${dir}/here.kv`, { onCommit: (s) => here.push(s) });
    await workload(direct);
    await direct.close();
    const there: CommitStats[] = [];
    const store = await openThreadStore(`kv:${dir}/there.kv`, { onCommit: (s) => there.push(s) });
    const before = store.traffic;
    await workload(store);
    const traffic = store.traffic;
    await store.close();
    assert.ok(there.length > 0);
    assert.ok(there[0].mutations > 0);
    assert.ok(there.length <= here.length, `${there.length} commits vs ${here.length} here`);
    // The 128 appends left in one message; their answers in no more messages than commits.
    assert.ok(traffic.received - before.received <= there.length + 1);
  });
});

Deno.test("a payload is copied at the call: reusing the buffer in the same tick changes nothing stored", async () => {
  await using store = await openThreadStore("memory:");
  const ctx = await store.createContext();
  const buffer = bytes("original");
  const pending = store.appendTurn({ ...note(ctx.contextId, ""), payload: buffer });
  buffer.set(bytes("CHANGED!"));
  const turn = await pending;
  assert.deepEqual((await store.getTurn(turn.turnId)).payload, bytes("original"));
  assert.deepEqual(turn.payload, bytes("original"));
  const blob = bytes("blob bytes");
  const put = store.putBlob(blob);
  blob.fill(0);
  assert.deepEqual(await store.getBlob((await put).hash), bytes("blob bytes"));
  assert.deepEqual(blob, new Uint8Array(10)); // the caller's buffer is still its own
});

Deno.test("an argument that cannot cross the thread is InvalidInput; the tick's other calls go on", async () => {
  await using store = await openThreadStore("memory:");
  const ctx = await store.createContext();
  const bad = store.appendTurn({
    ...note(ctx.contextId, "x"),
    idempotencyKey: (() => "k") as unknown as string,
  });
  const good = store.appendTurn(note(ctx.contextId, "y"));
  await assert.rejects(
    bad,
    (e: Error) => e instanceof InvalidInputError && e.message.includes("appendTurn"),
  );
  assert.equal((await good).depth, 1);
});

Deno.test("a record writer pipelines through the thread: its held records leave together", async () => {
  const { RecordWriter } = await import("../writer/mod.ts");
  const { defineRecord } = await import("../records/record.ts");
  const { f } = await import("../records/fields.ts");
  const { contentAddressedBundle } = await import("../records/bundle.ts");
  const { idempotencyKey } = await import("../records/idempotency.ts");
  const Step = defineRecord({ typeId: "test.thread.step", version: 1, fields: { n: f.u64(1) } });
  await withDir(async (dir) => {
    let commits = 0;
    await using store = await openThreadStore(`kv:${dir}/s.kv`, { onCommit: () => commits++ });
    const writer = new RecordWriter<typeof Step>({
      store,
      mode: "required",
      label: "thread test",
      bundle: contentAddressedBundle("test.thread", [Step]),
      key: (sequence, event) => idempotencyKey("thread-test:v1", "r", sequence, event),
    });
    await writer.open();
    const before = store.traffic;
    for (let n = 0; n < 1_000; n++) writer.enqueue(Step, { n }, "step");
    await writer.settle();
    const traffic = store.traffic;
    const head = await store.getHead(writer.contextId!);
    await writer.close();
    assert.equal(head.headDepth, 1_000);
    assert.equal(traffic.calls - before.calls, 1_000);
    // Held in runs of up to 128, each run one message: 8 at least, far fewer than 1,000.
    assert.ok(traffic.sent - before.sent <= 16, `${traffic.sent - before.sent} messages`);
    assert.ok(commits <= 40, `${commits} commits`);
  });
});

Deno.test("a store nobody closes does not keep the process alive, and an owed answer does until it arrives", async () => {
  await withDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-kv",
        "--allow-read",
        "--allow-write",
        new URL("./testdata/forgotten_close.ts", import.meta.url).pathname,
        `kv:${dir}/s.kv`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    });
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /stored at depth 1/);
  });
});
