import assert from "node:assert/strict";
import { openFsStore } from "./mod.ts";
import { FsStore } from "./store.ts";
import { tempDir } from "./test_util.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const APPEND_CHILD = new URL("./testdata/append_child.ts", import.meta.url).pathname;

for (const [durability, writers] of [["fsync", 1], ["group", 8]] as const) {
  Deno.test(`a process killed mid-append (durability=${durability}, ${writers} writers) loses no acknowledged turn`, async () => {
    const dir = await tempDir();
    try {
      const target = `${dir}?durability=${durability}`;
      const setup = await openFsStore(target);
      const ctx = (await setup.createContext()).contextId;
      await setup.close();
      const process = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--config",
          CONFIG,
          "--allow-read",
          "--allow-write",
          "--allow-env",
          APPEND_CHILD,
          target,
          ctx,
          String(writers),
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const acked = new Map<string, number>();
      const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      while (acked.size < 300) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          const [turnId, i] = line.split(" ");
          acked.set(turnId, Number(i));
        }
      }
      process.kill("SIGKILL");
      await reader.cancel();
      await process.status;
      assert.ok(acked.size >= 300, `the child acknowledged ${acked.size} appends before the kill`);

      const store = await FsStore.open(target);
      try {
        const head = await store.getHead(ctx);
        assert.ok(head.headDepth >= acked.size, "every acknowledged turn is in the history");
        const decoder = new TextDecoder();
        for (const [turnId, i] of acked) {
          const turn = await store.getTurn(turnId);
          assert.equal(decoder.decode(turn.payload).replace(/\.+$/, ""), `payload-${i}`);
        }
        const next = await store.appendTurn({
          contextId: ctx,
          typeId: "test.crash",
          typeVersion: 1,
          payload: new Uint8Array([1]),
        });
        assert.equal(next.depth, head.headDepth + 1, "the store appends after the crash");
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
