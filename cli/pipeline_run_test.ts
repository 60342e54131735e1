// `forge run|validate|resume|answer` end to end, as a user runs them: a real
// `deno run cli/main.ts` process, real files, a real Deno KV or fs store,
// real signals.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import {
  defaultHandlers,
  DurableInterviewer,
  preparePipeline,
  runPipeline,
} from "@forge/attractor";
import { RunLifecycle, RunLifecycleV3 } from "@forge/attractor/records";
import { openStore } from "@forge/stores";

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

/** Runs examples/human_gate.dot until it waits at its gate (exit 3): the run's result. */
async function waitingRun(cwd: string, runId: string, logs?: string) {
  const args = ["run", join(EXAMPLES, "human_gate.dot"), "--simulate", "--run-id", runId];
  const first = await run(logs ? [...args, "--logs", logs] : args, cwd);
  assert.equal(first.code, 3, first.err);
  return first;
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
    const first = await waitingRun(cwd, "h1");
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
    // The run directory is not .forge/runs/s1 (--logs): the command names it by its path.
    const hint = /stopped by SIGTERM; resume with: forge resume (\S+)\n/.exec(
      new TextDecoder().decode(out.stderr),
    );
    assert.equal(hint?.[1], join("runs", "s1"));
    const checkpoint = JSON.parse(await Deno.readTextFile(join(logs, "checkpoint.json")));
    assert.equal(checkpoint.current_node, "a");
    assert.equal(checkpoint.next_node, "slow");
    await Deno.writeTextFile(join(cwd, "runs", "go"), "");
    const resumed = await run(["resume", hint![1], "--simulate"], cwd);
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

Deno.test("a run stopped in a directory of its own (--logs) and a store of its own is named by its directory: the printed command resumes it", async () => {
  const cwd = await tmp();
  try {
    await Deno.writeTextFile(join(cwd, "slow.dot"), SLOW);
    const logs = join(cwd, "elsewhere", "s2");
    const store = `kv:${join(cwd, "own.kv")}`;
    const child = forge(["run", "slow.dot", "--simulate", "--logs", logs, "--store", store], cwd);
    await waitFor(join(logs, "slow"));
    child.kill("SIGINT");
    const out = await child.output();
    assert.equal(out.code, 130);
    const hint = /resume with: forge resume (\S+)\n/.exec(new TextDecoder().decode(out.stderr));
    assert.equal(hint?.[1], join("elsewhere", "s2"), "not the run id: .forge/runs/<id> is not it");
    await Deno.writeTextFile(join(cwd, "elsewhere", "go"), "");
    const resumed = await run(["resume", hint![1], "--simulate", "--quiet"], cwd);
    assert.equal(resumed.code, 0, resumed.err);
    const done = JSON.parse(await Deno.readTextFile(join(logs, "checkpoint.json")));
    assert.deepEqual(done.completed_nodes, ["start", "a", "slow", "b"]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a run directory is continued only in a store that holds its run: another store's run is never appended to", async () => {
  const cwd = await tmp();
  try {
    await Deno.writeTextFile(join(cwd, "slow.dot"), SLOW);
    // Context 1 of the default store holds another run.
    const other = await run(["run", join(EXAMPLES, "linear.dot"), "--simulate", "--quiet"], cwd);
    assert.equal(other.code, 0, other.err);
    const before = await run(["log", "1", "--all", "--json"], cwd);
    // A run recorded in a store of its own (also context 1 there) is stopped.
    const own = `kv:${join(cwd, "own.kv")}`;
    const child = forge(["run", "slow.dot", "--simulate", "--run-id", "s3", "--store", own], cwd);
    await waitFor(join(cwd, ".forge", "runs", "s3", "slow"));
    child.kill("SIGINT");
    assert.equal((await child.output()).code, 130);
    for (const store of ["kv:.forge/forge.kv", `kv:${join(cwd, "empty.kv")}`]) {
      const refused = await run(["resume", "s3", "--simulate", "--store", store], cwd);
      assert.equal(refused.code, 1, store);
      assert.match(
        refused.err,
        /RunNotInStore: .*s3 holds run s3 \(context 1, recorded in kv:.*own\.kv\), but .*(holds run run-|has no context 1)/,
      );
    }
    assert.equal((await run(["log", "1", "--all", "--json"], cwd)).out, before.out, "untouched");
    // A memory: store ended with its process: the remedy is said.
    const mem = forge(
      ["run", "slow.dot", "--simulate", "--run-id", "m1", "--store", "memory:"],
      cwd,
    );
    await waitFor(join(cwd, ".forge", "runs", "m1", "slow"));
    mem.kill("SIGINT");
    assert.equal((await mem.output()).code, 130);
    const gone = await run(["resume", "m1", "--simulate"], cwd);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /memory: has no context 1; .*--persistence off/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a store path that is not a store of its kind is refused before anything is written", async () => {
  const cwd = await tmp();
  try {
    await Deno.mkdir(join(cwd, "notes"));
    await Deno.writeTextFile(join(cwd, "notes", "keep.txt"), "keep me");
    await Deno.writeTextFile(join(cwd, "file.txt"), "a file");
    const linear = join(EXAMPLES, "linear.dot");
    const cases: [string[], RegExp][] = [
      [["runs", "--store", "fs:notes"], /holds other files but no fs: store/],
      [["run", linear, "--simulate", "--store", "fs:notes"], /holds other files but no fs: store/],
      [["runs", "--store", "fs:file.txt"], /file\.txt .*is a file; an fs: store is a directory/],
      [["run", linear, "--simulate", "--store", "fs:file.txt"], /is a file; an fs: store/],
      [["runs", "--store", "kv:notes"], /notes .*is a directory; a kv: store is one file/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args, cwd);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.err, new RegExp(`^forge (runs|run): NotAStore: .*${message.source}`));
      assert.doesNotMatch(r.err, /os error|\n\s+at /, "no OS error text, no stack");
    }
    const left = [];
    for await (const e of Deno.readDir(join(cwd, "notes"))) left.push(e.name);
    assert.deepEqual(left, ["keep.txt"], "nothing was written among the folder's files");
    assert.equal(await Deno.readTextFile(join(cwd, "file.txt")), "a file");
    // An empty folder is where forge run may make an fs: store.
    await Deno.mkdir(join(cwd, "fresh"));
    const made = await run(["run", linear, "--simulate", "--quiet", "--store", "fs:fresh"], cwd);
    assert.equal(made.code, 0, made.err);
    assert.equal((await run(["runs", "--store", "fs:fresh"], cwd)).code, 0);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge run --resume DIR of a folder that holds no run is a usage error that leaves no folder and no run.lock behind", async () => {
  const cwd = await tmp();
  try {
    await Deno.mkdir(join(cwd, "notes"));
    const linear = join(EXAMPLES, "linear.dot");
    for (const dir of ["notes", "missing"]) {
      const r = await run(["run", linear, "--simulate", "--resume", dir], cwd);
      assert.equal(r.code, 2, dir);
      assert.match(r.err, new RegExp(`^forge run: --resume ${dir} is not a run directory`));
    }
    const left = [];
    for await (const e of Deno.readDir(cwd)) left.push(e.name);
    assert.deepEqual(left, ["notes"], "no missing/ was made");
    for await (const e of Deno.readDir(join(cwd, "notes"))) assert.fail(`left ${e.name}`);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge answer <run id> of a run kept in a directory elsewhere (--logs) continues it there; a refused answer leaves nothing behind", async () => {
  const cwd = await tmp();
  try {
    const elsewhere = join(cwd, "elsewhere");
    await waitingRun(cwd, "e1", elsewhere);
    const own = join(cwd, ".forge", "runs", "e1");

    const wrong = await run(["answer", "e1", "maybe", "--simulate"], cwd);
    assert.equal(wrong.code, 2, wrong.err);
    assert.match(wrong.err, /"maybe" is not an option of review/);
    await assert.rejects(Deno.lstat(own), Deno.errors.NotFound, "no run directory, no run.lock");
    await assert.rejects(Deno.lstat(join(cwd, ".forge", "runs")), Deno.errors.NotFound);

    const answered = await run(["answer", "e1", "approve", "--simulate"], cwd);
    assert.equal(answered.code, 0, answered.err);
    assert.match(answered.out, new RegExp(`run directory ${elsewhere}\\n`));
    await assert.rejects(Deno.lstat(own), Deno.errors.NotFound, "not split over two directories");
    const checkpoint = JSON.parse(await Deno.readTextFile(join(elsewhere, "checkpoint.json")));
    assert.equal(checkpoint.final_status, "success");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge answer <run id> of a run whose directory is gone continues it from the store alone in .forge/runs/<id>", async () => {
  const cwd = await tmp();
  try {
    const elsewhere = join(cwd, "elsewhere");
    await waitingRun(cwd, "g1", elsewhere);
    await Deno.remove(elsewhere, { recursive: true });
    const own = join(cwd, ".forge", "runs", "g1");
    // Refused after the new directory was locked: the lock's directory and run.lock are taken back.
    const wrong = await run(["answer", "g1", "maybe", "--simulate"], cwd);
    assert.equal(wrong.code, 2, wrong.err);
    await assert.rejects(Deno.lstat(join(cwd, ".forge", "runs")), Deno.errors.NotFound);
    const answered = await run(["answer", "g1", "approve", "--simulate"], cwd);
    assert.equal(answered.code, 0, answered.err);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(own, "checkpoint.json"))).final_status,
      "success",
    );
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("forge answer <run id|context id> of a run whose records predate naming its directory continues it from the store alone in .forge/runs/<id>, as earlier versions printed it", async () => {
  const cwd = await tmp();
  try {
    const url = `kv:${join(cwd, "old.kv")}`;
    const copies: Record<string, string> = {};
    {
      // Waiting runs, then each one's context copied as a run recorded before run_lifecycle
      // records named the run directory would have been (the copy is the newest context of its
      // run id). The originals' directories ("somewhere-<id>") hold the originals' contexts.
      await using store = await openStore(url);
      const source = await Deno.readTextFile(join(EXAMPLES, "human_gate.dot"));
      for (const runId of ["old1", "old2"]) {
        const waiting = await runPipeline({
          graph: preparePipeline(source).graph,
          dotSource: source,
          logsRoot: join(cwd, `somewhere-${runId}`),
          runId,
          handlers: defaultHandlers(),
          interviewer: new DurableInterviewer(),
          store,
        });
        assert.equal(waiting.status, "waiting");
        const copy = await store.createContext();
        copies[runId] = copy.contextId;
        const turns = await store.listTurns(waiting.contextIds[0], { limit: 10_000 });
        for (const turn of turns) {
          let { payload, typeVersion } = turn;
          if (turn.typeId === RunLifecycleV3.typeId && typeVersion === RunLifecycleV3.version) {
            // Written as version 2 was, before version 3 added the run directory.
            const { runDir: _runDir, ...older } = RunLifecycleV3.decode(turn.payload);
            payload = RunLifecycle.encode(older);
            typeVersion = RunLifecycle.version;
          }
          await store.appendTurn({
            contextId: copy.contextId,
            typeId: turn.typeId,
            typeVersion,
            payload,
          });
        }
      }
    }
    // By run id, and by context id: `forge answer <ctx> <choice> --store URL` is what earlier
    // versions printed for a waiting run.
    for (const [runId, ref] of [["old1", "old1"], ["old2", copies.old2]]) {
      const answered = await run(["answer", ref, "approve", "--simulate", "--store", url], cwd);
      assert.equal(answered.code, 0, answered.err);
      const own = join(cwd, ".forge", "runs", runId);
      assert.match(answered.out, new RegExp(`run directory ${own}\\n`));
      assert.equal(
        JSON.parse(await Deno.readTextFile(join(own, "checkpoint.json"))).final_status,
        "success",
      );
      // Nothing was written in the directory of the other context (the original run).
      assert.equal(
        JSON.parse(await Deno.readTextFile(join(cwd, `somewhere-${runId}`, "checkpoint.json")))
          .waiting_on,
        "review",
      );
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
