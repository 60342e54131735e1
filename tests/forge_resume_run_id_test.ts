// `forge resume <run-id>` and `forge answer <run-id>` from the store alone:
// the run is stopped mid-run in a real `forge` process (SIGTERM mid-stage, or a
// durable human gate), its run directory is deleted, and the run is found by
// its run id (not its context id) through the store's `listContexts`. The
// pipeline fans out first, so the store also holds the branches' forked
// contexts, newer than the run's own and reading back to the same run id: the
// lookup must pick the run's context. The result equals an uninterrupted run.
// On Deno KV and the fs log.
import assert from "node:assert/strict";
import { join } from "node:path";
import { finished, forge, outcomeOf, spawnForge, waitForFile } from "./forge_process.ts";

const PIPELINE = `digraph ByRunId {
  graph [goal="resume by run id"]
  start [shape=Mdiamond]
  exit  [shape=Msquare]
  a     [prompt="$goal", simulate.context.alpha="1"]
  fan   [shape=component]
  left  [prompt="left", simulate.context.score="2"]
  right [prompt="right", simulate.context.score="1"]
  join  [shape=tripleoctagon]
  slow  [prompt="slow", simulate.delay_ms=1500]
  flaky [prompt="flaky", max_retries=1, simulate.outcomes="fail,success"]
  gate  [shape=hexagon, label="Ship it?"]
  done  [prompt="done"]
  start -> a -> fan
  fan -> left
  fan -> right
  left -> join
  right -> join
  join -> slow -> flaky -> gate
  gate -> done [label="[A] Approve"]
  gate -> exit [label="[R] Reject"]
  done -> exit
}`;

const contextOf = (out: string) => out.match(/context (\d+)\)/)?.[1];

for (const backend of ["kv", "fs"] as const) {
  Deno.test(`forge resume <run-id> (${backend}): SIGTERM mid-stage, run directory deleted, the run found by id through listContexts finishes as an uninterrupted run`, async () => {
    const cwd = await Deno.makeTempDir({ prefix: `forge-resume-id-${backend}-` });
    try {
      await Deno.writeTextFile(join(cwd, "p.dot"), PIPELINE);
      const store = backend === "kv" ? `kv:${join(cwd, "store.kv")}` : `fs:${join(cwd, "store")}`;
      const base = ["--simulate", "--auto-approve", "--store", store];

      const clean = await forge(["run", "p.dot", ...base, "--run-id", "clean"], cwd);
      assert.equal(clean.code, 0, clean.err);
      const expected = await outcomeOf(join(cwd, ".forge", "runs", "clean"));

      const dir = join(cwd, ".forge", "runs", "r1");
      const child = spawnForge(["run", "p.dot", ...base, "--run-id", "r1"], cwd);
      await waitForFile(join(dir, "slow", "prompt.md"), child);
      child.kill("SIGTERM");
      const stopped = await finished(child);
      assert.equal(stopped.code, 143, stopped.err);
      assert.match(stopped.err, /run r1 stopped by SIGTERM; resume with: forge resume r1/);
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
      const stoppedAt = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
      assert.ok(stoppedAt.completed_nodes.includes("join"), "stopped after the fan-out");
      assert.ok(!stoppedAt.completed_nodes.includes("slow"), "stopped mid-stage");
      await Deno.remove(dir, { recursive: true });

      const resumed = await forge(["resume", "r1", ...base], cwd);
      assert.equal(resumed.code, 0, resumed.err);
      assert.match(resumed.out, /resuming ByRunId as r1/);
      assert.equal(
        contextOf(resumed.out),
        manifest.context_id,
        "the run's own context was continued, not a branch's fork",
      );
      assert.deepEqual(await outcomeOf(dir), expected);

      // The store agrees: the run's context ends in success, and the run id
      // still names it (not one of the branch contexts).
      const runs = await forge(["runs", "--store", store, "--json"], cwd);
      assert.equal(runs.code, 0, runs.err);
      const page = JSON.parse(runs.out) as {
        runs: { runId: string; contextId: string; status: string }[];
      };
      const r1 = page.runs.filter((r) => r.runId === "r1");
      assert.deepEqual(r1.map((r) => [r.contextId, r.status]), [[
        manifest.context_id,
        "succeeded",
      ]]);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });

  Deno.test(`forge answer <run-id> (${backend}): a durable human gate stops the run, the directory is deleted, the answer resumes it from the store alone`, async () => {
    const cwd = await Deno.makeTempDir({ prefix: `forge-answer-id-${backend}-` });
    try {
      await Deno.writeTextFile(join(cwd, "p.dot"), PIPELINE);
      const store = backend === "kv" ? `kv:${join(cwd, "store.kv")}` : `fs:${join(cwd, "store")}`;

      const clean = await forge(
        ["run", "p.dot", "--simulate", "--auto-approve", "--store", store, "--run-id", "clean"],
        cwd,
      );
      assert.equal(clean.code, 0, clean.err);
      const expected = await outcomeOf(join(cwd, ".forge", "runs", "clean"));

      const dir = join(cwd, ".forge", "runs", "g1");
      const waiting = await forge(
        ["run", "p.dot", "--simulate", "--store", store, "--run-id", "g1"],
        cwd,
      );
      assert.equal(waiting.code, 3, waiting.err);
      assert.match(waiting.out, /run g1 is waiting at gate: Ship it\?/);
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
      await Deno.remove(dir, { recursive: true });

      const answered = await forge(["answer", "g1", "A", "--simulate", "--store", store], cwd);
      assert.equal(answered.code, 0, answered.err);
      assert.equal(contextOf(answered.out), manifest.context_id);
      assert.deepEqual(await outcomeOf(dir), expected);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });
}

Deno.test("forge resume <run-id>: an id no run has is a usage error naming the store", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "forge-resume-id-none-" });
  try {
    const store = `kv:${join(cwd, "store.kv")}`;
    await Deno.writeTextFile(join(cwd, "p.dot"), PIPELINE);
    const clean = await forge(
      ["run", "p.dot", "--simulate", "--auto-approve", "--store", store],
      cwd,
    );
    assert.equal(clean.code, 0, clean.err);
    const r = await forge(["resume", "no-such-run", "--simulate", "--store", store], cwd);
    assert.equal(r.code, 2);
    assert.match(r.err, /no-such-run is neither .* \(no run with that id in kv:/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge answer <run-id> after a loop restart: the lookup finds the run's newest attempt context, and the run finishes as an uninterrupted one", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "forge-answer-id-loop-" });
  try {
    await Deno.writeTextFile(
      join(cwd, "loop.dot"),
      `digraph Loop {
        start [shape=Mdiamond]
        exit  [shape=Msquare]
        prep  [prompt="prep"]
        work  [prompt="work", simulate.outcomes="fail,success"]
        gate  [shape=hexagon, label="Ship?"]
        start -> prep -> work
        work -> prep [condition="outcome=fail", loop_restart=true]
        work -> gate [condition="outcome=success"]
        gate -> exit [label="[Y] Yes"]
      }`,
    );
    const store = `fs:${join(cwd, "store")}`;
    const clean = await forge(
      ["run", "loop.dot", "--simulate", "--auto-approve", "--store", store, "--run-id", "clean"],
      cwd,
    );
    assert.equal(clean.code, 0, clean.err);
    const expected = await outcomeOf(join(cwd, ".forge", "runs", "clean"));

    const dir = join(cwd, ".forge", "runs", "L1");
    const waiting = await forge(
      ["run", "loop.dot", "--simulate", "--store", store, "--run-id", "L1"],
      cwd,
    );
    assert.equal(waiting.code, 3, waiting.err);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.attempts.length, 2, "the run restarted once");
    assert.equal(manifest.context_id, manifest.attempts[1].context_id);
    await Deno.remove(dir, { recursive: true });

    const answered = await forge(["answer", "L1", "Y", "--simulate", "--store", store], cwd);
    assert.equal(answered.code, 0, answered.err);
    assert.equal(contextOf(answered.out), manifest.context_id, "the second attempt's context");
    assert.deepEqual(await outcomeOf(dir), expected);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
