/**
 * Where a lean agent session's persistence costs CPU, per thread: the same
 * lean session (see agent.bench.ts) with persistence `required` on kv and fs,
 * the store on the caller's thread, on its own thread opened per session (its
 * code runs cold, as in a short `forge run`) and on one thread kept for every
 * session (its code warms up, as in a long run), and persistence off,
 * alternately. Prints CPU per stored record (2,004 a session) of the
 * session's thread (`process.threadCpuUsage`) and of every other thread of
 * the process (the store's worker, Deno KV's SQLite thread, V8's helpers: the
 * process's CPU less the session thread's), and the median session. "off"
 * stores nothing: its line, per record of the sessions that do, is the
 * loop's own cost. `threadCpuUsage` counts in scheduler ticks (10 ms here),
 * so a figure is only as good as the number of sessions it sums over.
 *
 * `deno run --unstable-kv --allow-read --allow-write --allow-env --allow-sys=loadavg bench/agent_threads.ts [sessions]`
 *
 * @module
 */
import process from "node:process";
import { openThreadStore, openTurnStore } from "../turnstore/mod.ts";
import type { ForgeStore } from "../turnstore/mod.ts";
import { runLeanSession } from "./agent.bench.ts";

/** CPU of this (the session's) thread and of the whole process, in µs. */
function cpuUs(): { main: number; all: number } {
  const thread = process.threadCpuUsage();
  const all = process.cpuUsage();
  return { main: thread.user + thread.system, all: all.user + all.system };
}

const VARIANTS = [
  "off",
  "kv caller",
  "kv worker",
  "kv worker kept",
  "fs caller",
  "fs worker",
  "fs worker kept",
] as const;
type Variant = typeof VARIANTS[number];

const keptStores = new Map<string, ForgeStore>();
const sessions = Number(Deno.args[0] ?? 8);
const dir = await Deno.makeTempDir({ prefix: "forge-agent-threads-" });
await Deno.writeTextFile(`${dir}/notes.txt`, "line one\nline two\nline three\n");
const totals = new Map<Variant, { main: number; others: number; records: number; ms: number[] }>();
for (const v of VARIANTS) totals.set(v, { main: 0, others: 0, records: 0, ms: [] });
try {
  await runLeanSession(dir, undefined); // warm-up
  for (let i = 0; i < sessions; i++) {
    for (const variant of VARIANTS) {
      let store: ForgeStore | undefined;
      const [backend, where, kept] = variant.split(" ");
      const url = backend === "kv" ? `kv:${dir}/${i}-${where}.kv` : `fs:${dir}/${i}-${where}`;
      if (kept) {
        // One thread for every session, as a long `forge run` keeps it: its code warms up.
        store = keptStores.get(backend) ??
          keptStores.set(backend, await openThreadStore(url)).get(backend);
      } else if (variant !== "off") {
        store = where === "worker" ? await openThreadStore(url) : await openTurnStore(url);
      }
      const before = cpuUs();
      const { ms, records } = await runLeanSession(dir, store);
      const after = cpuUs();
      if (!kept) await store?.close();
      const t = totals.get(variant)!;
      t.main += after.main - before.main;
      t.others += after.all - before.all - (after.main - before.main);
      t.records += records || 2_004; // "off": the records the other sessions store
      t.ms.push(ms);
    }
  }
} finally {
  for (const store of keptStores.values()) await store.close();
  await Deno.remove(dir, { recursive: true });
}
const load = Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
console.log(`${sessions} lean sessions per variant, alternating; load ${load}`);
console.log("variant      main thread µs/record   other threads µs/record   median ms");
for (const [variant, t] of totals) {
  const median = t.ms.sort((a, b) => a - b)[Math.floor(t.ms.length / 2)];
  console.log(
    `${variant.padEnd(12)} ${(t.main / t.records).toFixed(1).padStart(10)}` +
      `${(t.others / t.records).toFixed(1).padStart(26)}${median.toFixed(1).padStart(22)}`,
  );
}
