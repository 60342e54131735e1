import assert from "node:assert/strict";
import { ConflictError, InvalidInputError } from "../core/errors.ts";
import type { AppendedTurn, AppendTurnInput, ForgeStore } from "../core/types.ts";
import { MemoryStore } from "../memory/store.ts";
import { contentAddressedBundle, RecordCatalog } from "../records/bundle.ts";
import { defineRecord } from "../records/record.ts";
import { f } from "../records/fields.ts";
import { idempotencyKey } from "../records/idempotency.ts";
import { PersistenceError, RecordWriter, type RecordWriterOptions } from "./mod.ts";
import { BACKENDS, backendTest } from "./test_util.ts";

const Note = defineRecord({
  typeId: "test.writer.note",
  version: 1,
  fields: { text: f.string(1), at: f.unixMs(2) },
});
const Mark = defineRecord({ typeId: "test.writer.mark", version: 1, fields: { n: f.u64(1) } });
const bundle = contentAddressedBundle("test.writer", [Note, Mark]);
const catalog = new RecordCatalog([Note, Mark]);
const fast = { attempts: 3, backoffMs: 0 };
const key = (sequence: number, event: string) => idempotencyKey("test:v1", "job", sequence, event);

function writer(
  store: ForgeStore | undefined,
  options: Partial<RecordWriterOptions> = {},
): RecordWriter<typeof Note | typeof Mark> {
  return new RecordWriter<typeof Note | typeof Mark>({
    store,
    mode: "required",
    key,
    label: "job j",
    bundle,
    retry: fast,
    ...options,
  });
}

async function texts(store: ForgeStore, contextId: string): Promise<unknown[]> {
  const turns = await store.listTurns(contextId);
  return turns.map((t) => catalog.decode(t)?.value.text);
}

Deno.test("mode off never touches the store, and every write resolves with undefined", async () => {
  const touched: string[] = [];
  const store = new Proxy({} as ForgeStore, {
    get(_target, prop) {
      if (prop === "then") return undefined;
      touched.push(String(prop));
      throw new Error(`the store was used: ${String(prop)}`);
    },
  });
  const w = writer(store, { mode: "off" });
  await w.open();
  assert.equal(await w.append(Note, { text: "x", at: 1 }), undefined);
  w.enqueue(Note, { text: "y", at: 2 });
  await w.close();
  assert.deepEqual(touched, []);
  assert.equal(w.contextId, undefined);
  assert.equal(w.enabled, false);
});

Deno.test("bad options are refused with a TypeError naming the option", () => {
  assert.throws(() => writer(undefined), /persistence mode required needs a store/);
  assert.throws(
    () => writer(new MemoryStore(), { mode: "sometimes" as never }),
    /persistence mode must be one of off, best_effort, required, got "sometimes"/,
  );
  assert.throws(() => writer(new MemoryStore(), { pipelineWindow: 0 }), /pipelineWindow/);
  assert.throws(
    () => writer(new MemoryStore(), { retry: { attempts: 0, backoffMs: 0 } }),
    /retry\.attempts/,
  );
  assert.throws(() => writer(new MemoryStore(), { key: undefined as never }), /key function/);
  assert.throws(
    () => writer(new MemoryStore()).open({ forkFrom: "1", contextId: "1" }),
    /forkFrom or contextId, not both/,
  );
});

Deno.test("writing before open is refused in every mode, naming the write", () => {
  for (const mode of ["off", "best_effort", "required"] as const) {
    const w = writer(new MemoryStore(), { mode });
    assert.throws(
      () => w.enqueue(Note, { text: "early", at: 1 }, "note"),
      (e) =>
        e instanceof PersistenceError &&
        /job j is not open: call open\(\) before writing note/.test(e.message),
      mode,
    );
    assert.throws(() => w.append(Mark, { n: 1 }), PersistenceError, mode);
  }
});

Deno.test("the default window pipelines on backends that keep call order, and is 1 elsewhere", () => {
  assert.equal(writer(new MemoryStore()).pipelineWindow, 256);
  const remote = Object.assign(Object.create(new MemoryStore()), { backend: "cxdb" });
  assert.equal(writer(remote).pipelineWindow, 1);
});

for (const backend of BACKENDS) {
  for (const pipelineWindow of [1, 64]) {
    const label = ` (${backend.name}, window ${pipelineWindow})`;
    const test = backendTest(backend, label);

    test("open publishes the bundle once; appends chain in call order with deterministic keys", async (store) => {
      const w = writer(store, { pipelineWindow });
      await w.open();
      assert.deepEqual(store.published, [bundle.bundle_id]);
      assert.ok(await store.getRegistryBundle(bundle.bundle_id));
      const a = w.append(Note, { text: "one", at: 1 }, "note");
      w.enqueue(Mark, { n: 7 }, "mark");
      const c = w.append(Note, { text: "three", at: 3 });
      await w.settle();
      assert.equal((await a)?.depth, 1);
      assert.equal((await c)?.depth, 3);
      assert.equal(w.headTurnId, (await c)?.turnId);
      assert.equal(w.sequence, 3);
      assert.deepEqual(store.keys, [
        "test:v1|3:job|1|4:note",
        "test:v1|3:job|2|4:mark",
        "test:v1|3:job|3|16:test.writer.note",
      ]);
      const turns = await store.listTurns(w.contextId!);
      for (let i = 1; i < turns.length; i++) {
        assert.equal(turns[i].parentTurnId, turns[i - 1].turnId);
      }
      assert.deepEqual(catalog.decode(turns[1])?.value, { n: 7 });
    });

    test("required: a write that keeps failing rejects with a PersistenceError, after every try, and refuses later writes", async (store) => {
      const w = writer(store, { pipelineWindow });
      await w.open();
      await w.append(Note, { text: "kept", at: 1 }, "note");
      store.failAll = true;
      const error = await w.append(Note, { text: "lost", at: 2 }, "note").catch((e) => e);
      assert.ok(error instanceof PersistenceError, String(error));
      assert.equal(error.code, "Persistence");
      assert.equal(error.event, "note");
      assert.match(error.message, /persisting note of job j failed: injected failure/);
      assert.equal(store.appendCalls, 1 + 3, "three tries");
      store.failAll = false;
      await assert.rejects(() => w.append(Note, { text: "after", at: 3 }), PersistenceError);
      assert.equal(store.appendCalls, 4, "a refused write is not sent");
      await assert.rejects(() => w.close(), (e) => e === error);
      assert.deepEqual(await texts(store, w.contextId!), ["kept"]);
    });

    test("required, write-behind: the first failure is kept, named and thrown by settle", async (store) => {
      const w = writer(store, { pipelineWindow });
      await w.open();
      w.enqueue(Note, { text: "kept", at: 1 }, "first");
      await w.settle();
      store.failAll = true;
      w.enqueue(Mark, { n: 1 }, "second");
      w.enqueue(Note, { text: "refused", at: 3 }, "third");
      const error = await w.settle().catch((e) => e);
      assert.ok(error instanceof PersistenceError);
      assert.equal(error.event, "second");
      assert.equal(w.failure, error);
      assert.throws(() => w.throwIfFailed(), (e) => e === error);
      assert.deepEqual(await texts(store, w.contextId!), ["kept"]);
    });

    test("best_effort: a failed write warns, and later writes chain on from the last stored turn", async (store) => {
      const warnings: string[] = [];
      const w = writer(store, {
        pipelineWindow,
        mode: "best_effort",
        onWarning: (m) => warnings.push(m),
      });
      await w.open();
      const first = await w.append(Note, { text: "a", at: 1 }, "note");
      store.failCalls.add(2).add(3).add(4);
      assert.equal(await w.append(Note, { text: "lost", at: 2 }, "note"), undefined);
      w.enqueue(Note, { text: "c", at: 3 }, "note");
      await w.close();
      assert.equal(w.failure, undefined);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /persisting note of job j failed/);
      const turns = await store.listTurns(w.contextId!);
      assert.equal(turns[1].parentTurnId, first?.turnId);
      assert.deepEqual(await texts(store, w.contextId!), ["a", "c"]);
    });

    test("best_effort: when the context cannot be created, writes warn and resolve empty", async (store) => {
      const warnings: string[] = [];
      store.failContexts = true;
      const w = writer(store, {
        pipelineWindow,
        mode: "best_effort",
        onWarning: (m) => warnings.push(m),
      });
      await w.open();
      assert.equal(await w.append(Note, { text: "a", at: 1 }), undefined);
      await w.close();
      assert.equal(w.contextId, undefined);
      assert.match(warnings[0], /persisting context of job j failed: injected context failure/);
      assert.equal(store.appendCalls, 0);
    });

    test("a retried write whose acknowledgement was lost is found by its key, not stored twice", async (store) => {
      store.failureKind = "after_write";
      const w = writer(store, { pipelineWindow });
      await w.open();
      store.failCalls.add(1);
      const results = await Promise.all(
        ["a", "b", "c"].map((text, i) => w.append(Note, { text, at: i }, "note")),
      );
      assert.equal(results[0]?.deduplicated, true, "the retry found the first write");
      assert.equal(store.keys.filter((k) => k === store.keys[0]).length, 2, "same key retried");
      assert.deepEqual(results.map((t) => t?.depth), [1, 2, 3]);
      assert.deepEqual(await texts(store, w.contextId!), ["a", "b", "c"]);
    });

    test("errors that repeating cannot change are not retried", async (store) => {
      const w = writer(store, { pipelineWindow });
      await w.open();
      store.error = new InvalidInputError("injected invalid input");
      store.failCalls.add(1);
      await assert.rejects(() => w.append(Note, { text: "x", at: 1 }), /injected invalid input/);
      assert.equal(store.appendCalls, 1);
    });

    test("a value that does not encode throws at once when persisting (best_effort, required), and takes no sequence number", async (store) => {
      for (const mode of ["best_effort", "required"] as const) {
        const w = writer(store, { pipelineWindow, mode });
        await w.open();
        assert.throws(() => w.append(Note, { text: "x", at: -1 }), /test\.writer\.note v1: at/);
        assert.throws(() => w.enqueue(Mark, { n: 1.5 }), /test\.writer\.mark v1: n/);
        assert.equal(w.sequence, 0);
        await w.close();
        assert.equal((await store.getHead(w.contextId!)).headDepth, 0);
      }
    });

    test("fork opens a child context at the parent's head; the parent goes on unchanged", async (store) => {
      const parent = writer(store, { pipelineWindow });
      await parent.open();
      parent.enqueue(Note, { text: "shared", at: 1 });
      const child = await parent.fork({ label: "branch b" });
      assert.deepEqual(store.published, [bundle.bundle_id], "the bundle is published once");
      await child.append(Note, { text: "child", at: 2 });
      await parent.append(Note, { text: "parent", at: 3 });
      await child.close();
      await parent.close();
      assert.notEqual(child.contextId, parent.contextId);
      assert.deepEqual(await texts(store, child.contextId!), ["shared", "child"]);
      assert.deepEqual(await texts(store, parent.contextId!), ["shared", "parent"]);
      assert.equal(child.pipelineWindow, pipelineWindow);
    });

    test("open with contextId and sequence takes up an existing context without reusing keys", async (store) => {
      const first = writer(store, { pipelineWindow });
      await first.open();
      await first.append(Note, { text: "a", at: 1 }, "note");
      await first.close();
      const again = writer(store, { pipelineWindow });
      await again.open({ contextId: first.contextId, sequence: first.sequence });
      const b = await again.append(Note, { text: "b", at: 2 }, "note");
      await again.close();
      assert.equal(b?.deduplicated, false);
      assert.equal(again.contextId, first.contextId);
      assert.deepEqual(await texts(store, first.contextId!), ["a", "b"]);
      assert.equal(store.keys[1], "test:v1|3:job|2|4:note");
    });

    test("close waits for every write and refuses later ones", async (store) => {
      const w = writer(store, { pipelineWindow });
      await w.open();
      for (let i = 0; i < 20; i++) w.enqueue(Mark, { n: i });
      await w.close();
      await w.close();
      assert.equal((await store.getHead(w.contextId!)).headDepth, 20);
      assert.throws(() => w.enqueue(Mark, { n: 99 }), /record writer of job j is closed/);
      assert.throws(() => w.append(Mark, { n: 99 }), PersistenceError);
    });
  }
}

/** Holds back the second append of a burst, so the burst lands out of order. */
class ReorderingStore extends MemoryStore {
  #held = false;
  override async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    if (!this.#held && input.idempotencyKey?.includes("|2|")) {
      this.#held = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return super.appendTurn(input);
  }
}

for (const mode of ["required", "best_effort"] as const) {
  Deno.test(`the chain check catches a backend that reorders pipelined writes (${mode})`, async () => {
    const warnings: string[] = [];
    const w = writer(new ReorderingStore(), {
      mode,
      pipelineWindow: 8,
      onWarning: (m) => warnings.push(m),
    });
    await w.open();
    await w.append(Note, { text: "one", at: 1 });
    const results = await Promise.allSettled([
      w.append(Note, { text: "two", at: 2 }),
      w.append(Note, { text: "three", at: 3 }),
    ]);
    if (mode === "required") {
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.ok(rejected, "one of the out-of-order writes is refused");
      assert.ok(rejected.reason instanceof PersistenceError);
      assert.match(rejected.reason.message, /reordered concurrent appends/);
      assert.throws(() => w.throwIfFailed(), PersistenceError);
    } else {
      // Both writes of the burst are out of place; each is reported.
      assert.equal(warnings.length, 2);
      for (const warning of warnings) assert.match(warning, /reordered concurrent appends/);
    }
  });
}

Deno.test("a payload of 32 KiB or more is written alone, and the chain keeps call order", async () => {
  const big = "x".repeat(40 * 1024);
  const events: string[] = [];
  let inflight = 0;
  class SlowStore extends MemoryStore {
    override async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
      events.push(`issue ${input.payload.length >= 32 * 1024 ? "big" : "small"} with ${inflight}`);
      inflight++;
      await new Promise((resolve) => setTimeout(resolve, 1));
      try {
        return await super.appendTurn(input);
      } finally {
        inflight--;
      }
    }
  }
  const store = new SlowStore();
  const w = writer(store, { pipelineWindow: 64 });
  await w.open();
  const all = ["a", "b", big, "c", "d"];
  for (const text of all) w.enqueue(Note, { text, at: 1 });
  await w.close();
  const bigAt = events.indexOf("issue big with 0");
  assert.ok(bigAt > 0, `the big write waits for the ones before it: ${events.join("; ")}`);
  assert.equal(events[bigAt + 1], "issue small with 0", "the next waits for it");
  assert.deepEqual(await texts(store, w.contextId!), all);
});

Deno.test("a conflicting bundle fails open in mode required and names the bundle step", async () => {
  const store = new MemoryStore();
  await store.publishRegistryBundle({ ...bundle, types: {} });
  const w = writer(store);
  const error = await w.open().catch((e) => e);
  assert.ok(error instanceof PersistenceError);
  assert.equal(error.event, "registry_bundle");
  assert.ok(error.cause instanceof ConflictError);
});
