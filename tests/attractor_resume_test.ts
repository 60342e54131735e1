// Kill-and-resume equivalence: the runner is SIGKILLed mid-stage in a child
// process, then resumed from the store alone and from the run directory
// alone; both finish with the same completed nodes, outcomes, retries and
// context as a run that was never interrupted. On Deno KV and the fs log.
// (The memory backend cannot outlive a process: attractor/persist/persist_test.ts
// interrupts and resumes it in one process.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { forge, outcomeOf, spawnForge } from "./forge_process.ts";

/**
 * Sixty plain stages before the parallel part: the checkpoint then outgrows
 * the text limit, so the store holds delta records (checkpoint_saved v5)
 * when the runner is killed, and both resumes read back along the chain.
 */
const PREFIX = Array.from({ length: 60 }, (_, i) => `p${i}`);

const PIPELINE = `digraph Resumable {
  graph [goal="finish whatever happens"]
  start [shape=Mdiamond]
  exit  [shape=Msquare]
  a    [prompt="$goal", simulate.context.alpha="1"]
  fan  [shape=component]
  left [simulate.context.score="2"]
  right [simulate.context.score="1"]
  join [shape=tripleoctagon]
  slow [simulate.delay_ms=1500]
  flaky [max_retries=1, simulate.outcomes="fail,success"]
  gate [shape=diamond]
  start -> a -> ${PREFIX.join(" -> ")} -> fan
  fan -> left
  fan -> right
  left -> join
  right -> join
  join -> slow -> flaky -> gate
  gate -> exit [condition="outcome=success"]
}`;

/** Starts a run and SIGKILLs it once `slow` has started. */
async function killMidStage(args: string[], cwd: string, logs: string): Promise<void> {
  const child = spawnForge(args, cwd);
  const marker = join(logs, "slow", "prompt.md");
  for (let i = 0; i < 800; i++) {
    try {
      await Deno.stat(marker);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGKILL");
  const status = await child.output();
  assert.equal(status.signal, "SIGKILL", "killed mid-stage, not finished");
}

for (const backend of ["kv", "fs"] as const) {
  Deno.test(`SIGKILL mid-stage, resume from the store alone and from the directory alone (${backend})`, async () => {
    const cwd = await Deno.makeTempDir({ prefix: `attractor-resume-${backend}-` });
    try {
      await Deno.writeTextFile(join(cwd, "p.dot"), PIPELINE);
      const store = backend === "kv" ? `kv:${join(cwd, "store.kv")}` : `fs:${join(cwd, "store")}`;
      const base = ["--simulate", "--store", store];

      const clean = await forge(["run", "p.dot", ...base, "--logs", "clean"], cwd);
      assert.equal(clean.code, 0, clean.err);
      const expected = await outcomeOf(join(cwd, "clean"));

      // From the store alone: no run directory is read.
      await killMidStage(
        ["run", "p.dot", ...base, "--logs", "k1", "--run-id", "k1"],
        cwd,
        join(cwd, "k1"),
      );
      const manifest = JSON.parse(await Deno.readTextFile(join(cwd, "k1", "manifest.json")));
      await Deno.remove(join(cwd, "k1"), { recursive: true });
      const fromStore = await forge(["resume", manifest.context_id, ...base, "--logs", "k1b"], cwd);
      assert.equal(fromStore.code, 0, fromStore.err);
      assert.deepEqual(await outcomeOf(join(cwd, "k1b")), expected);

      // From the directory alone: no store at all on resume.
      await killMidStage(["run", "p.dot", ...base, "--logs", "k2"], cwd, join(cwd, "k2"));
      const fromDir = await forge(
        ["run", "p.dot", "--simulate", "--resume", "k2", "--persistence", "off"],
        cwd,
      );
      assert.equal(fromDir.code, 0, fromDir.err);
      assert.deepEqual(await outcomeOf(join(cwd, "k2")), expected);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });
}
