/**
 * Test helper: the `forge` command as a real child process, and the parts of
 * a run's final checkpoint that must not depend on whether it was
 * interrupted (what resume-equivalence tests compare).
 *
 * @module
 */
import { join, resolve } from "node:path";

const MAIN = resolve(import.meta.dirname!, "..", "cli", "main.ts");
const PERMS = ["--unstable-kv", "--allow-read", "--allow-write", "--allow-env", "--allow-run"];

/** What a finished `forge` process printed, and its exit code. */
export interface Finished {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Starts `forge <args>` in `cwd`, stdout and stderr piped. */
export function spawnForge(args: string[], cwd: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Waits for a child to end and decodes what it printed. */
export async function finished(child: Deno.ChildProcess): Promise<Finished> {
  const out = await child.output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

/** Runs `forge <args>` in `cwd` to its end. */
export const forge = (args: string[], cwd: string): Promise<Finished> =>
  finished(spawnForge(args, cwd));

/** The parts of the final checkpoint in run directory `logs` that must not depend on interruption. */
export async function outcomeOf(logs: string): Promise<unknown> {
  const c = JSON.parse(await Deno.readTextFile(join(logs, "checkpoint.json")));
  const context = { ...c.context };
  // Branch results name the store contexts the branches ran on: run-specific.
  context["parallel.results"] = (context["parallel.results"] ?? []).map(
    (r: Record<string, unknown>) => ({ ...r, context_id: undefined }),
  );
  return {
    final: c.final_status,
    current: c.current_node,
    completed: c.completed_nodes,
    outcomes: c.node_outcomes,
    retries: c.node_retries,
    context,
  };
}

/** Waits until `path` exists, or kills `child` and fails. */
export async function waitForFile(path: string, child: Deno.ChildProcess): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    try {
      await Deno.lstat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.kill("SIGKILL");
  await child.output();
  throw new Error(`${path} did not appear`);
}
