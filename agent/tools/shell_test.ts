import assert from "node:assert/strict";
import { join } from "node:path";
import { shellTool } from "./shell.ts";
import { call, tempWorkspace } from "./test_util.ts";

/**
 * Whether a pid names a live (not zombie) process. Asks `ps`, because Deno
 * lets only --allow-all read /proc/<pid>.
 */
async function alive(pid: number): Promise<boolean> {
  const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] }).output();
  const state = new TextDecoder().decode(out.stdout).trim();
  return state !== "" && !state.startsWith("Z");
}

/** Waits up to a second for `pid` to die; returns whether it is still alive. */
async function survives(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (!(await alive(pid))) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

Deno.test("test helper: alive() sees a running process and not a finished one", async () => {
  const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
  assert.equal(await alive(child.pid), true);
  child.kill("SIGKILL");
  await child.status;
  assert.equal(await alive(child.pid), false);
});

Deno.test("shell captures stdout, stderr and the exit code", async () => {
  await using ws = await tempWorkspace();
  const r = await call(shellTool(), ws.env, { command: "echo out; echo err >&2; exit 3" });
  assert.equal(r.isError, true, "a non-zero exit is an error result");
  assert.match(r.content, /^out\n\[stderr\]\nerr\n\[exit code 3, \d+ ms\]$/);
});

Deno.test("shell runs in the working directory and succeeds with exit code 0", async () => {
  await using ws = await tempWorkspace();
  const r = await call(shellTool(), ws.env, { command: "pwd" });
  assert.equal(r.isError, false);
  assert.match(r.content, new RegExp(`^${ws.dir}\\n\\[exit code 0`));
});

Deno.test("shell timeout kills the whole process group, grandchildren included", async () => {
  await using ws = await tempWorkspace();
  const pidFile = join(ws.dir, "pid");
  const started = performance.now();
  const r = await call(shellTool(), ws.env, {
    command: `sleep 30 & echo $! > ${pidFile}; bash -c 'sleep 31 & wait' & echo started; wait`,
    timeout_ms: 300,
  });
  const elapsed = performance.now() - started;
  assert.equal(r.isError, true);
  assert.match(r.content, /started/);
  assert.match(
    r.content,
    /\[ERROR: Command timed out after 300ms\. Partial output is shown above\./,
  );
  assert.ok(elapsed < 5000, `returned after ${elapsed} ms`);
  const grandchild = Number(await Deno.readTextFile(pidFile));
  assert.ok(grandchild > 0);
  assert.equal(
    await survives(grandchild),
    false,
    `grandchild sleep ${grandchild} survived the timeout`,
  );
});

Deno.test("shell: background jobs do not outlive a command that exits", async () => {
  await using ws = await tempWorkspace();
  const r = await call(shellTool(), ws.env, { command: "sleep 30 & echo $!" });
  const pid = Number(r.content.split("\n")[0]);
  assert.ok(pid > 0);
  assert.equal(await survives(pid), false, `background sleep ${pid} outlived its command`);
});

Deno.test("shell: SIGTERM is ignored, SIGKILL follows after the grace period", async () => {
  await using ws = await tempWorkspace(); // grace 300 ms
  const started = performance.now();
  const r = await call(shellTool(), ws.env, {
    command: "trap '' TERM; echo ready; while true; do sleep 0.05; done",
    timeout_ms: 200,
  });
  const elapsed = performance.now() - started;
  assert.match(r.content, /ready/);
  assert.match(r.content, /timed out/);
  assert.ok(elapsed >= 450, `SIGKILL came only after the grace period (${elapsed} ms)`);
});

Deno.test("shell: timeout_ms above the maximum is capped and the cap is reported", async () => {
  await using ws = await tempWorkspace();
  const r = await call(shellTool(), ws.env, { command: "true", timeout_ms: 50_000 }, {
    maxCommandTimeoutMs: 1000,
  });
  assert.match(r.content, /timeout_ms 50000 exceeds the maximum; 1000 ms was used/);
});

Deno.test("shell: the default timeout comes from the settings when the call sets none", async () => {
  await using ws = await tempWorkspace();
  const r = await call(shellTool(), ws.env, { command: "sleep 5" }, {
    defaultCommandTimeoutMs: 150,
  });
  assert.match(r.content, /timed out after 150ms/);
});

Deno.test("shell: secrets are filtered from the command environment", async () => {
  await using ws = await tempWorkspace();
  Deno.env.set("FORGE_TEST_API_KEY", "sk-should-not-leak");
  Deno.env.set("FORGE_TEST_VISIBLE", "visible");
  try {
    const r = await call(shellTool(), ws.env, { command: "env" });
    assert.doesNotMatch(r.content, /sk-should-not-leak/);
    assert.match(r.content, /FORGE_TEST_VISIBLE=visible/);
  } finally {
    Deno.env.delete("FORGE_TEST_API_KEY");
    Deno.env.delete("FORGE_TEST_VISIBLE");
  }
});

Deno.test("shell: cancelling the call kills the command and reports it", async () => {
  await using ws = await tempWorkspace();
  const controller = new AbortController();
  const { DefaultToolRegistry } = await import("./registry.ts");
  const registry = new DefaultToolRegistry([shellTool()]);
  setTimeout(() => controller.abort(), 100);
  const started = performance.now();
  const r = await registry.execute({ name: "shell", arguments: { command: "sleep 20" } }, {
    env: ws.env,
    signal: controller.signal,
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /^Aborted: .*cancelled/);
  assert.ok(performance.now() - started < 5000);
});
