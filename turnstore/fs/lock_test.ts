import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import { openFsStore } from "./mod.ts";
import { tempDir } from "./test_util.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const OPEN_CHILD = new URL("./testdata/open_child.ts", import.meta.url).pathname;

function child(target: string, hold = false): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      OPEN_CHILD,
      target,
      ...(hold ? ["hold"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function firstLine(process: Deno.ChildProcess): Promise<Record<string, unknown>> {
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return JSON.parse(text.split("\n")[0]);
}

Deno.test("a second process cannot open a store another process holds: BackendError naming the directory", async () => {
  const dir = await Deno.realPath(await tempDir());
  const store = await openFsStore(dir);
  try {
    const ctx = await store.createContext();
    const other = child(dir);
    const report = await firstLine(other);
    await other.status;
    assert.equal(report.opened, false);
    assert.equal(report.code, "Backend");
    assert.ok(String(report.message).includes(dir), String(report.message));
    assert.match(String(report.message), /locked by another process/);
    // The holder is unaffected.
    await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: new Uint8Array([1]),
    });
    assert.equal((await store.getHead(ctx.contextId)).headDepth, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the lock is released on close and when the holding process dies", async () => {
  const dir = await Deno.realPath(await tempDir());
  try {
    const holder = child(dir, true);
    assert.equal((await firstLine(holder)).opened, true);
    await assert.rejects(openFsStore(dir), (e: Error) => isTurnStoreError(e, "Backend"));
    holder.kill("SIGKILL");
    await holder.status;
    const store = await openFsStore(dir);
    await store.close();
    const again = child(dir);
    assert.equal((await firstLine(again)).opened, true, "open after close succeeds");
    await again.status;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second open of the same directory in one process is a BackendError and harms nothing", async () => {
  const dir = await Deno.realPath(await tempDir());
  const store = await openFsStore(`${dir}?durability=fsync`);
  try {
    const ctx = await store.createContext();
    await assert.rejects(openFsStore(`${dir}/.?durability=none`), (error: Error) => {
      assert.ok(isTurnStoreError(error, "Backend"), String(error));
      assert.ok(error.message.includes(dir), error.message);
      return true;
    });
    const t = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: new Uint8Array([2]),
    });
    assert.equal((await store.getTurn(t.turnId)).payload[0], 2);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
