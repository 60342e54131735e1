/**
 * Test helpers: temporary run directories, a one-call run of DOT source, and
 * a linear pipeline cancelled in its middle stage (what resume tests start
 * from).
 *
 * @module
 */
import { preparePipeline } from "../engine/prepare.ts";
import { type PipelineOptions, runPipeline, type RunResult } from "../engine/run.ts";
import { defaultHandlers } from "../handlers/mod.ts";
import type { ForgeStore } from "@forge/turnstore";

/** A temporary directory removed on dispose. */
export async function tempDir(
  prefix = "attractor-",
): Promise<{ readonly path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** Runs DOT source with the default handlers, no backoff waits, and fixed jitter. */
export function runDot(
  source: string,
  logsRoot: string,
  options: Partial<PipelineOptions> = {},
): Promise<RunResult> {
  const { graph } = preparePipeline(source);
  return runPipeline({
    graph,
    dotSource: source,
    logsRoot,
    handlers: defaultHandlers(),
    sleep: () => Promise.resolve(),
    random: () => 0.5,
    ...options,
  });
}

/** The comparable part of a result: completed nodes, outcome statuses, context minus volatile keys. */
export function comparable(result: RunResult): unknown {
  const context = { ...result.context };
  return {
    status: result.status,
    completed: result.completedNodes,
    outcomes: Object.fromEntries(
      Object.entries(result.nodeOutcomes).map(([k, o]) => [k, o.status]),
    ),
    context,
  };
}

/** Four stages in a row; `build` takes no time (see {@link runCancelledAtBuild}). */
export const LINEAR = `digraph Linear {
  graph [goal="ship it"]
  start [shape=Mdiamond]
  exit [shape=Msquare]
  plan [prompt="Plan $goal"]
  build [prompt="Build", simulate.delay_ms=0]
  review [prompt="Review"]
  start -> plan -> build -> review -> exit
}`;

/** {@link LINEAR} with a `build` stage that takes 5 s: long enough to cancel it. */
export const LINEAR_SLOW_BUILD: string = LINEAR.replace(
  "simulate.delay_ms=0",
  "simulate.delay_ms=5000",
);

/**
 * Runs {@link LINEAR_SLOW_BUILD} into `logsRoot`, persisting to `store`, and
 * cancels it 20 ms into `build`; the run's result (the caller checks that it
 * was cancelled).
 */
export function runCancelledAtBuild(logsRoot: string, store: ForgeStore): Promise<RunResult> {
  const abort = new AbortController();
  return runDot(LINEAR_SLOW_BUILD, logsRoot, {
    store,
    signal: abort.signal,
    onEvent: (e) => {
      if (e.kind === "stage_started" && e.name === "build") setTimeout(() => abort.abort(), 20);
    },
  });
}
