// The confined environment behaves like the local one inside the workspace.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfinedEnvironment } from "./confined.ts";
import { EnvError } from "./types.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { coreTools } from "../tools/core.ts";

async function workspace() {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-confined-" }));
  const env = new ConfinedEnvironment({ workspace: dir, sandbox: "none", unconfinedShell: true });
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

Deno.test("confined tools: write, read, edit, patch, grep, glob and shell work inside the workspace", async () => {
  await using ws = await workspace();
  const registry = new DefaultToolRegistry(coreTools({ applyPatch: true }));
  const ctx = { env: ws.env, signal: new AbortController().signal };
  const run = async (name: string, args: Record<string, unknown>) => {
    const r = await registry.execute({ name, arguments: args }, ctx);
    assert.equal(r.isError, false, `${name}: ${r.content}`);
    return r.content;
  };
  await run("write_file", { file_path: "src/a.ts", content: "const a = 1;\n" });
  await run("edit_file", { file_path: "src/a.ts", old_string: "1", new_string: "2" });
  await run("apply_patch", {
    patch:
      "*** Begin Patch\n*** Update File: src/a.ts\n@@\n-const a = 2;\n+const a = 3;\n*** End Patch",
  });
  assert.equal(await run("read_file", { file_path: "src/a.ts" }), "1 | const a = 3;");
  assert.equal(await run("grep", { pattern: "a = 3" }), "src/a.ts:1:const a = 3;");
  assert.equal(await run("glob", { pattern: "**/*.ts" }), "src/a.ts");
  assert.match(await run("shell", { command: "cat src/a.ts" }), /^const a = 3;\n\[exit code 0/);
  assert.equal(await Deno.readTextFile(join(ws.dir, "src/a.ts")), "const a = 3;\n");
});

Deno.test("confined: a working directory inside the workspace is honoured", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-confined-" }));
  await Deno.mkdir(join(dir, "sub"));
  await using env = new ConfinedEnvironment({
    workspace: dir,
    workingDirectory: "sub",
    sandbox: "none",
    unconfinedShell: true,
  });
  try {
    await env.initialize();
    assert.equal(env.workingDirectory(), join(dir, "sub"));
    await env.writeFile("x.txt", "x");
    assert.equal(await Deno.readTextFile(join(dir, "sub/x.txt")), "x");
    assert.equal(
      (await env.execCommand({ command: "pwd", timeoutMs: 5000 })).stdout,
      `${join(dir, "sub")}\n`,
    );
    // ".." from sub is still inside the workspace.
    assert.equal(await env.fileExists("../sub/x.txt"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("confined: calls after close fail with code Closed", async () => {
  await using ws = await workspace();
  await ws.env.close();
  const error = await ws.env.readFile("x").catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "Closed");
});

Deno.test("confined: a call cancelled through its signal rejects with Aborted", async () => {
  await using ws = await workspace();
  const controller = new AbortController();
  controller.abort();
  const error = await ws.env.readFile("x", { signal: controller.signal }).catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "Aborted");
});

Deno.test("confined: a missing workspace is a NotFound error at initialize", async () => {
  const env = new ConfinedEnvironment({ workspace: "/nonexistent/forge-ws", sandbox: "none" });
  const error = await env.initialize().catch((e) => e);
  assert.ok(error instanceof EnvError);
  assert.equal(error.code, "NotFound");
  await env.close();
});

Deno.test("confined: concurrent calls are answered independently", async () => {
  await using ws = await workspace();
  await Promise.all(Array.from({ length: 20 }, (_, i) => ws.env.writeFile(`f${i}.txt`, String(i))));
  const reads = await Promise.all(
    Array.from({ length: 20 }, (_, i) => ws.env.readFile(`f${i}.txt`)),
  );
  assert.deepEqual(
    reads.map((r) => r.kind === "text" ? r.text : ""),
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
});

Deno.test("confined: execCommand before initialize or after close fails with code Closed", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const env = new ConfinedEnvironment({ workspace: dir, sandbox: "none", unconfinedShell: true });
    const before = await env.execCommand({ command: "ls", timeoutMs: 1000 }).catch((e) => e);
    assert.ok(before instanceof EnvError && before.code === "Closed", String(before));
    await env.initialize();
    await env.close();
    const after = await env.execCommand({ command: "ls", timeoutMs: 1000 }).catch((e) => e);
    assert.ok(after instanceof EnvError && after.code === "Closed", String(after));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("confined: a hung operation times out and the worker is replaced, later calls work", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  await Deno.writeTextFile(join(dir, "evil.txt"), "a".repeat(40) + "!\n");
  await using env = new ConfinedEnvironment({
    workspace: dir,
    sandbox: "none",
    operationTimeoutMs: 300,
  });
  try {
    await env.initialize();
    // Catastrophic backtracking: the worker's thread is stuck in the regex engine.
    const hung = await env.grep("^(a+)+$", ".").catch((e) => e);
    assert.ok(hung instanceof EnvError, String(hung));
    assert.equal(hung.code, "Timeout");
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(env.restarts, 1);
    const file = await env.readFile("evil.txt", { offset: 1, limit: 1 });
    assert.equal(file.kind === "text" && file.text, "a".repeat(40) + "!");
    assert.deepEqual(Object.values(await env.selfCheck()), [
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("confined: a workspace named through a link accepts absolute paths under that name", async () => {
  const parent = await Deno.realPath(await Deno.makeTempDir());
  await Deno.mkdir(join(parent, "real"));
  await Deno.symlink(join(parent, "real"), join(parent, "named"));
  await using env = new ConfinedEnvironment({ workspace: join(parent, "named"), sandbox: "none" });
  try {
    await env.initialize();
    await env.writeFile(join(parent, "named", "a.txt"), "via alias");
    assert.equal(await Deno.readTextFile(join(parent, "real", "a.txt")), "via alias");
    const outside = await env.readFile(join(parent, "named", "..", "x")).catch((e) => e);
    assert.ok(outside instanceof EnvError && outside.code === "PermissionDenied");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
