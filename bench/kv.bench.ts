/**
 * Deno KV backend, file-backed in a temp dir (the durable case):
 * - append (1 KiB) vs one raw atomic commit of the same bytes;
 * - 32 concurrent appenders vs the single-appender rate (group commit);
 * - listTurns newest 100 at depth 100,000 vs at depth 100;
 * - forkContext at depth 100,000 vs at depth 1;
 * - peak RSS while paging a 1,000,000-turn context with walkHistory, vs 200 MB.
 *
 * Needs: --unstable-kv --allow-read --allow-write --allow-env (temp dir, KV file).
 * Set FORGE_BENCH_KV_TURNS to shrink the 1M-turn context for a quick run.
 */
import { KvStore } from "../turnstore/kv/mod.ts";
import { walkHistory } from "../turnstore/walk.ts";
import { concurrentOpsPerSecond, medianMs, opsPerSecond, type Reporter } from "./harness.ts";

const te = new TextEncoder();
/**
 * Page size of the memory walk. Memory does not grow with the history, but
 * V8 sizes its heap by allocation rate, so bigger pages (walkHistory's
 * default is 500) show a higher peak: about 40 MB more at 500.
 */
const WALK_PAGE = 100;

/** Appends `n` small turns to a context through `workers` concurrent appenders (the batched path). */
async function fill(store: KvStore, contextId: string, n: number, workers = 512): Promise<void> {
  await concurrentOpsPerSecond(n, workers, (i) =>
    store.appendTurn({
      contextId,
      typeId: "bench.fill",
      typeVersion: 1,
      payload: te.encode(`turn ${i}`),
    }));
}

/** Runs the KV benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-bench-" });
  try {
    await appendRates(reporter, `${dir}/append.kv`);
    await readCosts(reporter, `${dir}/reads.kv`);
    await pagingMemory(reporter, `${dir}/million.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function appendRates(reporter: Reporter, path: string): Promise<void> {
  const kv = await Deno.openKv(path);
  const store = new KvStore(await Deno.openKv(path));
  const payload = new Uint8Array(1024).map((_, i) => i & 0xff);
  const n = 4000;
  const ctx = await store.createContext();
  const append = () =>
    store.appendTurn({ contextId: ctx.contextId, typeId: "bench.turn", typeVersion: 1, payload });
  await opsPerSecond(200, append); // warm up both
  await opsPerSecond(200, (i) => kv.atomic().set(["raw", -1, i], payload).commit());
  // Interleave short slices so machine noise hits both sides alike.
  let rawMs = 0, appendMs = 0;
  for (let slice = 0; slice < n / 100; slice++) {
    let start = performance.now();
    for (let i = 0; i < 100; i++) await kv.atomic().set(["raw", slice, i], payload).commit();
    rawMs += performance.now() - start;
    start = performance.now();
    for (let i = 0; i < 100; i++) await append();
    appendMs += performance.now() - start;
  }
  const raw = n / (rawMs / 1000);
  const single = n / (appendMs / 1000);
  reporter.report(
    "kv append (1 KiB) vs raw Deno KV atomic commit of the same bytes",
    single,
    raw,
    "ops/s",
    ">= 0.8",
    "file KV; an append is one commit: the turn plus a check that its slot was empty",
  );
  const contexts = await Promise.all(Array.from({ length: 1 }, () => store.createContext()));
  const concurrent = await concurrentOpsPerSecond(
    n * 4,
    32,
    () =>
      store.appendTurn({
        contextId: contexts[0].contextId,
        typeId: "bench.turn",
        typeVersion: 1,
        payload,
      }),
  );
  reporter.report(
    "kv 32 concurrent appenders (one context) vs single appender",
    concurrent,
    single,
    "ops/s",
    ">= 5",
    "group commit batches concurrent appends into one atomic commit",
  );
  await store.close();
  kv.close();
}

async function readCosts(reporter: Reporter, path: string): Promise<void> {
  const store = new KvStore(await Deno.openKv(path));
  const shallow = await store.createContext();
  await fill(store, shallow.contextId, 100);
  const deep = await store.createContext();
  const started = performance.now();
  await fill(store, deep.contextId, 100_000);
  const fillSeconds = (performance.now() - started) / 1000;
  const runs = 31;
  const listShallow = await medianMs(runs, () => store.listTurns(shallow.contextId));
  const listDeep = await medianMs(runs, () => store.listTurns(deep.contextId));
  reporter.report(
    "kv listTurns newest 100 at depth 100,000 vs at depth 100",
    listDeep,
    listShallow,
    "ms",
    "<= 1.5",
    `a range read over the depth index; 100,000 turns built in ${fillSeconds.toFixed(1)} s`,
  );
  const first = (await store.listTurns(shallow.contextId, { limit: 1 }))[0];
  const oneDeep = await store.listTurns(shallow.contextId, {
    limit: 1,
    beforeTurnId: first.turnId,
  });
  const rootTurn = oneDeep[0] ?? (await store.listTurns(shallow.contextId, { limit: 100 }))[0];
  const headDeep = (await store.getHead(deep.contextId)).headTurnId;
  const forkShallow = await medianMs(runs, () => store.forkContext(rootTurn.turnId));
  const forkDeep = await medianMs(runs, () => store.forkContext(headDeep));
  reporter.report(
    "kv forkContext at depth 100,000 vs at depth 1",
    forkDeep,
    forkShallow,
    "ms",
    "<= 1.5",
    "a fork is a lookup of the base turn and one commit; nothing is copied",
  );
  await store.close();
}

async function pagingMemory(reporter: Reporter, path: string): Promise<void> {
  const turns = Number(Deno.env.get("FORGE_BENCH_KV_TURNS") ?? 1_000_000);
  const store = new KvStore(await Deno.openKv(path));
  const ctx = await store.createContext();
  const started = performance.now();
  await fill(store, ctx.contextId, turns, 128);
  const fillSeconds = (performance.now() - started) / 1000;
  const rssBefore = Deno.memoryUsage().rss;
  let peak = Deno.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 5);
  let seen = 0;
  const walkStart = performance.now();
  try {
    for await (const page of walkHistory(store, ctx.contextId, { pageSize: WALK_PAGE })) {
      seen += page.length;
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }
  } finally {
    clearInterval(sampler);
  }
  const walkSeconds = (performance.now() - walkStart) / 1000;
  if (seen !== turns) throw new Error(`walked ${seen} turns, expected ${turns}`);
  reporter.report(
    `kv peak RSS paging a ${turns.toLocaleString("en")}-turn context (walkHistory)`,
    peak / 1e6,
    200,
    "MB",
    "<= 1",
    `whole-process RSS, ${
      (rssBefore / 1e6).toFixed(0)
    } MB before the walk; pages of ${WALK_PAGE}; ` +
      `built in ${fillSeconds.toFixed(1)} s by 128 concurrent (batched) appenders; walked in ${
        walkSeconds.toFixed(1)
      } s`,
  );
  await store.close();
}
