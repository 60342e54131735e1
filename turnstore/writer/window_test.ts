/**
 * How released writes meet the pipeline window: they go to the store
 * together, never one write per answer that frees a place in the window
 * (which a group-commit store then committed or synced alone).
 */
import assert from "node:assert/strict";
import { openKvStore } from "../kv/mod.ts";
import { BACKENDS, backendTest, byCount, noteKit } from "./test_util.ts";

const { Note, writer, texts } = noteKit("window", { label: "job w" });

for (const backend of BACKENDS) {
  const test = backendTest(backend, ` (${backend.name})`);

  test("records released faster than the window empties go in whole windows, none alone", async (store) => {
    // 24 records queued at once, a window and a hold of 4: the first release fills the window and
    // the next five wait for it. A window refilled one write per answer handed the store single
    // writes (runs of 1 after the first 4), each of which kv or fs then committed or synced alone.
    const w = writer(store, { pipelineWindow: 4, hold: byCount(4) });
    await w.open();
    const all = Array.from({ length: 24 }, (_, i) => `r${i}`);
    for (const text of all) w.enqueue(Note, { text });
    await w.close();
    assert.deepEqual(store.appendRuns, [4, 4, 4, 4, 4, 4]);
    assert.deepEqual(await texts(store, w.contextId!), all);
  });

  test("a release the window cannot take whole waits for room, then goes in one run", async (store) => {
    const w = writer(store, { pipelineWindow: 4, hold: byCount(4) });
    await w.open();
    const a = w.append(Note, { text: "a" }); // in flight: room for 3 more
    for (const text of ["b", "c", "d", "e"]) w.enqueue(Note, { text }); // the 4th releases all 4
    assert.deepEqual(store.appendRuns, [1], "4 released, room for 3: none sent yet");
    await a;
    assert.deepEqual(store.appendRuns, [1, 4], "sent together once the window had room");
    await w.close();
    assert.deepEqual(store.appendRuns, [1, 4]);
    assert.deepEqual(await texts(store, w.contextId!), ["a", "b", "c", "d", "e"]);
  });

  test("a release held back by a full window is refused, not sent, once the writer failed", async (store) => {
    const w = writer(store, { pipelineWindow: 4, hold: byCount(4) });
    await w.open();
    await w.append(Note, { text: "kept" });
    store.failAll = true;
    for (const text of ["a", "b", "c", "d"]) w.enqueue(Note, { text }, text); // in flight, failing
    for (const text of ["e", "f", "g", "h"]) w.enqueue(Note, { text }, text); // waits for room
    assert.equal(store.appendCalls, 1 + 4);
    await assert.rejects(() => w.settle(), (e) => e === w.failure);
    assert.equal(w.failure?.event, "a");
    // The first failed write is tried 3 times; the three after it once; the four held back never.
    assert.equal(store.appendCalls, 1 + 4 + 2);
    await assert.rejects(() => w.close());
    assert.deepEqual(await texts(store, w.contextId!), ["kept"]);
  });
}

Deno.test("kv: records queued faster than they commit take one commit per window", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-writer-window-kv-" });
  let commits = 0;
  const store = await openKvStore(`${dir}/w.kv`, { onCommit: () => commits++ });
  try {
    const w = writer(store, { pipelineWindow: 8, hold: byCount(8) });
    await w.open();
    const opened = commits;
    const all = Array.from({ length: 64 }, (_, i) => `r${i}`);
    for (const text of all) w.enqueue(Note, { text });
    await w.close();
    // 8 windows of 8, and the store's reservation of turn ids. Refilled one write per answer,
    // the window made every commit of 7 or 8 records bring a commit of one behind it (16).
    assert.ok(commits - opened <= 9, `${commits - opened} commits for 64 records`);
    assert.deepEqual(await texts(store, w.contextId!), all);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
