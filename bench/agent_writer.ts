/**
 * The agent's write path without the session around it: the 2,002 records a
 * lean session (agent.bench.ts) writes are captured once, then replayed
 * through a fresh `RecordWriter` (mode `required`, the agent's key shape,
 * write-behind `enqueue`, then `close`) into a fresh kv, fs or memory store,
 * alternately. Prints CPU per record of this thread (encoding, the writer and
 * the store's own work on the caller's thread) and of every other thread
 * (Deno KV's SQLite thread, fsync threads, V8's helpers), and the median
 * replay. Not a figure: it says where the session's persistence cost comes
 * from, with less noise than whole sessions on a shared machine (CPU rather
 * than wall time, and no session work in between). `threadCpuUsage` counts
 * in scheduler ticks (10 ms here), so use enough replays.
 *
 * `deno run --unstable-kv --allow-read --allow-write --allow-env --allow-sys=loadavg bench/agent_writer.ts [replays] [kv,fs,memory]`
 *
 * @module
 */
import process from "node:process";
import { MemoryStore, openTurnStore } from "../turnstore/mod.ts";
import type { ForgeStore } from "../turnstore/mod.ts";
import { RecordWriter } from "../turnstore/writer/mod.ts";
import type { WritableRecord } from "../turnstore/writer/mod.ts";
import { runLeanSession } from "./agent.bench.ts";

type Captured = [WritableRecord<never>, never, string];

/** The records one lean session enqueues, in order (captured from the writer). */
async function captureSession(dir: string): Promise<Captured[]> {
  const captured: Captured[] = [];
  const enqueue = RecordWriter.prototype.enqueue;
  RecordWriter.prototype.enqueue = function (type, value, event) {
    captured.push([type as WritableRecord<never>, value as never, event ?? type.typeId]);
    return enqueue.call(this, type, value, event);
  };
  try {
    await using store = new MemoryStore();
    await runLeanSession(dir, store);
  } finally {
    RecordWriter.prototype.enqueue = enqueue;
  }
  return captured;
}

/** CPU of this thread and of the whole process, in µs. */
function cpuUs(): { main: number; all: number } {
  const thread = process.threadCpuUsage();
  const all = process.cpuUsage();
  return { main: thread.user + thread.system, all: all.user + all.system };
}

const SESSION = "0f0e0d0c-0b0a-0908-0706-050403020100";
const replays = Number(Deno.args[0] ?? 30);
const variants = (Deno.args[1] ?? "kv,fs,memory").split(",");
const dir = await Deno.makeTempDir({ prefix: "forge-agent-writer-" });
try {
  await Deno.writeTextFile(`${dir}/notes.txt`, "line one\nline two\nline three\n");
  const records = await captureSession(dir);
  const totals = new Map(variants.map((v) => [v, { main: 0, others: 0, ms: [] as number[] }]));
  for (let i = 0; i <= replays; i++) { // replay 0 warms up
    for (const variant of variants) {
      const store: ForgeStore = variant === "memory"
        ? new MemoryStore()
        : await openTurnStore(variant === "kv" ? `kv:${dir}/${i}.kv` : `fs:${dir}/${i}`);
      const before = cpuUs();
      const start = performance.now();
      const writer = new RecordWriter({
        store,
        mode: "required",
        key: (sequence, event) =>
          `forge-agent:v1|36:${SESSION}|${sequence}|${event.length}:${event}`,
      });
      await writer.open();
      for (const [type, value, event] of records) writer.enqueue(type, value, event);
      await writer.close();
      const ms = performance.now() - start;
      const after = cpuUs();
      await store.close();
      if (i === 0) continue;
      const total = totals.get(variant)!;
      total.main += after.main - before.main;
      total.others += after.all - after.main - (before.all - before.main);
      total.ms.push(ms);
    }
  }
  const n = records.length * replays;
  console.log(
    `${records.length} records a replay, ${replays} replays, load ${
      Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
    }`,
  );
  for (const [variant, { main, others, ms }] of totals) {
    ms.sort((a, b) => a - b);
    console.log(
      `${variant.padEnd(6)} this thread ${(main / n).toFixed(2)} µs/record, other threads ${
        (others / n).toFixed(2)
      }, median replay ${ms[ms.length >> 1].toFixed(1)} ms`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
