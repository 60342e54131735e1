import assert from "node:assert/strict";
import { runProcess } from "./process.ts";
import { EnvError } from "./types.ts";

const base = {
  program: "/bin/bash",
  cwd: "/tmp",
  env: { PATH: "/usr/bin:/bin" },
  timeoutMs: 10_000,
};

Deno.test("runProcess: output over the limit keeps its first and last halves and says so", async () => {
  const result = await runProcess({
    ...base,
    args: ["-c", "printf 'HEAD'; head -c 100000 /dev/zero | tr '\\0' m; printf 'TAIL'"],
    maxOutputBytes: 1000,
  });
  assert.ok(result.stdout.startsWith("HEAD"));
  assert.ok(result.stdout.endsWith("TAIL"));
  assert.match(result.stdout, /\[… 99008 bytes of output dropped here/);
  assert.ok(result.stdout.length < 1200, `kept ${result.stdout.length}`);
  assert.deepEqual(result.limitsHit?.map((hit) => hit.kind), ["output"]);
  assert.match(
    result.limitsHit![0].message,
    /stdout was 100008 bytes, over the 1000-byte output limit/,
  );
});

Deno.test("runProcess: output is streamed while the command runs", async () => {
  const chunks: string[] = [];
  let sawFirstBeforeExit = false;
  const result = await runProcess({
    ...base,
    args: ["-c", "echo one; sleep 0.3; echo two >&2"],
    onOutput: (chunk) => {
      chunks.push(`${chunk.stream}:${chunk.text}`);
      if (chunk.text === "one\n") sawFirstBeforeExit = true;
    },
  });
  assert.deepEqual(chunks, ["stdout:one\n", "stderr:two\n"]);
  assert.ok(sawFirstBeforeExit);
  assert.equal(result.stdout, "one\n");
});

Deno.test("runProcess: a timeout kills the whole process group, background jobs included", async () => {
  const marker = `forge-proc-${crypto.randomUUID().slice(0, 8)}`;
  const result = await runProcess({
    ...base,
    args: ["-c", `sleep 30 & exec -a ${marker} sleep 30`],
    timeoutMs: 300,
    killGraceMs: 100,
  });
  assert.equal(result.timedOut, true);
  assert.equal(result.limitsHit?.[0].kind, "time");
  const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  assert.equal(new TextDecoder().decode(ps.stdout).trim(), "");
});

Deno.test("runProcess: cancellation is an Aborted error carrying the partial output", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const error = await runProcess({
    ...base,
    args: ["-c", "echo partial; sleep 30"],
    signal: controller.signal,
    killGraceMs: 100,
  }).catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "Aborted");
  assert.match(error.message, /partial/);
});

Deno.test("runProcess: a program that does not exist is NotFound", async () => {
  const error = await runProcess({ ...base, program: "/nonexistent/prog", args: [] }).catch((e) =>
    e
  );
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "NotFound");
});

Deno.test("runProcess: stdin bytes reach the program, and one that does not read them is no error", async () => {
  const input = new TextEncoder().encode("line one\nline two\n");
  const read = await runProcess({ ...base, args: ["-c", "wc -l; cat >&2"], stdin: input });
  assert.equal(read.stdout.trim(), "2");
  assert.equal(read.stderr, "", "wc read all of stdin");
  const echoed = await runProcess({ ...base, args: ["-c", "cat"], stdin: input });
  assert.equal(echoed.stdout, "line one\nline two\n");
  // 4 MiB into a program that exits at once: the write fails with a closed pipe.
  const ignored = await runProcess({
    ...base,
    args: ["-c", "exit 7"],
    stdin: new Uint8Array(4 * 1024 * 1024),
  });
  assert.equal(ignored.exitCode, 7);
  const none = await runProcess({ ...base, args: ["-c", "cat; echo end"] });
  assert.equal(none.stdout, "end\n", "without stdin bytes the program reads /dev/null");
});
