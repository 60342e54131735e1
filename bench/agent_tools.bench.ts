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

    const n = 500;
    const raw = await opsPerSecond(n, () => Deno.readTextFile(join(dir, file)));
    const viaLocal = await opsPerSecond(n, () => local.readFile(file, { offset: 1, limit: 2000 }));
    const viaConfined = await opsPerSecond(
      n,
      () => confined.readFile(file, { offset: 1, limit: 2000 }),
    );
    reporter.report(
      "readFile local vs Deno.readTextFile",
      viaLocal,
      raw,
      "ops/s",
      ">= 0.35",
      "100-line file, windowed: stat + binary sniff + line split cost about as much as the read",
    );
    reporter.report(
      "readFile confined vs local",
      viaConfined,
      viaLocal,
      "ops/s",
      ">= 0.3",
      "worker round trip + real-path check per call",
    );

    if (await usableBwrap()) {
      const boxed = new ConfinedEnvironment({ workspace: dir, sandbox: "bwrap" });
      try {
        await boxed.initialize();
        const viaSandbox = await opsPerSecond(
          n,
          () => boxed.readFile(file, { offset: 1, limit: 2000 }),
        );
        reporter.report(
          "readFile in the bwrap file server vs local",
          viaSandbox,
          viaLocal,
          "ops/s",
          ">= 0.3",
          "one long-lived sandboxed Deno process per session; a JSON line each way over stdio",
        );
      } finally {
        await boxed.close();
      }
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
    // The spec requires commands to go through the shell, so the baseline is a bare `bash -c`.
    const rawSpawn = await medianMs(
      20,
      () => new Deno.Command("/bin/bash", { args: ["-c", "true"] }).output(),
    );
    const localExec = await medianMs(
      20,
      () => local.execCommand({ command: "true", timeoutMs: 10_000 }),
    );
    reporter.report(
      "execCommand local vs bare bash -c spawn",
      localExec,
      rawSpawn,
      "ms",
      "<= 2.5",
      "fixed cost: stream pumps, timeout timer, group cleanup after exit",
    );
    const confinedExec = await medianMs(
      20,
      () => confined.execCommand({ command: "true", timeoutMs: 10_000 }),
    );
    reporter.report(
      "execCommand confined (no bwrap, unconfinedShell) vs local",
      confinedExec,
      localExec,
      "ms",
      "<= 1.5",
      "command-text filter + ulimit prologue",
    );
    if (await usableBwrap()) {
      const boxed = new ConfinedEnvironment({ workspace: dir, sandbox: "bwrap" });
      try {
        await boxed.initialize();
        const bwrapExec = await medianMs(
          20,
          () => boxed.execCommand({ command: "true", timeoutMs: 10_000 }),
        );
        reporter.report(
          "execCommand in bwrap vs bare bash -c spawn",
          bwrapExec,
          rawSpawn,
          "ms",
          "<= 10",
          "a bwrap per command: namespaces + mounts, so its processes die with the call",
        );
      } finally {
        await boxed.close();
      }
    } else {
      console.log("  (bwrap figure skipped: bubblewrap not usable here)");
    }
  } finally {
    await confined.close();
    await local.close();
    await Deno.remove(dir, { recursive: true });
  }
}
