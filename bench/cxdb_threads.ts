/**
 * Where the wall time of the pipelined CXDB figure goes (bench/cxdb.bench.ts,
 * "64 in flight"): the same raw and store slices, alternated, with per-thread
 * CPU and run-queue wait read from /proc/self/task/<tid>/schedstat around
 * each side, and the client's socket writes.
 *
 * `deno run --unstable-worker-options --allow-read --allow-run=grep,cat --allow-net=127.0.0.1 bench/cxdb_threads.ts [rounds] [warm]`
 *
 * `warm` is the appends each side makes before the measured slices (default
 * 2000, as in cxdb.bench.ts). A longer warm-up shows the steady state: the
 * store's hot functions reach TurboFan only after a few thousand appends, so
 * with the bench's warm-up their compilation (on V8's helper threads) falls
 * in the first measured store slices.
 *
 * A third argument `marks` prints a line as each slice starts and ends, so
 * that V8's own trace (`--v8-flags=--trace-gc`, run under `script` so that
 * both go to one line-buffered stream) shows which slice paid for which
 * collection.
 *
 * @module
 */
import { openCxdbStore } from "../cxdb/store/store.ts";
import { startPeerThread } from "../cxdb/testing/peer_thread.ts";
import {
  appendFrames,
  IN_FLIGHT,
  PAYLOAD_BYTES,
  RawPipe,
  WARM_APPENDS,
  warmUp,
} from "./cxdb.bench.ts";
import { concurrentOpsPerSecond } from "./harness.ts";

interface ThreadTimes {
  name: string;
  cpuNs: number;
  waitNs: number;
}

async function threads(): Promise<Map<string, ThreadTimes>> {
  // Deno lets nothing short of --allow-all read /proc/<pid>: a grep does.
  const dir = `/proc/${Deno.pid}/task`;
  const { stdout } = await new Deno.Command("grep", {
    args: ["-r", "--include=schedstat", "--include=comm", "", dir],
  }).output();
  const out = new Map<string, ThreadTimes>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const m = /^\/proc\/\d+\/task\/(\d+)\/(schedstat|comm):(.*)$/.exec(line);
    if (!m) continue;
    const t = out.get(m[1]) ?? out.set(m[1], { name: "", cpuNs: 0, waitNs: 0 }).get(m[1])!;
    if (m[2] === "comm") t.name = m[3].trim();
    else {
      const [cpu, wait] = m[3].split(" ");
      t.cpuNs = Number(cpu);
      t.waitNs = Number(wait);
    }
  }
  return out;
}

/** CPU and wait per thread group between two snapshots, in µs per append. */
function diff(a: Map<string, ThreadTimes>, b: Map<string, ThreadTimes>, n: number, self: string) {
  const groups: Record<string, { cpu: number; wait: number }> = {};
  for (const [tid, t] of b) {
    const before = a.get(tid) ?? { cpuNs: 0, waitNs: 0 };
    const g = tid === self
      ? "client"
      : t.name.startsWith("V8 Def") || t.name.startsWith("V8 ")
      ? "v8 helpers"
      : t.name;
    groups[g] ??= { cpu: 0, wait: 0 };
    groups[g].cpu += (t.cpuNs - before.cpuNs) / 1000 / n;
    groups[g].wait += (t.waitNs - before.waitNs) / 1000 / n;
  }
  return groups;
}

const rounds = Number(Deno.args[0] ?? 4);
const warmAppends = Number(Deno.args[1] ?? WARM_APPENDS);
const marks = Deno.args[2] === "marks";
const self = String(Deno.pid); // the main thread's tid is the pid
await using peer = await startPeerThread();
await using store = await openCxdbStore(peer.url);
const raw = await Deno.connect({ hostname: "127.0.0.1", port: peer.port });
raw.setNoDelay(true);
const pipe = new RawPipe(raw);
const slice = 2500;
await warmUp(store, pipe, warmAppends);
const rawCtx = await store.createContext();
const ctx = await store.createContext();
const total = { raw: { ms: 0, n: 0 }, store: { ms: 0, n: 0 } };
const slices: Record<string, number[]> = { raw: [], store: [] };
const acc: Record<string, Record<string, { cpu: number; wait: number }>> = { raw: {}, store: {} };
// Everything a slice sends is made before the first one, as in cxdb.bench.ts,
// so that no slice pays the collector for another's inputs.
const allFrames = appendFrames(rawCtx.contextId, rounds * slice, 1_000_000 + warmAppends);
const allPayloads = Array.from({ length: rounds * slice }, (_, i) => {
  const p = new Uint8Array(PAYLOAD_BYTES).fill(i & 0xff);
  p[1] = i >> 8;
  p[2] = i & 0xff;
  return p;
});
for (let r = 0; r < rounds; r++) {
  for (const side of ["raw", "store"] as const) {
    const frames = allFrames.slice(r * slice, (r + 1) * slice);
    const payloads = allPayloads.slice(r * slice, (r + 1) * slice);
    const writes0 = store.client.stats.writes;
    const a = await threads();
    if (marks) console.log(`slice ${r} ${side} start`);
    const start = performance.now();
    if (side === "raw") await pipe.run(frames, IN_FLIGHT);
    else {
      await concurrentOpsPerSecond(slice, IN_FLIGHT, (i) =>
        store.appendTurn({
          contextId: ctx.contextId,
          typeId: "bench.item",
          typeVersion: 1,
          payload: payloads[i],
        }));
    }
    const ms = performance.now() - start;
    if (marks) console.log(`slice ${r} ${side} end`);
    const b = await threads();
    total[side].ms += ms;
    slices[side].push(ms);
    total[side].n += slice;
    const d = diff(a, b, slice, self);
    for (const [g, v] of Object.entries(d)) {
      acc[side][g] ??= { cpu: 0, wait: 0 };
      acc[side][g].cpu += v.cpu / rounds;
      acc[side][g].wait += v.wait / rounds;
    }
    if (side === "store") {
      acc.store["(appends per write)"] ??= { cpu: 0, wait: 0 };
      acc.store["(appends per write)"].cpu += slice / (store.client.stats.writes - writes0) /
        rounds;
    }
  }
}
raw.close();
for (const side of ["raw", "store"] as const) {
  const wall = (total[side].ms * 1000) / total[side].n;
  console.log(
    `${side}: wall ${wall.toFixed(2)} µs/append; slices ${
      slices[side].map((x) => x.toFixed(0)).join(" ")
    } ms`,
  );
  for (const [g, v] of Object.entries(acc[side]).sort((x, y) => y[1].cpu - x[1].cpu)) {
    if (v.cpu < 0.05 && v.wait < 0.05) continue;
    console.log(`  ${g.padEnd(22)} cpu ${v.cpu.toFixed(2).padStart(6)}  wait ${v.wait.toFixed(2)}`);
  }
}
console.log(
  `ratio ${(total.raw.ms / total.store.ms).toFixed(3)}  load ${
    new TextDecoder().decode(
      (await new Deno.Command("cat", { args: ["/proc/loadavg"] }).output()).stdout,
    ).split(" ").slice(0, 3).join(" ")
  }`,
);
const pick = (side: "raw" | "store", g: string) => (acc[side][g]?.cpu ?? 0).toFixed(2);
console.log(
  `summary: wall raw ${(total.raw.ms * 1000 / total.raw.n).toFixed(2)} store ${
    (total.store.ms * 1000 / total.store.n).toFixed(2)
  } µs; cpu client ${pick("raw", "client")} / ${pick("store", "client")}, v8 helpers ${
    pick("raw", "v8 helpers")
  } / ${pick("store", "v8 helpers")}, peer ${pick("raw", "worker-1")} / ${
    pick("store", "worker-1")
  } (raw / store, µs per append)`,
);
