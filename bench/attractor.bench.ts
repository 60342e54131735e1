/**
 * Pipeline runner figures, each against a limit from the same run:
 *
 * 1. A 200-node linear pipeline in simulation with persistence `required`
 *    on Deno KV (a file, on the runner's thread as `forge run` opens it) vs the
 *    same with persistence `off` (target ≤ 1.2).
 *    Both write the full run directory (prompt, response, status per stage,
 *    the checkpoint after every stage, synced and renamed). Best of 5
 *    alternating repetitions.
 * 2. Resuming a 1,010-stage run from the store alone at 1,000 completed
 *    stages vs at 10 (target ≤ 1.5): load the latest checkpoint and the DOT
 *    source from the store, prepare the graph, run until the first resumed
 *    stage's checkpoint is saved. Best of 9 alternating resumes per depth
 *    of one stopped run, each continuing one stage further on.
 */
import type { Reporter } from "./harness.ts";
import { openKvStore } from "../turnstore/mod.ts";
import type { ForgeStore } from "../turnstore/mod.ts";
import { preparePipeline } from "../attractor/engine/prepare.ts";
import { runPipeline } from "../attractor/engine/run.ts";
import { defaultHandlers } from "../attractor/handlers/mod.ts";
import { resumePointFromStore } from "../attractor/persist/resume.ts";

/** A linear pipeline of `n` stages between start and exit. */
export function linear(n: number): string {
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  return `digraph Linear${n} {\n  graph [goal="bench"]\n  start [shape=Mdiamond]\n  exit [shape=Msquare]\n` +
    ids.map((id) => `  ${id} [prompt="stage ${id}"]\n`).join("") +
    `  start -> ${ids.join(" -> ")} -> exit\n}\n`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `source` once in simulation, persisting to `store` (mode required) or not; the wall time in ms. */
export async function runOnce(source: string, store: ForgeStore | undefined): Promise<number> {
  const logsRoot = await Deno.makeTempDir({ prefix: "bench-attractor-" });
  try {
    const { graph } = preparePipeline(source);
    return await timed(async () => {
      const result = await runPipeline({
        graph,
        dotSource: source,
        logsRoot,
        handlers: defaultHandlers(),
        store,
        persistence: store ? "required" : "off",
      });
      if (result.status !== "success") throw new Error(`bench run ${result.status}`);
    });
  } finally {
    await Deno.remove(logsRoot, { recursive: true });
  }
}

/** A run stopped as stage `completed` started: its context and run directory. */
interface StoppedRun {
  readonly contextId: string;
  readonly logsRoot: string;
}

/**
 * Runs the 1,012-node pipeline until stage `completed` starts (so that many
 * stages are done) and cancels it, persisting to `store`.
 */
async function runUntil(
  store: ForgeStore,
  source: string,
  completed: number,
  dir: string,
): Promise<StoppedRun> {
  const logsRoot = await Deno.makeTempDir({ dir, prefix: "resume-" });
  const { graph } = preparePipeline(source);
  const abort = new AbortController();
  const stopAt = `s${completed}`;
  const first = await runPipeline({
    graph,
    dotSource: source,
    logsRoot,
    handlers: defaultHandlers(),
    store,
    signal: abort.signal,
    onEvent: (e) => {
      if (e.kind === "stage_started" && e.name === stopAt) abort.abort();
    },
  });
  if (first.status !== "cancelled") {
    throw new Error(`expected a cancelled run, got ${first.status}`);
  }
  return { contextId: first.contextIds[0], logsRoot };
}

/**
 * Times one resume of `stopped` from the store alone, as `forge resume`
 * does: load the latest checkpoint and the DOT source, prepare the graph,
 * and run until the first resumed stage's checkpoint is saved, then stop.
 * The next resume of the same run continues one stage further on, so nine
 * resumes at 1,000 run at 1,000–1,008 completed stages (and at 10–18): in
 * the run's own context, with its keys, packs and checkpoint chain as a real
 * resume finds them. The graph is the same at every depth, so the figure
 * shows what the history length costs.
 */
async function timeResume(
  store: ForgeStore,
  stopped: StoppedRun,
  counted: { bytes: number },
): Promise<{ ms: number; bytes: number }> {
  const contextId = stopped.contextId;
  const before = counted.bytes;
  const ms = await timed(async () => {
    const point = await resumePointFromStore(store, contextId);
    const prepared = preparePipeline(point.dotSource!);
    const stop = new AbortController();
    const result = await runPipeline({
      graph: prepared.graph,
      dotSource: point.dotSource!,
      logsRoot: stopped.logsRoot,
      handlers: defaultHandlers(),
      store,
      signal: stop.signal,
      // As `forge resume` does: the chain lets the first checkpoint be a delta.
      resume: { checkpoint: point.checkpoint, contextId, chain: point.chain },
      onEvent: (e) => e.kind === "checkpoint_saved" && stop.abort(),
    });
    if (result.status !== "cancelled") throw new Error(`resumed run ${result.status}`);
  });
  return { ms, bytes: counted.bytes - before };
}

/**
 * Resumes timed per depth: a resume is ~10–30 ms, most of it one or two disk
 * syncs whose latency swings widely, so the floor takes more than a few.
 */
const RESUMES = 9;

/** Runs the pipeline figures. */
export async function run(reporter: Reporter): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench-attractor-kv-" });
  try {
    let commits = 0;
    const counted = { bytes: 0 };
    await using store = await openKvStore(`${dir}/bench.kv`, {
      onCommit: (stats) => {
        commits++;
        counted.bytes += stats.bytes;
      },
    });
    const source = linear(200);
    await runOnce(source, undefined); // warm up both paths
    await runOnce(source, store);
    const off: number[] = [];
    const on: number[] = [];
    let onCommits = 0;
    let onBytes = 0;
    const reps = 5;
    for (let i = 0; i < reps; i++) {
      off.push(await runOnce(source, undefined));
      const before = commits;
      const bytesBefore = counted.bytes;
      on.push(await runOnce(source, store));
      onCommits += commits - before;
      onBytes += counted.bytes - bytesBefore;
    }
    const perStage = onCommits / reps / 200;
    reporter.report(
      "attractor: 200-node pipeline (simulation), persistence required on kv",
      Math.min(...on),
      Math.min(...off),
      "ms",
      "<= 1.2",
      `best of ${reps} alternating; the same pipeline with persistence off is the limit; ` +
        `${perStage.toFixed(2)} KV commits and ${
          (onBytes / reps / 200 / 1024).toFixed(1)
        } KiB per stage (counted)`,
    );
    const long = linear(1010);
    // Run directories go under `dir`, removed with it.
    const stopped = {
      at10: await runUntil(store, long, 10, dir),
      at1000: await runUntil(store, long, 1000, dir),
    };
    const at10: number[] = [];
    const at1000: number[] = [];
    const bytes = { at10: 0, at1000: 0 };
    for (let i = 0; i < RESUMES; i++) {
      const short = await timeResume(store, stopped.at10, counted);
      const deep = await timeResume(store, stopped.at1000, counted);
      at10.push(short.ms);
      at1000.push(deep.ms);
      bytes.at10 = short.bytes;
      bytes.at1000 = deep.bytes;
    }
    reporter.report(
      "attractor: resume from the store at 1,000 completed stages",
      Math.min(...at1000),
      Math.min(...at10),
      "ms",
      "<= 1.5",
      `best of ${RESUMES} alternating resumes of one stopped run per depth, each one stage on (1,000–1,008 ` +
        "and 10–18); load checkpoint + DOT from the store, prepare, run to the first new checkpoint; the " +
        "same at 10 stages is the limit; " +
        `the resumed stage commits ${(bytes.at1000 / 1024).toFixed(1)} vs ${
          (bytes.at10 / 1024).toFixed(1)
        } KiB (counted)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
