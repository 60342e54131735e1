import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalExecutionEnvironment } from "./local.ts";
import { EnvError } from "./types.ts";
import { filterEnvVars } from "./env_vars.ts";

async function workspace() {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-local-" }));
  const env = new LocalExecutionEnvironment({ workingDirectory: dir });
  await env.initialize();
  return {
    dir,
    env,
    async [Symbol.asyncDispose]() {
      await env.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("local: listDirectory lists to the requested depth, sorted, with file sizes", async () => {
  await using ws = await workspace();
  await Deno.mkdir(join(ws.dir, "b/c"), { recursive: true });
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "abc");
  await Deno.writeTextFile(join(ws.dir, "b/c/d.txt"), "d");
  assert.deepEqual(await ws.env.listDirectory(".", 1), [
    { name: "a.txt", isDir: false, size: 3 },
    { name: "b", isDir: true },
  ]);
  assert.deepEqual((await ws.env.listDirectory(".", 3)).map((e) => e.name), [
    "a.txt",
    "b",
    "b/c",
    "b/c/d.txt",
  ]);
  await assert.rejects(ws.env.listDirectory(".", 0), /depth must be an integer >= 1/);
});

Deno.test("local: readFile windows lines and reports totals; no window returns the text verbatim", async () => {
  await using ws = await workspace();
  await Deno.writeTextFile(join(ws.dir, "f.txt"), "1\r\n2\r\n3\r\n");
  const whole = await ws.env.readFile("f.txt");
  assert.deepEqual(whole.kind === "text" && [whole.text, whole.totalLines], ["1\r\n2\r\n3\r\n", 3]);
  const window = await ws.env.readFile("f.txt", { offset: 2, limit: 5 });
  assert.deepEqual(
    window.kind === "text" && [window.text, window.startLine, window.lineCount, window.totalLines],
    ["2\n3", 2, 2, 3],
  );
  await assert.rejects(ws.env.readFile("f.txt", { offset: 0 }), /offset must be an integer >= 1/);
});

Deno.test("local: fileExists is false for a missing path and true for files and directories", async () => {
  await using ws = await workspace();
  assert.equal(await ws.env.fileExists("missing"), false);
  await Deno.writeTextFile(join(ws.dir, "f"), "");
  assert.equal(await ws.env.fileExists("f"), true);
  assert.equal(await ws.env.fileExists("."), true);
});

Deno.test("local: execCommand honours workingDir and extra env, and refuses a missing directory", async () => {
  await using ws = await workspace();
  await Deno.mkdir(join(ws.dir, "sub"));
  const r = await ws.env.execCommand({
    command: "pwd; echo $EXTRA",
    timeoutMs: 5000,
    workingDir: "sub",
    env: { EXTRA: "yes" },
  });
  assert.equal(r.stdout, `${join(ws.dir, "sub")}\nyes\n`);
  assert.equal(r.timedOut, false);
  assert.ok(r.durationMs >= 0);
  const error = await ws.env.execCommand({ command: "true", timeoutMs: 5000, workingDir: "nope" })
    .catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "NotFound");
});

Deno.test("local: a closed environment refuses every call with code Closed", async () => {
  await using ws = await workspace();
  await ws.env.close();
  for (const call of [ws.env.readFile("x"), ws.env.writeFile("x", ""), ws.env.glob("*")]) {
    await assert.rejects(call, (e: unknown) => e instanceof EnvError && e.code === "Closed");
  }
});

Deno.test("local: initialize fails for a missing working directory", async () => {
  const env = new LocalExecutionEnvironment({ workingDirectory: "/nonexistent/forge" });
  const error = await env.initialize().catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "NotFound");
});

Deno.test("local: metadata names the platform and OS version", async () => {
  await using ws = await workspace();
  assert.equal(ws.env.platform(), Deno.build.os);
  assert.notEqual(ws.env.osVersion(), "");
  assert.equal(ws.env.workingDirectory(), ws.dir);
});

Deno.test("env vars: the default policy drops secret-looking names and keeps core ones", () => {
  const source = {
    PATH: "/bin",
    HOME: "/h",
    OPENAI_API_KEY: "k",
    GH_TOKEN: "t",
    db_password: "p",
    AWS_SECRET: "s",
    GCP_CREDENTIALS: "c",
    EDITOR: "vi",
  };
  assert.deepEqual(filterEnvVars(source), { PATH: "/bin", HOME: "/h", EDITOR: "vi" });
  assert.deepEqual(filterEnvVars(source, "core_only"), { PATH: "/bin", HOME: "/h" });
  assert.deepEqual(filterEnvVars(source, "none"), {});
  assert.deepEqual(filterEnvVars(source, "inherit_all"), source);
});

Deno.test("local: reading a FIFO is refused instead of blocking", async () => {
  await using ws = await workspace();
  const mk = await new Deno.Command("mkfifo", { args: [join(ws.dir, "pipe")] }).output();
  assert.ok(mk.success);
  const error = await ws.env.readFile("pipe").catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "InvalidArgument");
  assert.match(error.message, /pipe is not a regular file/);
});
