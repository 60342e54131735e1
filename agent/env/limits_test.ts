import assert from "node:assert/strict";
import { DEFAULT_EXEC_LIMITS, osLimitsHit, resolveLimits, ulimitPrologue } from "./limits.ts";

Deno.test("limits: defaults fill in, and a limit that is not a positive integer is refused", () => {
  assert.deepEqual(resolveLimits(), DEFAULT_EXEC_LIMITS);
  assert.equal(resolveLimits({ maxFileBytes: 10 }).maxFileBytes, 10);
  assert.throws(
    () => resolveLimits({ maxProcesses: 0 }),
    /maxProcesses must be a positive integer/,
  );
  assert.throws(() => resolveLimits({ maxMemoryBytes: 1.5 }), /maxMemoryBytes/);
});

Deno.test("limits: the prologue sets each limit hard and soft, in KiB where bash counts KiB", () => {
  const text = ulimitPrologue(
    resolveLimits({ maxFileBytes: 2048, maxProcesses: 7, maxMemoryBytes: 1 << 30 }),
  );
  assert.match(text, /ulimit -HSf 2 /);
  assert.match(text, /ulimit -HSu 7 /);
  assert.match(text, /ulimit -HSv 1048576 /);
  assert.ok(text.endsWith("\n"), "the command starts on a line of its own");
});

Deno.test("limits: the prologue really limits a bash command, which cannot raise it again", async () => {
  const limits = resolveLimits({ maxFileBytes: 4096 });
  const out = await new Deno.Command("/bin/bash", {
    args: ["-c", ulimitPrologue(limits) + "ulimit -f; ulimit -f unlimited 2>&1; ulimit -f"],
    env: { LANG: "C" },
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(lines[0], "4");
  if (Deno.uid() !== 0) assert.equal(lines.at(-1), "4");
});

Deno.test("limits: hits are recognised from the exit status and the messages programs print", () => {
  const limits = resolveLimits();
  assert.deepEqual(osLimitsHit(limits, 0, ""), []);
  assert.equal(osLimitsHit(limits, 153, "")[0].kind, "file_size");
  assert.equal(
    osLimitsHit(limits, 1, "bash: fork: retry: Resource temporarily unavailable")[0].kind,
    "processes",
  );
  assert.equal(osLimitsHit(limits, 1, "python: Cannot allocate memory")[0].kind, "memory");
  assert.match(osLimitsHit(limits, 153, "")[0].message, /268435456 bytes/);
});
