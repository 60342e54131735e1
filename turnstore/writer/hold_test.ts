import assert from "node:assert/strict";
import { MemoryStore } from "../memory/store.ts";
import { DEFAULT_WRITE_BEHIND_HOLD, NO_HOLD, PersistenceError } from "./mod.ts";
import { BACKENDS, backendTest, byCount, noteKit } from "./test_util.ts";

const { Note, writer, texts } = noteKit("hold", { bundle: true, label: "job h" });

/** Lets every pending promise and I/O callback run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("the default hold is 5 ms or 256 records when the writer pipelines, none with a window of 1", () => {
  assert.deepEqual(DEFAULT_WRITE_BEHIND_HOLD, { maxMs: 5, maxRecords: 256 });
  assert.deepEqual(writer(new MemoryStore()).hold, DEFAULT_WRITE_BEHIND_HOLD);
  assert.deepEqual(writer(new MemoryStore(), { pipelineWindow: 1 }).hold, NO_HOLD);
  assert.deepEqual(writer(new MemoryStore(), { hold: { maxMs: 0, maxRecords: 50 } }).hold, NO_HOLD);
});

Deno.test("a bad hold is refused with a TypeError naming it", () => {
  for (
    const hold of [{ maxMs: -1, maxRecords: 2 }, { maxMs: 1, maxRecords: 0 }, {
      maxMs: Infinity,
      maxRecords: 2,
    }, { maxMs: 1, maxRecords: 2.5 }]
  ) {
    assert.throws(() => writer(new MemoryStore(), { hold }), /hold\.maxMs .* hold\.maxRecords/);
  }
});

for (const backend of BACKENDS) {
  const test = backendTest(backend, ` (${backend.name})`);

  test("write-behind records are held until maxRecords are queued, then handed over together", async (store) => {
    const w = writer(store, { hold: byCount(3) });
    await w.open();
    w.enqueue(Note, { text: "a" });
    w.enqueue(Note, { text: "b" });
    await tick();
    assert.equal(store.appendCalls, 0, "two records are held");
    w.enqueue(Note, { text: "c" });
    assert.equal(store.appendCalls, 3, "the third releases all three in the same tick");
    w.enqueue(Note, { text: "d" });
    await tick();
    assert.equal(store.appendCalls, 3, "a new hold starts");
    await w.close();
    assert.deepEqual(await texts(store, w.contextId!), ["a", "b", "c", "d"]);
  });

  test("the hold's time releases held records with no other call", async (store) => {
    const w = writer(store, { hold: { maxMs: 5, maxRecords: 1000 } });
    await w.open();
    w.enqueue(Note, { text: "a" });
    w.enqueue(Note, { text: "b" });
    assert.equal(store.appendCalls, 0);
    // No flush, settle or append: only the hold's timer can send them.
    for (let i = 0; i < 500 && store.appendCalls < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.equal(store.appendCalls, 2);
    await w.close();
    assert.deepEqual(await texts(store, w.contextId!), ["a", "b"]);
  });

  test("an awaited append, flush, settle, fork and close release held records at once", async (store) => {
    const w = writer(store, { hold: byCount(1000) });
    await w.open();
    w.enqueue(Note, { text: "a" });
    const b = w.append(Note, { text: "b" });
    assert.equal(store.appendCalls, 2, "append took the held record with it");
    assert.equal((await b)?.depth, 2);
    w.enqueue(Note, { text: "c" });
    await w.flush();
    assert.equal(store.appendCalls, 3, "flush");
    w.enqueue(Note, { text: "d" });
    await w.settle();
    assert.equal(store.appendCalls, 4, "settle");
    w.enqueue(Note, { text: "e" });
    const child = await w.fork();
    assert.equal(store.appendCalls, 5, "fork");
    assert.deepEqual(child.hold, w.hold, "the child keeps the hold");
    await child.close();
    w.enqueue(Note, { text: "f" });
    // close must release and clear the hold's 60 s timer: the test's sanitizer
    // fails it if a timer outlives it.
    await w.close();
    assert.equal(store.appendCalls, 6, "close");
    assert.deepEqual(await texts(store, w.contextId!), ["a", "b", "c", "d", "e", "f"]);
  });

  test("required: a failing store is known within one hold, and nothing after it is sent", async (store) => {
    const hold = byCount(4);
    const w = writer(store, { hold });
    await w.open();
    await w.append(Note, { text: "kept" });
    store.failAll = true;
    for (const text of ["f1", "f2", "f3"]) w.enqueue(Note, { text }, text);
    assert.equal(store.appendCalls, 1, "held");
    w.enqueue(Note, { text: "f4" }, "f4");
    await w.flush();
    // The hold's 4 records were sent once each; only the first is retried
    // (3 tries): the writer has failed by the time the others' answers come.
    assert.equal(store.appendCalls, 1 + hold.maxRecords + 2);
    assert.ok(w.failure instanceof PersistenceError);
    assert.equal(w.failure.event, "f1");
    store.failAll = false;
    w.enqueue(Note, { text: "after" });
    await assert.rejects(() => w.settle(), (e) => e === w.failure);
    assert.equal(store.appendCalls, 1 + hold.maxRecords + 2, "a record queued after is not sent");
    await assert.rejects(() => w.close(), PersistenceError);
    assert.deepEqual(await texts(store, w.contextId!), ["kept"]);
  });

  test("best_effort: a held record that fails warns, and the others are stored in order", async (store) => {
    const warnings: string[] = [];
    const w = writer(store, {
      mode: "best_effort",
      hold: byCount(3),
      onWarning: (message) => warnings.push(message),
    });
    await w.open();
    await w.append(Note, { text: "a" });
    store.failCalls.add(3).add(5).add(6); // every try of "c"
    for (const text of ["b", "c", "d"]) w.enqueue(Note, { text }, text);
    await w.flush();
    w.enqueue(Note, { text: "e" }, "e");
    await w.close();
    assert.equal(w.failure, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /persisting c of job h failed/);
    assert.deepEqual(await texts(store, w.contextId!), ["a", "b", "d", "e"]);
    const turns = await store.listTurns(w.contextId!);
    for (let i = 1; i < turns.length; i++) {
      assert.equal(turns[i].parentTurnId, turns[i - 1].turnId, "one chain");
    }
  });
}
