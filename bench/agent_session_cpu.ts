/**
 * Where an agent session's persistence cost goes, per thread: whole sessions
 * of agent.bench.ts (the near-free "lean" model by default, or "scripted")
 * with persistence off, on kv
 * (file) and on fs, alternated; prints each variant's mean and best wall
 * time, the CPU of the session's thread and of every other thread (Deno KV's
 * SQLite thread, fsync and file-read threads, V8's helpers), and the wall
 * ratios against off. Not a figure: the bench figure is the best of three
 * (agent.bench.ts); this runs many sessions and splits the cost by thread,
 * so a change to the write path shows in CPU even when wall time is noisy.
 * Stores are opened before and closed after each timed session, as the bench
 * does.
 *
 * `deno run --unstable-kv --allow-read --allow-write --allow-env --allow-sys=loadavg bench/agent_session_cpu.ts [sessions] [lean|scripted]`
 *
 * @module
 */
import process from "node:process";
import { openTurnStore } from "../turnstore/mod.ts";
import { type Model, runBenchSession } from "./agent.bench.ts";

const VARIANTS = ["off", "kv", "fs"] as const;
const sessions = Number(Deno.args[0] ?? 12);
const model: Model = Deno.args[1] === "scripted" ? "scripted" : "lean";

/** CPU of this thread and of the whole process, in µs. */
function cpuUs(): { main: number; all: number } {
  const thread = process.threadCpuUsage();
  const all = process.cpuUsage();
  return { main: thread.user + thread.system, all: all.user + all.system };
}

const dir = await Deno.makeTempDir({ prefix: "forge-agent-session-cpu-" });
try {
  await Deno.writeTextFile(`${dir}/notes.txt`, "line one\nline two\nline three\n");
  for (let i = 0; i < 3; i++) await runBenchSession(model, dir, undefined); // warm-up
  const totals = new Map(
    VARIANTS.map((v) => [v, { main: 0, others: 0, wall: 0, best: Infinity, records: 0 }]),
  );
  for (let i = 0; i < sessions; i++) {
    for (const variant of VARIANTS) {
      const store = variant === "off"
        ? undefined
        : await openTurnStore(variant === "kv" ? `kv:${dir}/${i}.kv` : `fs:${dir}/${i}`);
      const before = cpuUs();
      const { ms, records } = await runBenchSession(model, dir, store);
      const after = cpuUs();
      await store?.close();
      const t = totals.get(variant)!;
      t.main += after.main - before.main;
      t.others += (after.all - after.main) - (before.all - before.main);
      t.wall += ms;
      t.best = Math.min(t.best, ms);
      t.records = records;
    }
  }
  const off = totals.get("off")!;
  const [load] = Deno.loadavg();
  console.log(`${model} model, ${sessions} sessions each, alternated; load ${load.toFixed(2)}`);
  for (const [variant, t] of totals) {
    const perRecord = (us: number) =>
      variant === "off" || !t.records
        ? ""
        : ` (${(us / sessions / t.records).toFixed(1)} µs/record over off)`;
    console.log(
      `${variant.padEnd(3)} wall mean ${(t.wall / sessions).toFixed(1)} ms, best ${
        t.best.toFixed(1)
      } ms; ratio mean ${(t.wall / off.wall).toFixed(3)}, best ${
        (t.best / off.best).toFixed(3)
      }; ` +
        `session thread ${(t.main / sessions / 1000).toFixed(1)} ms${
          perRecord(t.main - off.main)
        }, ` +
        `other threads ${(t.others / sessions / 1000).toFixed(1)} ms${
          perRecord(t.others - off.others)
        }`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
