/**
 * Filesystem log backend: durable append against a raw write + fdatasync,
 * group commit against a single appender, read and fork cost at depth
 * 100,000 against depth 100 / 1, and peak memory while paging through a
 * 1,000,000-turn context against the 200 MB limit.
 *
 * Needs --allow-read --allow-write (temp dirs) and, for a clean memory
 * figure, --allow-run (the walk runs in a fresh child process; without it the
 * walk runs in this process and the note says so). The 1,000,000-turn context
 * is built in a worker running this same module.
 *
 * @module
 */
import { openFsStore, walkHistory } from "../turnstore/mod.ts";
import type { ForgeStore } from "../turnstore/mod.ts";
import {
  concurrentOpsPerSecond,
  medianMs,
  opsPerSecond,
  pageInFreshProcess,
  type PagingFigures,
  type Reporter,
} from "./harness.ts";

/** Name of the worker that builds the 1,000,000-turn context. */
const BUILDER_NAME = "forge-fs-bench-builder";
const KIB = new Uint8Array(1024).map((_, i) => (i * 13) & 0xff);
const SMALL = new Uint8Array(16).fill(1);

async function appendChain(
  store: ForgeStore,
  contextId: string,
  count: number,
  payload: Uint8Array,
): Promise<void> {
  // Many appends in flight at once: one batch (one write) per round.
  const round = 512;
  for (let done = 0; done < count; done += round) {
    const n = Math.min(round, count - done);
    await Promise.all(
      Array.from(
        { length: n },
        () => store.appendTurn({ contextId, typeId: "bench.item", typeVersion: 1, payload }),
      ),
    );
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function durableAppend(reporter: Reporter, dir: string): Promise<void> {
  const store = await openFsStore(`${dir}/durable?durability=fsync`);
  const ctx = (await store.createContext()).contextId;
  const raw = Deno.openSync(`${dir}/durable/raw.bin`, { write: true, create: true });
  // The disk is shared and its latency drifts: alternate short blocks of raw
  // writes and appends so both see the same conditions.
  const blocks = 20;
  const perBlock = 25;
  let rawMs = 0;
  let storeMs = 0;
  for (let b = 0; b < blocks; b++) {
    let start = performance.now();
    for (let i = 0; i < perBlock; i++) {
      let done = 0;
      while (done < KIB.length) done += raw.writeSync(KIB.subarray(done));
      raw.syncDataSync();
    }
    rawMs += performance.now() - start;
    start = performance.now();
    for (let i = 0; i < perBlock; i++) {
      await store.appendTurn({
        contextId: ctx,
        typeId: "bench.item",
        typeVersion: 1,
        payload: KIB,
      });
    }
    storeMs += performance.now() - start;
  }
  raw.close();
  await store.close();
  const n = blocks * perBlock;
  reporter.report(
    "fs durable append (fsync, 1 KiB) vs raw write + fdatasync",
    n / (storeMs / 1000),
    n / (rawMs / 1000),
    "ops/s",
    ">= 0.8",
    `${n} of each in alternating blocks of ${perBlock}; raw appends the same 1 KiB to a file in the same directory`,
  );
}

async function groupCommit(reporter: Reporter, dir: string): Promise<void> {
  const store = await openFsStore(`${dir}/group?durability=group`);
  const contexts = await Promise.all(
    Array.from({ length: 32 }, async () => (await store.createContext()).contextId),
  );
  const append = (contextId: string) =>
    store.appendTurn({ contextId, typeId: "bench.item", typeVersion: 1, payload: KIB });
  const single = await opsPerSecond(400, () => append(contexts[0]));
  const concurrent = await concurrentOpsPerSecond(6400, 32, (_, w) => append(contexts[w]));
  await store.close();
  reporter.report(
    "fs group commit, 32 concurrent appenders vs one appender",
    concurrent,
    single,
    "ops/s",
    ">= 5",
    "durability=group, 1 KiB payloads, each appender on its own context",
  );
}

async function depthIndependence(reporter: Reporter, dir: string): Promise<void> {
  const store = await openFsStore(`${dir}/depth?durability=none`);
  const deep = (await store.createContext()).contextId;
  const shallow = (await store.createContext()).contextId;
  const oneTurn = (await store.createContext()).contextId;
  const built = performance.now();
  await appendChain(store, deep, 100_000, SMALL);
  await appendChain(store, shallow, 100, SMALL);
  await appendChain(store, oneTurn, 1, SMALL);
  const buildSeconds = (performance.now() - built) / 1000;
  const runs = 301;
  const listDeep: number[] = [];
  const listShallow: number[] = [];
  for (let i = 0; i < 3; i++) {
    listShallow.push(await medianMs(runs, () => store.listTurns(shallow, { limit: 100 })));
    listDeep.push(await medianMs(runs, () => store.listTurns(deep, { limit: 100 })));
  }
  reporter.report(
    "fs listTurns newest 100 at depth 100,000 vs depth 100",
    median(listDeep),
    median(listShallow),
    "ms",
    "<= 1.5",
    `median of ${runs} calls, 3 alternating rounds; depth-100,000 context built in ${
      buildSeconds.toFixed(1)
    } s (durability=none)`,
  );
  const deepHead = (await store.getHead(deep)).headTurnId;
  const firstTurn = (await store.getHead(oneTurn)).headTurnId;
  const forkDeep: number[] = [];
  const forkShallow: number[] = [];
  for (let i = 0; i < 3; i++) {
    forkShallow.push(await medianMs(runs, () => store.forkContext(firstTurn)));
    forkDeep.push(await medianMs(runs, () => store.forkContext(deepHead)));
  }
  reporter.report(
    "fs forkContext at depth 100,000 vs depth 1",
    median(forkDeep),
    median(forkShallow),
    "ms",
    "<= 1.5",
    `median of ${runs} forks, 3 alternating rounds, durability=none (a sync would hide the index cost)`,
  );
  await store.close();
}

async function buildInWorker(
  target: string,
  turns: number,
): Promise<{ contextId: string; seconds: number }> {
  const worker = new Worker(import.meta.url, { type: "module", name: BUILDER_NAME });
  try {
    return await new Promise((resolve, reject) => {
      // The worker says "ready" once its module (with top-level awaits) has
      // loaded; a message sent earlier could arrive before its handler.
      worker.onmessage = (e) => {
        if (e.data === "ready") worker.postMessage({ target, turns });
        else if (e.data.error) reject(new Error(e.data.error));
        else resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
  } finally {
    worker.terminate();
  }
}

/** Pages through the context, sampling this process's RSS after every page. */
async function pageThrough(target: string, contextId: string): Promise<PagingFigures> {
  const store = await openFsStore(target);
  const before = Deno.memoryUsage().rss / 2 ** 20;
  let peak = before;
  let seen = 0;
  const start = performance.now();
  for await (const page of walkHistory(store, contextId, { pageSize: 1000 })) {
    seen += page.length;
    peak = Math.max(peak, Deno.memoryUsage().rss / 2 ** 20);
  }
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  return { peak, before, seen, seconds };
}

async function pagingMemory(reporter: Reporter, dir: string): Promise<void> {
  const turns = 1_000_000;
  const target = `${dir}/million?durability=none`;
  const { contextId, seconds } = await buildInWorker(target, turns);
  const { figures, where } = await pageInFreshProcess(
    import.meta.url,
    [],
    pageThrough,
    target,
    contextId,
  );
  reporter.report(
    "fs peak RSS paging a 1,000,000-turn context vs 200 MB",
    figures.peak,
    200,
    "MB",
    "<= 1",
    `${figures.seen} turns in ${
      figures.seconds.toFixed(1)
    } s via walkHistory (pages of 1000) ${where}; RSS sampled after every page, ${
      figures.before.toFixed(0)
    } MB before the walk; built in ${seconds.toFixed(1)} s with durability=none in a worker`,
  );
}

/** Runs the fs benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-fs-bench-" });
  try {
    // Memory first, while this process holds nothing from the other benchmarks.
    await pagingMemory(reporter, dir);
    await durableAppend(reporter, dir);
    await groupCommit(reporter, dir);
    await depthIndependence(reporter, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Worker side: builds the 1,000,000-turn context and reports its id.
interface WorkerScope {
  onmessage: ((e: MessageEvent<{ target: string; turns: number }>) => void) | null;
  postMessage(message: unknown): void;
}
if ((globalThis as { name?: string }).name === BUILDER_NAME) {
  const scope = self as unknown as WorkerScope;
  scope.onmessage = async (e) => {
    try {
      const start = performance.now();
      const store = await openFsStore(e.data.target);
      const contextId = (await store.createContext()).contextId;
      await appendChain(store, contextId, e.data.turns, SMALL);
      await store.close();
      scope.postMessage({ contextId, seconds: (performance.now() - start) / 1000 });
    } catch (error) {
      scope.postMessage({ error: String(error) });
    }
  };
  scope.postMessage("ready");
}

// Child side of the paging figure: `fs.bench.ts --page <target> <contextId>`.
if (import.meta.main && Deno.args[0] === "--page") {
  console.log(JSON.stringify(await pageThrough(Deno.args[1], Deno.args[2])));
}
