/**
 * Deno KV backend, file-backed in a temp dir (the durable case), opened with
 * the local commit limits and page size as `openKvStore` opens a file (the
 * raw baselines' files too):
 * - append (1 KiB) vs one raw atomic commit of the same bytes;
 * - 32 concurrent appenders on one context vs the single-appender rate, the
 *   commits per append in that run (counted, not timed) and its rate vs 32
 *   independent raw commits of the same bytes;
 * - 64 writers × 10 KB turns on their own contexts vs 64 writers of raw
 *   atomic commits, and vs the fs store with group commit, in one run;
 * - listTurns newest 100 at depth 100,000 vs at depth 100;
 * - forkContext at depth 100,000 vs at depth 1;
 * - peak RSS while paging a 1,000,000-turn context with walkHistory, vs 200 MB;
 * - over KV Connect to the in-repo peer on 127.0.0.1 (in memory, no fsync):
 *   32 appends in flight on one context vs 32 independent raw commits of the
 *   same bytes over the same client, and the commits per append of that run;
 *   the same with 256 B turns, and with 256 B turns against a peer that
 *   answers 1 ms late (a server across a network); each 256 B figure on a
 *   peer and client of its own, six slices of 1,000 after a warm-up.
 *
 * Needs: --unstable-kv --allow-read --allow-write --allow-env (temp dir, KV
 * file, the peer's token), --allow-net=127.0.0.1 (the peer) and, for a clean memory figure, --allow-run (the walk runs in a fresh
 * child process; without it the walk runs in this process and the note says so).
 * Set FORGE_BENCH_KV_TURNS to shrink the 1M-turn context for a quick run.
 */
import { KV_CONNECT_LIMITS, KvStore, LOCAL_KV_LIMITS } from "../turnstore/kv/mod.ts";
import {
  type KvConnectPeerOptions,
  startKvConnectPeer,
} from "../turnstore/kv/testing/kv_connect_peer.ts";
import { openFsStore } from "../turnstore/mod.ts";
import { createKvFile } from "../turnstore/kv/new_file.ts";
import { walkHistory } from "../turnstore/walk.ts";
import {
  concurrentOpsPerSecond,
  medianMs,
  opsPerSecond,
  pageInFreshProcess,
  type PagingFigures,
  type Reporter,
} from "./harness.ts";

const te = new TextEncoder();

/**
 * Opens a KV file as `openKvStore` does: a new file gets the store's page
 * size (turnstore/kv/new_file.ts). The raw baselines and the ceiling open
 * their files this way too, so they get what the store gets.
 */
async function openKvFile(path: string): Promise<Deno.Kv> {
  createKvFile(path);
  return await Deno.openKv(path);
}
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
    await kvConnectRates(reporter);
    await manyWriters(reporter, dir);
    await readCosts(reporter, `${dir}/reads.kv`);
    await pagingMemory(reporter, `${dir}/million.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens a file KV store as `openKvStore` would, counting its commits. */
async function openCounted(path: string): Promise<{ store: KvStore; commits: () => number }> {
  let commits = 0;
  const store = new KvStore(await openKvFile(path), {
    limits: LOCAL_KV_LIMITS,
    onCommit: () => commits++,
  });
  return { store, commits: () => commits };
}

async function appendRates(reporter: Reporter, path: string): Promise<void> {
  const kv = await openKvFile(path);
  const { store, commits } = await openCounted(path);
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
  const shared = (await store.createContext()).contextId;
  const inFlight = n * 4;
  const commitsBefore = commits();
  const concurrent = await concurrentOpsPerSecond(
    inFlight,
    32,
    () => store.appendTurn({ contextId: shared, typeId: "bench.turn", typeVersion: 1, payload }),
  );
  const commitsMade = commits() - commitsBefore;
  // The same bytes as 32 independent writers of raw commits, right after.
  const rawConcurrent = await concurrentOpsPerSecond(
    inFlight,
    32,
    (i) => kv.atomic().set(["raw32", i], payload).commit(),
  );
  reporter.report(
    "kv 32 concurrent appenders (one context) vs single appender",
    concurrent,
    single,
    "ops/s",
    ">= 5",
    "group commit chains the queued appends of a context into one atomic commit",
  );
  reporter.report(
    "kv commits per append, 32 appends in flight on one context",
    commitsMade / inFlight,
    1,
    "commits/append",
    "<= 0.15",
    `${commitsMade} commits for ${inFlight} appends, counted by the store's commit observer ` +
      "(machine-independent); one commit per append would be 1",
  );
  reporter.report(
    "kv 32 appends in flight on one context vs 32 independent raw commits",
    concurrent,
    rawConcurrent,
    "ops/s",
    ">= 1",
    "the same run and bytes; each raw commit is its own transaction, the store chains its appends",
  );
  await store.close();
  kv.close();
}

/**
 * The store over KV Connect: Deno's remote client against the in-repo peer
 * (turnstore/kv/testing/kv_connect_peer.ts) in this process, on loopback.
 * Store and raw commits share one client and alternate in slices. The
 * peer runs on this thread: on a worker thread it measured the same (both
 * sides wait on round trips, not on the peer's CPU; bench/README.md).
 */
async function kvConnectRates(reporter: Reporter): Promise<void> {
  await overConnect({}, async (measure) => {
    const payload = new Uint8Array(1024).map((_, i) => i & 0xff);
    await measure(payload, 1, 200); // warm up both
    const big = await measure(payload, 4, 500);
    reporter.report(
      "kv over KV Connect (in-repo peer): 32 appends in flight on one context vs 32 independent raw commits",
      big.appends,
      big.raw,
      "ops/s",
      ">= 1",
      `1 KiB turns, one client, alternating slices; ${big.msPerCommit.toFixed(1)} ms per store ` +
        "commit: every request body over ~1 KiB waits ~40 ms for a delayed ACK (Deno's client " +
        "turns TCP_NODELAY off; bench/README.md), raw commits and store commits alike",
    );
    reporter.report(
      "kv over KV Connect (in-repo peer): commits per append, 32 appends in flight on one context",
      big.perAppend,
      1,
      "commits/append",
      "<= 0.15",
      "counted by the store's commit observer in the 1 KiB run above",
    );
  });
  // Small turns on a peer and client of their own (smallTurnRates).
  const small = await smallTurnRates({});
  reporter.report(
    "kv over KV Connect (in-repo peer): the same with 256 B turns",
    small.appends,
    small.raw,
    "ops/s",
    ">= 0.8",
    `a raw commit stays under ~1 KiB and skips the wait; the store cuts its rounds into ` +
      `commits under ~1 KiB once larger ones are seen to stall (turnstore/kv/quick_commits.ts), ` +
      `up to ${KV_CONNECT_LIMITS.commitsInFlight} in flight (commit_chain.ts): ` +
      `${small.perAppend.toFixed(3)} commits per append, ${small.msPerCommit.toFixed(2)} ms each`,
  );
  await remoteRates(reporter);
}

/**
 * Runs `fn` with `measure` (see connectRates) over a store and a raw client
 * of one KV Connect client to a fresh in-repo peer started with `options`.
 */
async function overConnect<T>(
  options: KvConnectPeerOptions,
  fn: (measure: ReturnType<typeof connectRates>) => Promise<T>,
): Promise<T> {
  await using peer = await startKvConnectPeer(options);
  Deno.env.set("DENO_KV_ACCESS_TOKEN", peer.token);
  const kv = await Deno.openKv(peer.url);
  let commits = 0;
  const store = new KvStore(kv, { limits: KV_CONNECT_LIMITS, onCommit: () => commits++ });
  try {
    return await fn(connectRates(store, kv, () => commits));
  } finally {
    await store.close();
  }
}

/**
 * Appends/s and raw commits/s over one KV Connect client: `measure(payload,
 * slices, n)` alternates `slices` slices of `n` appends (32 in flight on one
 * context) and `n` raw commits (32 in flight, independent keys).
 */
function connectRates(store: KvStore, kv: Deno.Kv, commits: () => number) {
  return async (payload: Uint8Array, slices: number, n: number) => {
    const ctx = (await store.createContext()).contextId;
    let appendMs = 0, rawMs = 0, rawKey = 0, made = 0;
    for (let slice = 0; slice < slices; slice++) {
      const before = commits();
      appendMs += n / await concurrentOpsPerSecond(
        n,
        32,
        () => store.appendTurn({ contextId: ctx, typeId: "bench.turn", typeVersion: 1, payload }),
      ) * 1000;
      made += commits() - before;
      rawMs += n / await concurrentOpsPerSecond(
        n,
        32,
        () => kv.atomic().set(["raw-kvc", rawKey++], payload).commit(),
      ) * 1000;
    }
    const total = slices * n;
    return {
      appends: total / (appendMs / 1000),
      raw: total / (rawMs / 1000),
      perAppend: made / total,
      msPerCommit: appendMs / made,
    };
  };
}

/**
 * 32 appends of 256 B in flight on one context vs 32 independent raw commits
 * (a raw commit of a 256 B turn stays under ~1 KiB, a chained commit would
 * not), on a peer started with `options` and a client of their own: right
 * after the 1 KiB figure's 40 ms stalls, a shared connection ran slow for
 * ~0.5 s, raw commits and appends alike, and short slices measured that
 * recovery rather than either side (bench/README.md). A warm-up of 500
 * (which also sees larger commits stall), then six slices of 1,000.
 */
function smallTurnRates(options: KvConnectPeerOptions) {
  return overConnect(options, async (measure) => {
    const payload = new Uint8Array(256).map((_, i) => i & 0xff);
    await measure(payload, 1, 500);
    return await measure(payload, 6, 1000);
  });
}

/**
 * The same 256 B figure against a peer that answers 1 ms after each request,
 * as a server across a network would: one quick commit at a time would be
 * bound by that wait, raw commits overlap 32 deep.
 */
async function remoteRates(reporter: Reporter): Promise<void> {
  const small = await smallTurnRates({ latencyMs: 1 });
  reporter.report(
    "kv over KV Connect, the peer answering 1 ms late: 32 appends of 256 B in flight vs 32 independent raw commits",
    small.appends,
    small.raw,
    "ops/s",
    ">= 0.8",
    `a server across a network: quick commits of one context overlap up to ` +
      `${KV_CONNECT_LIMITS.commitsInFlight} deep (turnstore/kv/commit_chain.ts), one at a ` +
      `time they would wait out the latency each; ${small.perAppend.toFixed(3)} commits per ` +
      `append`,
  );
}

/** 64 writers, each appending 10 KB turns to its own context: kv vs raw KV vs fs group commit. */
async function manyWriters(reporter: Reporter, dir: string): Promise<void> {
  const writers = 64;
  const perWriter = 60;
  const total = writers * perWriter;
  const payload = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
  const kv = await openKvFile(`${dir}/raw64.kv`);
  const { store, commits } = await openCounted(`${dir}/writers.kv`);
  const fs = await openFsStore(`${dir}/writers-fs?durability=group`);
  const kvContexts = await Promise.all(
    Array.from({ length: writers }, () => store.createContext()),
  );
  const fsContexts = await Promise.all(Array.from({ length: writers }, () => fs.createContext()));
  const appendKv = (_: number, w: number) =>
    store.appendTurn({
      contextId: kvContexts[w].contextId,
      typeId: "bench.turn",
      typeVersion: 1,
      payload,
    });
  const appendFs = (_: number, w: number) =>
    fs.appendTurn({
      contextId: fsContexts[w].contextId,
      typeId: "bench.turn",
      typeVersion: 1,
      payload,
    });
  let rawKey = 0;
  const appendRaw = () => kv.atomic().set(["raw64", rawKey++], payload).commit();
  // Deno KV's ceiling for these turns: every writer's turn of a round in one
  // atomic commit of bare sets (no check, no index row), the most batching
  // a store built on Deno KV could reach.
  let ceilingKey = 0;
  const commitRounds = async (): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < perWriter; i++) {
      const op = kv.atomic();
      for (let w = 0; w < writers; w++) op.set(["ceiling64", ceilingKey++], payload);
      const result = await op.commit();
      if (!result.ok) throw new Error("raw ceiling commit failed");
    }
    return performance.now() - start;
  };
  // Warm up all three, then alternate rounds so drift hits each alike.
  await concurrentOpsPerSecond(writers * 4, writers, appendKv);
  await concurrentOpsPerSecond(writers * 4, writers, appendRaw);
  await concurrentOpsPerSecond(writers * 4, writers, appendFs);
  await commitRounds();
  let kvMs = 0, rawMs = 0, fsMs = 0, ceilingMs = 0;
  const commitsBefore = commits();
  const rounds = 3;
  for (let r = 0; r < rounds; r++) {
    kvMs += total / await concurrentOpsPerSecond(total, writers, appendKv) * 1000;
    rawMs += total / await concurrentOpsPerSecond(total, writers, appendRaw) * 1000;
    fsMs += total / await concurrentOpsPerSecond(total, writers, appendFs) * 1000;
    ceilingMs += await commitRounds();
  }
  const perAppend = (commits() - commitsBefore) / (total * rounds);
  const rate = (ms: number) => (total * rounds) / (ms / 1000);
  reporter.report(
    "kv 64 writers × 10 KB turns (own contexts) vs 64 writers of raw Deno KV commits",
    rate(kvMs),
    rate(rawMs),
    "ops/s",
    ">= 0.8",
    `file KV, local limits: ${perAppend.toFixed(3)} commits per append; ` +
      `${rounds} alternating rounds of ${total} appends`,
  );
  reporter.report(
    "kv 64 writers × 10 KB turns vs fs group commit, same run",
    rate(kvMs),
    rate(fsMs),
    "ops/s",
    ">= 0.8",
    "each append resolves once durable: fs after the fdatasync of its batch (durability=group), " +
      "kv after Deno KV's SQLite commit (an fsync of its WAL per commit); Deno KV's ceiling in " +
      `this run (raw, ${writers} bare sets per atomic commit): ${
        rate(ceilingMs).toFixed(0)
      } ops/s ` +
      `= ${(ceilingMs > 0 ? fsMs / ceilingMs : 0).toFixed(3)} of fs`,
  );
  await store.close();
  await fs.close();
  kv.close();
}

async function readCosts(reporter: Reporter, path: string): Promise<void> {
  const store = new KvStore(await openKvFile(path), { limits: LOCAL_KV_LIMITS });
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

/** Pages through the context, sampling this process's RSS every 5 ms and after every page. */
async function pageThrough(path: string, contextId: string): Promise<PagingFigures> {
  const store = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS });
  const before = Deno.memoryUsage().rss / 1e6;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss / 1e6)), 5);
  let seen = 0;
  const start = performance.now();
  try {
    for await (const page of walkHistory(store, contextId, { pageSize: WALK_PAGE })) {
      seen += page.length;
      peak = Math.max(peak, Deno.memoryUsage().rss / 1e6);
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  return { peak, before, seen, seconds };
}

async function pagingMemory(reporter: Reporter, path: string): Promise<void> {
  const turns = Number(Deno.env.get("FORGE_BENCH_KV_TURNS") ?? 1_000_000);
  const store = new KvStore(await openKvFile(path), { limits: LOCAL_KV_LIMITS });
  const ctx = await store.createContext();
  const started = performance.now();
  await fill(store, ctx.contextId, turns, 128);
  const fillSeconds = (performance.now() - started) / 1000;
  await store.close();
  const { figures, where } = await pageInFreshProcess(
    import.meta.url,
    ["--unstable-kv"],
    pageThrough,
    path,
    ctx.contextId,
  );
  if (figures.seen !== turns) throw new Error(`walked ${figures.seen} turns, expected ${turns}`);
  reporter.report(
    `kv peak RSS paging a ${turns.toLocaleString("en")}-turn context (walkHistory)`,
    figures.peak,
    200,
    "MB",
    "<= 1",
    `whole-process RSS of the walk ${where}, ${
      figures.before.toFixed(0)
    } MB before the walk; pages of ${WALK_PAGE}; built in ${
      fillSeconds.toFixed(1)
    } s by 128 concurrent (batched) appenders; walked in ${figures.seconds.toFixed(1)} s`,
  );
}

// Child side of the paging figure: `kv.bench.ts --page <path> <contextId>`.
if (import.meta.main && Deno.args[0] === "--page") {
  console.log(JSON.stringify(await pageThrough(Deno.args[1], Deno.args[2])));
}
