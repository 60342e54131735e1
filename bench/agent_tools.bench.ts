/**
 * Costs of the coding agent's tools and of confining them: each figure is
 * compared, in the same run, with the same work done the plain way.
 *
 * Needs --unstable-worker-options (in deno.json "unstable") and, for the
 * shell figures, --allow-run (skipped with a note otherwise).
 *
 * @module
 */
import { join } from "node:path";
import { medianMs, opsPerSecond, type Reporter } from "./harness.ts";
import { LocalExecutionEnvironment } from "../agent/env/local.ts";
import { ConfinedEnvironment } from "../agent/env/confined.ts";
import { usableBwrap } from "../agent/env/bwrap.ts";

/**
 * Median operations per second of each variant, calls interleaved round by
 * round after `warmup` untimed rounds.
 */
async function interleavedOpsPerSecond(
  rounds: number,
  warmup: number,
  variants: Record<string, () => Promise<unknown>>,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const start = performance.now();
      await fn();
      if (round >= warmup) (times[name] ??= []).push(performance.now() - start);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    out[name] = 1000 / list[list.length >> 1];
  }
  return out;
}

async function makeTree(dir: string, files: number): Promise<void> {
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${i % 10}`);
    await Deno.mkdir(sub, { recursive: true });
    const lines = Array.from(
      { length: 100 },
      (_, j) => `line ${j} of file ${i}${j === 50 ? " needle" : ""}`,
    );
    await Deno.writeTextFile(join(sub, `f${i}.ts`), lines.join("\n") + "\n");
  }
}

/** Runs the tool benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-bench-tools-" }));
  const local = new LocalExecutionEnvironment({ workingDirectory: dir });
  const confined = new ConfinedEnvironment({
    workspace: dir,
    sandbox: "none",
    unconfinedShell: true,
  });
  try {
    await local.initialize();
    await confined.initialize();
    await makeTree(dir, 200);
    const file = "d3/f3.ts";

    // Reads are interleaved call by call and compared by median: on a shared
    // machine a cross-process round trip waits for a CPU, and interleaving
    // puts every variant under the same load. Each variant is warmed first
    // (the file server is a fresh process whose code starts cold).
    const boxed = (await usableBwrap())
      ? new ConfinedEnvironment({ workspace: dir, sandbox: "bwrap" })
      : undefined;
    await boxed?.initialize();
    const window = { offset: 1, limit: 2000 };
    const variants: Record<string, () => Promise<unknown>> = {
      raw: () => Deno.readTextFile(join(dir, file)),
      local: () => local.readFile(file, window),
      worker: () => confined.readFile(file, window),
      ...(boxed ? { sandbox: () => boxed.readFile(file, window) } : {}),
    };
    const reads = await interleavedOpsPerSecond(2000, 300, variants);
    await boxed?.close();
    reporter.report(
      "readFile local vs Deno.readTextFile",
      reads.local,
      reads.raw,
      "ops/s",
      ">= 0.35",
      "100-line file, windowed: stat + binary sniff + line split cost about as much as the read",
    );
    reporter.report(
      "readFile confined, no OS sandbox (Deno worker) vs local",
      reads.worker,
      reads.local,
      "ops/s",
      ">= 0.3",
      "worker round trip + real-path check per call",
    );
    if (reads.sandbox !== undefined) {
      reporter.report(
        "readFile in the bwrap file server vs local",
        reads.sandbox,
        reads.local,
        "ops/s",
        ">= 0.3",
        "one long-lived sandboxed Deno process per session; a JSON line each way over stdio",
      );
    } else {
      console.log("  (sandboxed read figure skipped: bubblewrap not usable here)");
    }

    const w = 100;
    const rawWrite = await opsPerSecond(w, async (i) => {
      using f = await Deno.open(join(dir, `raw${i}.txt`), {
        write: true,
        create: true,
        truncate: true,
      });
      await f.write(new TextEncoder().encode("x".repeat(4096)));
      await f.syncData();
    });
    const localWrite = await opsPerSecond(w, (i) => local.writeFile(`w${i}.txt`, "x".repeat(4096)));
    const confinedWrite = await opsPerSecond(
      w,
      (i) => confined.writeFile(`c${i}.txt`, "x".repeat(4096)),
    );
    reporter.report(
      "writeFile local (atomic) vs open+write+fsync",
      localWrite,
      rawWrite,
      "ops/s",
      ">= 0.5",
      "temp file + fsync + rename + directory fsync vs plain fsync",
    );
    reporter.report("writeFile confined vs local", confinedWrite, localWrite, "ops/s", ">= 0.5");

    const grepLocal = await medianMs(5, () => local.grep("needle", ".", { maxResults: 1000 }));
    const grepConfined = await medianMs(
      5,
      () => confined.grep("needle", ".", { maxResults: 1000 }),
    );
    reporter.report(
      "grep 200 files confined vs local",
      grepConfined,
      grepLocal,
      "ms",
      "<= 1.5",
      "one worker round trip per search",
    );

    const canRun = (await Deno.permissions.query({ name: "run" })).state === "granted";
    if (!canRun) {
      console.log("  (shell figures skipped: no --allow-run)");
      return;
    }
    // The spec requires commands to go through the shell, so the baseline is
    // a bare `bash -c`; the variants are interleaved like the reads.
    const shellBox = (await usableBwrap())
      ? new ConfinedEnvironment({ workspace: dir, sandbox: "bwrap" })
      : undefined;
    await shellBox?.initialize();
    const run = { command: "true", timeoutMs: 10_000 };
    const spawns = await interleavedOpsPerSecond(40, 5, {
      bare: () => new Deno.Command("/bin/bash", { args: ["-c", "true"] }).output(),
      local: () => local.execCommand(run),
      confined: () => confined.execCommand(run),
      ...(shellBox ? { bwrap: () => shellBox.execCommand(run) } : {}),
    });
    await shellBox?.close();
    const ms = (name: string) => 1000 / spawns[name];
    reporter.report(
      "execCommand local vs bare bash -c spawn",
      ms("local"),
      ms("bare"),
      "ms",
      "<= 2.5",
      "setsid(1) for the process group (not detached: true, which forks the agent), pumps, timers",
    );
    reporter.report(
      "execCommand confined (no bwrap, unconfinedShell) vs local",
      ms("confined"),
      ms("local"),
      "ms",
      "<= 1.5",
      "command-text filter + ulimit prologue",
    );
    if (spawns.bwrap !== undefined) {
      reporter.report(
        "execCommand in bwrap vs bare bash -c spawn",
        ms("bwrap"),
        ms("bare"),
        "ms",
        "<= 10",
        "a bwrap per command: namespaces + mounts, so its processes die with the call",
      );
    } else {
      console.log("  (bwrap figure skipped: bubblewrap not usable here)");
    }
  } finally {
    await confined.close();
    await local.close();
    await Deno.remove(dir, { recursive: true });
  }
}
