// `forge run|validate|resume|answer` end to end, as a user runs them: a real
// `deno run cli/main.ts` process, real files, a real Deno KV or fs store,
// real signals.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";

const MAIN = resolve(import.meta.dirname!, "main.ts");
const EXAMPLES = resolve(import.meta.dirname!, "..", "examples");
const PERMS = [
  "--unstable-kv",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net=127.0.0.1,localhost",
];

function forge(args: string[], cwd: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function run(
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const out = await forge(args, cwd).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

async function waitFor(path: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${path} did not appear`);
}

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "forge-cli-run-" });
}

Deno.test("forge run: a pipeline succeeds with exit 0, its run directory under .forge/runs and its records in the default KV store", async () => {
  const cwd = await tmp();
  try {
    const r = await run(["run", join(EXAMPLES, "linear.dot"), "--simulate", "--run-id", "r1"], cwd);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /run r1 success \(store kv:\.forge\/forge\.kv, context \d+\)/);
    const dir = join(cwd, ".forge", "runs", "r1");
    const checkpoint = JSON.parse(await Deno.readTextFile(join(dir, "checkpoint.json")));
    assert.equal(checkpoint.current_node, "exit");
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.name, "Linear");
    assert.equal(manifest.store, "kv:.forge/forge.kv");
    assert.ok((await Deno.stat(join(cwd, ".forge", "forge.kv"))).isFile);
    const log = await run(["log", manifest.context_id, "--limit", "3"], cwd);
    assert.equal(log.code, 0, log.err);
    assert.match(log.out, /forge\.attractor\.run_lifecycle/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge run: usage errors exit 2; a failing run exits 1 with its reason on stderr even with --quiet", async () => {
  const cwd = await tmp();
  try {
    assert.equal((await run(["run", "--bogus", "x.dot"], cwd)).code, 2);
    const missing = await run(["run", "nope.dot", "--simulate"], cwd);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read nope\.dot/);
    await Deno.writeTextFile(
      join(cwd, "fail.dot"),
      `digraph F { start [shape=Mdiamond]\n exit [shape=Msquare]\n w [simulate.outcome="fail"]\n start -> w -> exit }`,
    );
    const failed = await run(
      ["run", "fail.dot", "--simulate", "--quiet", "--persistence", "off"],
      cwd,
    );
    assert.equal(failed.code, 1);
    assert.equal(failed.out, "");
    assert.match(failed.err, /failed: stage w failed: simulated fail/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge validate: exit 0 with warnings, 1 with errors (rule and node named) or a parse error (line:column)", async () => {
  const cwd = await tmp();
  try {
    const ok = await run(["validate", join(EXAMPLES, "branching.dot")], cwd);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /valid \(0 errors/);
    await Deno.writeTextFile(
      join(cwd, "bad.dot"),
      `digraph B { start [shape=Mdiamond]\n a\n start -> a }`,
    );
    const bad = await run(["validate", "bad.dot"], cwd);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /error \[terminal_node\]/);
    await Deno.writeTextFile(join(cwd, "syntax.dot"), `digraph S {\n  a -> \n}`);
    const syntax = await run(["validate", "syntax.dot"], cwd);
    assert.equal(syntax.code, 1);
    assert.match(syntax.err, /syntax\.dot: line 3, column 1: expected a node id/);
    assert.equal((await run(["validate"], cwd)).code, 2);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a durable human gate: exit 3 with the question, then forge answer resumes the run from another process", async () => {
  const cwd = await tmp();
  try {
    const first = await run([
      "run",
      join(EXAMPLES, "human_gate.dot"),
      "--simulate",
      "--run-id",
      "h1",
    ], cwd);
    assert.equal(first.code, 3, first.err);
    assert.match(
      first.out,
      /waiting at review: Review the draft\n {2}- \[A\] Approve\n {2}- \[F\] Fix\nanswer with: forge answer h1 <choice>/,
    );
    const wrong = await run(["answer", "h1", "maybe", "--simulate"], cwd);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /not an option of review: A \(\[A\] Approve\), F \(\[F\] Fix\)/);
    const answered = await run(["answer", "h1", "F", "--simulate", "--quiet"], cwd);
    assert.equal(answered.code, 3, "fix goes back to the gate, which waits again");
    const approved = await run(["answer", "h1", "approve", "--simulate"], cwd);
    assert.equal(approved.code, 0, approved.err);
    const checkpoint = JSON.parse(
      await Deno.readTextFile(join(cwd, ".forge", "runs", "h1", "checkpoint.json")),
    );
    assert.deepEqual(checkpoint.completed_nodes, [
      "start",
      "draft",
      "review",
      "fix",
      "review",
      "ship",
    ]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

const SLOW = `digraph Slow {
  graph [goal="survive a signal"]
  start [shape=Mdiamond]
  exit [shape=Msquare]
  a [prompt="first", simulate.context.alpha="1"]
  slow [shape=parallelogram, tool_command="test -f $ATTRACTOR_LOGS_ROOT/../go || sleep 60; echo done"]
  b [prompt="last"]
  start -> a -> slow -> b -> exit
}`;

Deno.test("SIGTERM mid-stage stops promptly (exit 143) with a consistent checkpoint; forge resume finishes the run", async () => {
  const cwd = await tmp();
  try {
    await Deno.writeTextFile(join(cwd, "slow.dot"), SLOW);
    const logs = join(cwd, "runs", "s1");
    const child = forge(["run", "slow.dot", "--simulate", "--logs", logs, "--run-id", "s1"], cwd);
    await waitFor(join(logs, "slow"));
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    child.kill("SIGTERM");
    const out = await child.output();
    assert.ok(Date.now() - sent < 5000, "stopped promptly");
    assert.equal(out.code, 143);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /stopped by SIGTERM; resume with: forge resume s1/,
    );
    const checkpoint = JSON.parse(await Deno.readTextFile(join(logs, "checkpoint.json")));
    assert.equal(checkpoint.current_node, "a");
    assert.equal(checkpoint.next_node, "slow");
    await Deno.writeTextFile(join(cwd, "runs", "go"), "");
    const resumed = await run(["resume", logs, "--simulate"], cwd);
    assert.equal(resumed.code, 0, resumed.err);
    const done = JSON.parse(await Deno.readTextFile(join(logs, "checkpoint.json")));
    assert.deepEqual(done.completed_nodes, ["start", "a", "slow", "b"]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a changed DOT source is refused on resume unless --force", async () => {
  const cwd = await tmp();
  try {
    await Deno.writeTextFile(
      join(cwd, "gate.dot"),
      await Deno.readTextFile(join(EXAMPLES, "human_gate.dot")),
    );
    assert.equal((await run(["run", "gate.dot", "--simulate", "--logs", "d"], cwd)).code, 3);
    await Deno.writeTextFile(
      join(cwd, "gate.dot"),
      (await Deno.readTextFile(join(cwd, "gate.dot"))) + "\n// edited\n",
    );
    const refused = await run(
      ["run", "gate.dot", "--simulate", "--resume", "d", "--auto-approve"],
      cwd,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.err, /DOT source changed .*--force/);
    const forced = await run([
      "run",
      "gate.dot",
      "--simulate",
      "--resume",
      "d",
      "--auto-approve",
      "--force",
    ], cwd);
    assert.equal(forced.code, 0, forced.err);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
