/**
 * Where the 200-node pipeline's persistence costs CPU, per thread (see
 * attractor.bench.ts): persistence off, `required` on a kv file on the
 * caller's thread, and on the same kind of store on its own thread (one
 * store each, kept for every run, as the bench keeps its store), alternately.
 * Prints CPU per stage of the runner's thread (`process.threadCpuUsage`, in
 * 10 ms ticks: sum over enough runs) and of every other thread, and the
 * median run.
 *
 * `deno run --unstable-kv --allow-read --allow-write --allow-env --allow-sys=loadavg bench/attractor_threads.ts [runs]`
 *
 * @module
 */
import process from "node:process";
import { openKvStore, openThreadStore } from "../turnstore/mod.ts";
import type { ForgeStore, ThreadStore } from "../turnstore/mod.ts";
import { linear, runOnce } from "./attractor.bench.ts";

const STAGES = 200;

function cpuUs(): { main: number; all: number } {
  const thread = process.threadCpuUsage();
  const all = process.cpuUsage();
  return { main: thread.user + thread.system, all: all.user + all.system };
}

const runs = Number(Deno.args[0] ?? 6);
const dir = await Deno.makeTempDir({ prefix: "forge-attractor-threads-" });
const stores = new Map<string, ForgeStore | undefined>([
  ["off", undefined],
  ["kv caller", await openKvStore(`${dir}/caller.kv`)],
  ["kv worker", await openThreadStore(`kv:${dir}/worker.kv`)],
]);
const totals = new Map(
  [...stores.keys()].map((k) => [k, { main: 0, others: 0, ms: [] as number[] }]),
);
try {
  const source = linear(STAGES);
  for (const store of stores.values()) await runOnce(source, store); // warm up every path
  const worker = stores.get("kv worker") as ThreadStore;
  const sentBefore = worker.traffic.sent;
  for (let i = 0; i < runs; i++) {
    for (const [variant, store] of stores) {
      const before = cpuUs();
      const ms = await runOnce(source, store);
      const after = cpuUs();
      const t = totals.get(variant)!;
      t.main += after.main - before.main;
      t.others += after.all - before.all - (after.main - before.main);
      t.ms.push(ms);
    }
  }
  const sent = (worker.traffic.sent - sentBefore) / runs / STAGES;
  console.log(`${sent.toFixed(2)} messages to the store thread per stage`);
} finally {
  for (const store of stores.values()) await store?.close();
  await Deno.remove(dir, { recursive: true });
}
const load = Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
console.log(`${runs} runs of ${STAGES} stages per variant, alternating; load ${load}`);
console.log("variant      main thread µs/stage   other threads µs/stage   median ms");
for (const [variant, t] of totals) {
  const median = t.ms.sort((a, b) => a - b)[Math.floor(t.ms.length / 2)];
  const perStage = (us: number) => (us / runs / STAGES).toFixed(0);
  console.log(
    `${variant.padEnd(12)} ${perStage(t.main).padStart(10)}${perStage(t.others).padStart(25)}${
      median.toFixed(1).padStart(22)
    }`,
  );
}
