// The attack pass: hostile DOT files, hostile run ids and run directories, a
// corrupted or truncated store under the read commands and resume, and bad
// flags. Each must end in one clear line naming what was wrong, a non-zero
// exit, no stack trace — and nothing already stored changed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openTurnStore } from "@forge/turnstore";
import { defaultHandlers, preparePipeline, runPipeline } from "@forge/attractor";
import {
  assertExit,
  checkpointOf,
  exists,
  type Finished,
  finished,
  scratch,
  spawnForge,
  waitForFile,
} from "./harness.ts";

const SIM = ["--simulate", "--quiet"];

Deno.test("hostile DOT: unterminated strings, deep nesting, huge attributes, unicode, wrong attribute types and exitless cycles are refused or run, never crash", async () => {
  await using s = await scratch("dot");
  const head = `start [shape=Mdiamond]; exit [shape=Msquare];`;
  const files: Record<string, string> = {
    "unterminated.dot": `digraph U { ${head} a [prompt="never closed]; start -> a -> exit }`,
    "nested.dot": `digraph N { ${head} ${"subgraph { ".repeat(5000)} a [prompt="x"] ${
      "} ".repeat(5000)
    } start -> a -> exit }`,
    "types.dot": `digraph T { graph [default_max_retries="lots"]; ${head}
      a [prompt="x", timeout="forever", goal_gate="maybe"]; start -> a [weight="heavy"]; a -> exit }`,
    "exitless.dot": `digraph C { ${head} a [prompt="a"]; b [prompt="b"]; start -> a -> b -> a }`,
    "binary.dot": "\u0000\u0001\u0002digraph",
    "empty.dot": "",
    "unicode.dot": `digraph Ü { graph [goal="日本語 🚀"]; ${head}
      a [prompt="héllo \u202e $goal", label="🚀"]; start -> a -> exit }`,
    "big.dot": `digraph B { ${head} a [prompt="${"x".repeat(2_000_000)}"]; start -> a -> exit }`,
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(s.dir, name), text);
  }
  const v = Object.fromEntries(
    await Promise.all(
      Object.keys(files).map(async (f) => [f, await s.forge("validate", f)] as const),
    ),
  );
  assertExit(v["unterminated.dot"], 1, "unterminated");
  assert.match(v["unterminated.dot"].err, /line 1, column \d+: unterminated string/);
  const json = await s.forge("validate", "unterminated.dot", "--json");
  assertExit(json, 1, "validate --json of a file that does not parse");
  const doc = JSON.parse(json.out);
  assert.equal(doc.valid, false);
  assert.equal(doc.parseError.line, 1);
  assert.match(doc.parseError.message, /unterminated string/);
  assertExit(v["nested.dot"], 1, "nested");
  assert.match(v["nested.dot"].err, /nested deeper than/);
  assertExit(v["types.dot"], 1, "types");
  assert.match(v["types.dot"].err, /graph default_max_retries="lots"/);
  assert.match(v["types.dot"].err, /node a: timeout="forever"/);
  assert.match(v["types.dot"].err, /node a: goal_gate="maybe"/);
  assert.match(v["types.dot"].err, /edge start -> a: weight="heavy"/);
  assertExit(v["exitless.dot"], 1, "a cycle that never reaches the exit");
  assert.match(v["exitless.dot"].err, /node exit is not reachable/);
  assertExit(v["binary.dot"], 1, "binary");
  assertExit(v["empty.dot"], 1, "empty");
  assertExit(v["unicode.dot"], 0, "unicode");
  assertExit(v["big.dot"], 0, "a 2 MB attribute");

  const run = await s.forge("run", "unicode.dot", ...SIM, "--store", "memory:", "--run-id", "u");
  assertExit(run, 0, "run unicode.dot");
  assert.match(
    await Deno.readTextFile(join(s.runDir("u"), "a", "prompt.md")),
    /héllo \u202e 日本語 🚀/,
  );
  assert.equal((await s.json(".forge/runs/u/manifest.json")).name, "Ü");
  // A pipeline that does not parse creates no store.
  const bad = await s.forge("run", "unterminated.dot", ...SIM);
  assertExit(bad, 1, "run unterminated.dot");
  assert.ok(
    !(await exists(s, ".forge/forge.kv")),
    "no store made for a pipeline that does not parse",
  );
});

Deno.test("hostile run ids are usage errors that write nothing; a new run never overwrites a recorded run directory", async () => {
  await using s = await scratch("runid");
  const ids = ["../../escape", "/tmp/abs", "", ".", "..", "a/b", "a b", "-x", "x".repeat(200)];
  const refused = await Promise.all(
    ids.map((id) => s.forge("run", "routing.dot", ...SIM, "--store", "memory:", `--run-id=${id}`)),
  );
  refused.forEach((r, i) => {
    assertExit(r, 2, `--run-id ${JSON.stringify(ids[i])}`);
    assert.match(r.err, /is not a run id/);
  });
  assert.ok(!(await exists(s, ".forge")), "nothing written");
  assert.ok(!(await exists(s, "../escape")), "nothing written outside");

  const first = await s.forge(
    "run",
    "routing.dot",
    ...SIM,
    "--store",
    "memory:",
    "--run-id",
    "dup",
  );
  assertExit(first, 0, "first run");
  const before = await Deno.readTextFile(join(s.runDir("dup"), "checkpoint.json"));
  const again = await s.forge(
    "run",
    "failures.dot",
    ...SIM,
    "--store",
    "memory:",
    "--run-id",
    "dup",
  );
  assertExit(again, 2, "the same run id again");
  assert.match(again.err, /already holds a run .*forge resume/);
  const logs = await s.forge(
    "run",
    "failures.dot",
    ...SIM,
    "--store",
    "memory:",
    "--logs",
    s.runDir("dup"),
  );
  assertExit(logs, 2, "--logs naming a recorded run directory");
  assert.equal(
    await Deno.readTextFile(join(s.runDir("dup"), "checkpoint.json")),
    before,
    "unchanged",
  );
  assert.ok(
    !(await exists(s, ".forge/runs/dup/boom")),
    "no stage of the second pipeline ran there",
  );
});

Deno.test("a corrupted or truncated fs store: runs, inspect, trace, log and resume exit 1 naming the corruption, and leave the store's bytes as they were", async () => {
  await using s = await scratch("corrupt");
  const good = `fs:${join(s.dir, "good")}`;
  const r = await s.forge("run", "routing.dot", ...SIM, "--store", good, "--run-id", "r");
  assertExit(r, 0, "run");
  const context = String((await s.json(".forge/runs/r/manifest.json")).context_id);
  const log = await Deno.readFile(join(s.dir, "good", "log"));
  const damaged = async (name: string, bytes: Uint8Array) => {
    const dir = join(s.dir, name);
    await Deno.mkdir(dir);
    for await (const e of Deno.readDir(join(s.dir, "good"))) {
      if (e.isFile) await Deno.copyFile(join(s.dir, "good", e.name), join(dir, e.name));
      else {await Deno.rename(join(s.dir, "good", e.name), join(dir, e.name)).then(() =>
          Deno.mkdir(join(s.dir, "good", e.name))
        ).catch(() => {});}
    }
    await Deno.writeFile(join(dir, "log"), bytes);
    return dir;
  };
  const flipped = log.slice();
  flipped.fill(0xff, log.length >> 1, (log.length >> 1) + 8);
  const stores = {
    flipped: await damaged("flipped", flipped),
    truncated: await damaged("truncated", log.slice(0, log.length >> 1)),
  };
  for (const [what, dir] of Object.entries(stores)) {
    const bytes = await Deno.readFile(join(dir, "log"));
    const url = `fs:${dir}`;
    const results: Record<string, Finished> = {
      runs: await s.forge("runs", "--store", url),
      inspect: await s.forge("inspect", "r", "--store", url),
      "inspect context": await s.forge("inspect", context, "--store", url),
      trace: await s.forge("trace", context, "--store", url),
      log: await s.forge("log", context, "--all", "--store", url),
    };
    // The fs store checks the log's length against its index when it opens;
    // a flipped byte is found where a read reaches it (resume of a finished
    // run reads only the newest records).
    if (what === "truncated") {
      results.resume = await s.forge("resume", context, ...SIM, "--store", url);
    }
    for (const [command, f] of Object.entries(results)) {
      assertExit(f, 1, `${command} on a ${what} log`);
      assert.match(
        f.err,
        /Backend: fs store log .*log (is corrupt|is \d+ bytes)/,
        `${command} (${what})`,
      );
    }
    assert.deepEqual(
      await Deno.readFile(join(dir, "log")),
      bytes,
      `the ${what} log was left as it was`,
    );
  }
});

Deno.test("read commands never create a store: a mistyped --store is an error, not 'no runs'", async () => {
  await using s = await scratch("nostore");
  const stores = [`kv:${join(s.dir, "typo", "forge.kv")}`, `fs:${join(s.dir, "typo")}`];
  const commands = [["runs"], ["inspect", "r"], ["trace", "1"], ["log", "1"], [
    "resume",
    "7",
    ...SIM,
  ]];
  const cases = stores.flatMap((store) => commands.map((args) => [...args, "--store", store]));
  const results = await Promise.all(cases.map((args) => s.forge(...args)));
  results.forEach((f, i) => {
    assertExit(f, 1, cases[i].join(" "));
    assert.match(f.err, /StoreMissing: there is no store at .*typo/);
  });
  assert.ok(!(await exists(s, "typo")), "nothing was created");
});

Deno.test("a hand-broken run directory: invalid JSON, a wrong shape, or a checkpoint at a node the pipeline lacks is refused by name", async () => {
  await using s = await scratch("rundir");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const child = spawnForge(["run", "slow.dot", ...SIM, ...store, "--run-id", "k"], s.dir);
  await waitForFile(join(s.runDir("k"), "slow", "prompt.md"), child);
  child.kill("SIGKILL");
  await finished(child);
  const file = join(s.runDir("k"), "checkpoint.json");
  const original = await checkpointOf(s, "k");
  const cases: [string, string, RegExp, number][] = [
    ["truncated JSON", '{"current_node": "fir', /checkpoint\.json is not valid JSON/, 2],
    ["a list", "[]", /checkpoint\.json: must be a JSON object/, 2],
    [
      "a wrong field type",
      JSON.stringify({ ...original, completed_nodes: "first" }),
      /"completed_nodes" must be a list/,
      2,
    ],
    [
      "an unknown node",
      JSON.stringify({ ...original, timestamp: "2099-01-01T00:00:00.000Z", next_node: "nowhere" }),
      /InvalidCheckpoint: the checkpoint resumes at node nowhere, which the pipeline does not have/,
      1,
    ],
  ];
  for (const [what, text, message, code] of cases) {
    await Deno.writeTextFile(file, text);
    const f = await s.forge("resume", "k", ...SIM, ...store);
    assertExit(f, code, what);
    assert.match(f.err, message, what);
  }
  await Deno.writeTextFile(join(s.runDir("k"), "manifest.json"), "nonsense");
  const m = await s.forge("resume", "k", ...SIM, ...store);
  assert.notEqual(m.code, 0);
  assertExit(m, m.code, "a broken manifest");
  assert.match(m.err, /manifest\.json is not valid JSON/);
});

Deno.test("bad flags and arguments: usage errors exit 2 naming the flag, store errors exit 1", async () => {
  await using s = await scratch("flags");
  const cases: [string[], number, RegExp][] = [
    [["run", "routing.dot", "--bogus"], 2, /Unknown option '--bogus'/],
    [
      ["run", "routing.dot", "--persistence", "sometimes"],
      2,
      /--persistence must be off, best_effort or required/,
    ],
    [["run"], 2, /needs exactly one pipeline file/],
    [
      ["run", "missing.dot", "--simulate"],
      2,
      /cannot read missing\.dot: no such file or directory$/m,
    ],
    [["validate"], 2, /needs exactly one pipeline file/],
    [["validate", "."], 2, /cannot read \.: it is a directory/],
    [["answer", "r"], 2, /needs a run and a choice/],
    [["runs", "--limit", "abc", "--store", "memory:"], 2, /--limit must be a whole number/],
    [["runs", "--status", "bogus", "--store", "memory:"], 2, /--status must be/],
    [["trace", "1", "--format", "pdf", "--store", "memory:"], 2, /--format must be/],
    [["serve", "--port", "99999", "--store", "memory:"], 2, /--port must be/],
    [["frobnicate"], 2, /unknown command frobnicate/],
    [["runs", "--store", "bogus:x"], 1, /Unsupported: store URL scheme bogus:/],
    [["run", "routing.dot", "--simulate", "--store", ""], 2, /--store needs a URL/],
    [
      ["run", "routing.dot", "--simulate", "--store", "memory:", "--logs", "failures.dot"],
      1,
      /cannot create the run directory .*failures\.dot: a file is in the way/,
    ],
    [
      ["trace", "1", "--format", "html", "--out", "no/such/dir/t.html", "--store", "kv:store.kv"],
      1,
      /cannot write no\/such\/dir\/t\.html: no such file or directory/,
    ],
  ];
  // A store with one run in it, for the commands that must get as far as writing.
  assertExit(await s.forge("run", "routing.dot", ...SIM, "--store", "kv:store.kv"), 0, "run");
  const results = await Promise.all(cases.map(([args]) => s.forge(...args)));
  cases.forEach(([args, code, message], i) => {
    assertExit(results[i], code, args.join(" "));
    assert.match(results[i].err, message, args.join(" "));
  });
});

/**
 * Whether process `pid` still runs (a zombie left to an init that does not
 * reap counts as gone). Read through `sh`: Deno lets a test read /proc only
 * with every permission.
 */
async function running(pid: number): Promise<boolean> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/stat 2>/dev/null`],
    stdout: "piped",
  }).output();
  const stat = new TextDecoder().decode(out.stdout);
  return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
}

Deno.test({
  name:
    "tool stages: a background job does not outlive its stage; a timed-out command is killed with its children",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using s = await scratch("procs");
    const r = await s.forge(
      "run",
      "tool_processes.dot",
      ...SIM,
      "--store",
      "memory:",
      "--run-id",
      "t",
    );
    assertExit(r, 0, "run");
    const c = await checkpointOf(s, "t");
    assert.equal(c.node_outcomes["bg"].status, "success");
    assert.equal(c.node_outcomes["stuck"].status, "fail");
    assert.match(c.node_outcomes["stuck"].failure_reason ?? "", /timed out after 1000 ms/);
    assert.match(await Deno.readTextFile(join(s.runDir("t"), "bg", "tool_output.txt")), /started/);
    for (const file of ["bg.pid", "stuck.pid"]) {
      const pid = Number((await Deno.readTextFile(join(s.dir, file))).trim());
      assert.ok(pid > 0, file);
      assert.equal(await running(pid), false, `the process of ${file} was left running`);
    }
  },
});

Deno.test("two forge answer at once: one continues the run, the other is refused (RunBusy) instead of interleaving records; the run then finishes", async () => {
  await using s = await scratch("race");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const waiting = await s.forge("run", "human_slow.dot", ...SIM, ...store, "--run-id", "h");
  assertExit(waiting, 3, "run");
  const [a, b] = await Promise.all([
    s.forge("answer", "h", "A", ...SIM, ...store),
    s.forge("answer", "h", "F", ...SIM, ...store),
  ]);
  for (const f of [a, b]) {
    assertExit(f, f.code, "answer");
    assert.doesNotMatch(f.err, /Persistence|reordered/, "no interleaved appends");
  }
  const codes = [a.code, b.code].sort();
  assert.ok(codes.includes(0) || codes.includes(3), `one answer went through: ${codes}`);
  const busy = [a, b].find((f) => f.code === 1);
  if (busy) assert.match(busy.err, /RunBusy: another forge process is running this run/);
  // Whatever the order, the run is consistent and can be brought to its end.
  const c = await checkpointOf(s, "h");
  if (c.final_status === undefined) {
    assert.equal(c.waiting_on, "review");
    assertExit(await s.forge("answer", "h", "A", ...SIM, ...store), 0, "the last answer");
  }
  assert.equal((await checkpointOf(s, "h")).final_status, "success");
  const inspect = await s.forge("inspect", "h", "--json", ...store);
  assertExit(inspect, 0, "inspect");
  const stages = JSON.parse(inspect.out).stages as { nodeId: string; state: string }[];
  assert.equal(stages.filter((st) => st.nodeId === "ship" && st.state === "completed").length, 1);
});

Deno.test("a human gate with two choices on one key: validate warns, answering the key is refused as ambiguous, answering the target node takes that choice", async () => {
  await using s = await scratch("keys");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  const lint = await s.forge("validate", "gate_keys.dot");
  assertExit(lint, 0, "validate (warnings only)");
  assert.match(lint.out, /node gate: the gate offers the key "A" for 2 choices/);
  assert.match(
    lint.out,
    /node gate: human.default_choice="nowhere" names none of the gate's choices/,
  );
  assertExit(await s.forge("run", "gate_keys.dot", ...SIM, ...store, "--run-id", "k"), 3, "run");
  const ambiguous = await s.forge("answer", "k", "A", ...SIM, ...store);
  assertExit(ambiguous, 2, "answer A");
  assert.match(ambiguous.err, /"A" is the key of 2 options of gate/);
  assert.equal((await checkpointOf(s, "k")).waiting_on, "gate", "still waiting");
  const byTarget = await s.forge("answer", "k", "abort", ...SIM, ...store);
  assertExit(byTarget, 0, "answer by target node");
  const c = await checkpointOf(s, "k");
  assert.deepEqual(c.completed_nodes, ["start", "gate", "abort"]);
  assert.equal((await s.json(".forge/runs/k/gate/answer.json")).to, "abort");
});

Deno.test("resume from the store with --logs naming another run's directory is refused; that directory is left as it was", async () => {
  await using s = await scratch("otherdir");
  const store = ["--store", `kv:${join(s.dir, "store.kv")}`];
  assertExit(await s.forge("run", "routing.dot", ...SIM, ...store, "--run-id", "done"), 0, "run");
  const before = await Deno.readTextFile(join(s.runDir("done"), "checkpoint.json"));
  const child = spawnForge(["run", "slow.dot", ...SIM, ...store, "--run-id", "k"], s.dir);
  await waitForFile(join(s.runDir("k"), "slow", "prompt.md"), child);
  child.kill("SIGKILL");
  await finished(child);
  const context = String((await s.json(".forge/runs/k/manifest.json")).context_id);
  const r = await s.forge("resume", context, ...SIM, ...store, "--logs", s.runDir("done"));
  assertExit(r, 2, "resume into another run's directory");
  assert.match(r.err, /holds another run \(done\); resume run k into its own directory/);
  assert.equal(await Deno.readTextFile(join(s.runDir("done"), "checkpoint.json")), before);
  assert.ok(!(await exists(s, ".forge/runs/done/slow")), "no stage of run k written there");
  assertExit(
    await s.forge("resume", context, ...SIM, ...store),
    0,
    "resume into its own directory",
  );
  assert.equal((await checkpointOf(s, "k")).final_status, "success");
});

Deno.test("a manager loop whose child pipeline is itself fails its stage naming the cycle, starting no child", async () => {
  await using s = await scratch("manager");
  const r = await s.forge("run", "manager_self.dot", ...SIM, "--store", "memory:", "--run-id", "m");
  assertExit(r, 0, "run (the fail edge leads to the exit)");
  const c = await checkpointOf(s, "m");
  assert.equal(c.node_outcomes["supervise"].status, "fail");
  assert.match(
    c.node_outcomes["supervise"].failure_reason ?? "",
    /manager_self\.dot is already running as a parent of this stage/,
  );
  assert.ok(!(await exists(s, ".forge/runs/m/supervise/child/manifest.json")), "no child run");
});

Deno.test("a tool's status.json with a context value nested 100,000 deep fails its stage by name instead of overflowing the stack and ending the run", async () => {
  await using s = await scratch("deepstatus");
  const value = "[".repeat(100_000) + "]".repeat(100_000);
  await Deno.writeTextFile(
    join(s.dir, "deep_status.json"),
    `{"outcome":"success","context_updates":{"deep":${value}}}`,
  );
  await Deno.writeTextFile(
    join(s.dir, "deep_status.dot"),
    `digraph DeepStatus {
      start [shape=Mdiamond]; exit [shape=Msquare]
      t [shape=parallelogram, tool_command="cp deep_status.json \\"$ATTRACTOR_STAGE_DIR/status.json\\""]
      start -> t -> exit
    }`,
  );
  const r = await s.forge("run", "deep_status.dot", ...SIM, "--store", "memory:", "--run-id", "d");
  assertExit(r, 1, "run");
  assert.match(r.err, /stage t failed: .*"context_updates\.deep" is nested deeper than 64 levels/);
  assert.equal((await checkpointOf(s, "d")).final_status, "fail");
});

Deno.test("a hostile store whose run id is a path (../../escape): forge resume refuses to make it a folder unless --logs names one", async () => {
  await using s = await scratch("hostilestore");
  const url = `kv:${join(s.dir, "store.kv")}`;
  const source = await Deno.readTextFile(join(s.dir, "routing.dot"));
  {
    // Written by another program through the library, which takes any run id.
    await using store = await openTurnStore(url);
    const prepared = preparePipeline(source);
    await runPipeline({
      graph: prepared.graph,
      dotSource: source,
      logsRoot: join(s.dir, "elsewhere"),
      runId: "../../escape",
      handlers: defaultHandlers(),
      store,
      sleep: () => Promise.resolve(),
    });
  }
  const context = String((await s.json("elsewhere/manifest.json")).context_id);
  // Its own directory gone, the run is continued from the store alone (while it is there, in it).
  await Deno.remove(join(s.dir, "elsewhere"), { recursive: true });
  const r = await s.forge("resume", context, ...SIM, "--store", url);
  assertExit(r, 2, "resume");
  assert.match(
    r.err,
    /the run id "\.\.\/\.\.\/escape" recorded in the store is not one path segment/,
  );
  assert.ok(!(await exists(s, "../escape")), "nothing written outside");
  const chosen = await s.forge("resume", context, ...SIM, "--store", url, "--logs", "chosen");
  assertExit(chosen, 0, "resume into a chosen directory");
});

/** A small seeded generator (mulberry32): the same "random" bytes on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Deno KV's queue thread panicked on this corruption ("KV queue_next_ready
// failed: database disk image is malformed") and the process died with Deno's
// panic report; turnstore/kv now reads those pages before Deno KV opens the
// file (file_probe.ts) and reports a Backend error naming it.
Deno.test({
  name: "a kv store with 3,000 corrupted bytes: forge runs exits 1 naming it, without a Deno panic",
  fn: async () => {
    await using s = await scratch("kvcorrupt");
    const file = join(s.dir, "store.kv");
    assertExit(await s.forge("run", "routing.dot", ...SIM, "--store", `kv:${file}`), 0, "run");
    const bytes = await Deno.readFile(file);
    const next = seeded(1);
    // Bytes 20,000–23,000 of a file of 4 KiB pages; the same pages, scaled, of
    // a file of larger ones (a new kv file has 8 KiB pages: turnstore/kv/new_file.ts).
    // The page size is the header's big-endian u16 at offset 16.
    const scale = ((bytes[16] << 8) | bytes[17]) / 4096;
    const start = 20_000 * scale;
    for (let i = start; i < start + 3_000 && i < bytes.length; i++) {
      bytes[i] = Math.floor(next() * 256);
    }
    await Deno.writeFile(file, bytes);
    for (const side of ["-wal", "-shm"]) await Deno.remove(file + side).catch(() => {});
    const r = await s.forge("runs", "--store", `kv:${file}`);
    assertExit(r, 1, "runs on a corrupted kv file");
    assert.match(r.err, /Backend: .*malformed/);
  },
});
