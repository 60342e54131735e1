/**
 * The black-box harness: each test gets a scratch folder holding copies of
 * the pipelines under `pipelines/`, and drives the real `forge` command in
 * it as a child process (tests/forge_process.ts). Nothing here reaches into
 * the code under test: what is asserted is what a user sees — exit codes,
 * stdout and stderr, the run directory's files, and what `forge` itself
 * reads back from the store.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { type Finished, finished, forge, spawnForge, waitForFile } from "../forge_process.ts";

export { finished, forge, spawnForge, waitForFile };
export type { Finished };

const PIPELINES = resolve(import.meta.dirname!, "pipelines");

/** A scratch folder with the pipelines copied in; removed by `close`. */
export interface Scratch extends AsyncDisposable {
  /** The folder (the `forge` processes' working directory). */
  readonly dir: string;
  /** `forge <args>` run in the folder. */
  forge(...args: string[]): Promise<Finished>;
  /** A run directory under `.forge/runs/`. */
  runDir(runId: string): string;
  /** The JSON file at `path` (relative to the folder). */
  json(path: string): Promise<Record<string, unknown>>;
}

/** Makes a scratch folder holding every pipeline of `pipelines/`. */
export async function scratch(prefix: string): Promise<Scratch> {
  const dir = await Deno.makeTempDir({ prefix: `forge-blackbox-${prefix}-` });
  for await (const e of Deno.readDir(PIPELINES)) {
    if (e.isFile) await Deno.copyFile(join(PIPELINES, e.name), join(dir, e.name));
  }
  return {
    dir,
    forge: (...args) => forge(args, dir),
    runDir: (runId) => join(dir, ".forge", "runs", runId),
    json: async (path) => JSON.parse(await Deno.readTextFile(join(dir, path))),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** What a run's `checkpoint.json` holds (the reference's fields and the resume fields used here). */
export interface CheckpointFile {
  timestamp: string;
  current_node: string;
  completed_nodes: string[];
  node_retries: Record<string, number>;
  node_outcomes: Record<string, { status: string; notes?: string; failure_reason?: string }>;
  context: Record<string, unknown>;
  logs: unknown[];
  final_status?: string;
  failure_reason?: string;
  waiting_on?: string;
  node_visits?: Record<string, number>;
  restarts?: number;
}

/** The checkpoint file of run `runId` in `s`. */
export async function checkpointOf(s: Scratch, runId: string): Promise<CheckpointFile> {
  return await s.json(
    join(".forge", "runs", runId, "checkpoint.json"),
  ) as unknown as CheckpointFile;
}

/** True when `path` (relative to the scratch folder) exists. */
export async function exists(s: Scratch, path: string): Promise<boolean> {
  try {
    await Deno.lstat(join(s.dir, path));
    return true;
  } catch {
    return false;
  }
}

/**
 * The process ended with `code` and printed no stack trace: a failure a user
 * meets is one clear line, not the runtime's dump.
 */
export function assertExit(f: Finished, code: number, what: string): void {
  assert.equal(f.code, code, `${what}: exit ${f.code}\nstdout: ${f.out}\nstderr: ${f.err}`);
  for (const text of [f.out, f.err]) {
    assert.doesNotMatch(text, /^\s+at .*:\d+:\d+\)?$/m, `${what}: a stack trace was printed`);
    assert.doesNotMatch(text, /Uncaught|panicked/, `${what}: an uncaught error was printed`);
  }
}
