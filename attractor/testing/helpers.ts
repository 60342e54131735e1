/**
 * Test helpers: temporary run directories and a one-call run of DOT source.
 *
 * @module
 */
import { preparePipeline } from "../engine/prepare.ts";
import { type PipelineOptions, runPipeline, type RunResult } from "../engine/run.ts";
import { defaultHandlers } from "../handlers/mod.ts";

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
