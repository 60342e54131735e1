import assert from "node:assert/strict";
import { join } from "node:path";
import { grepTool } from "./grep.ts";
import { globTool } from "./glob.ts";
import { call, tempWorkspace } from "./test_util.ts";

async function tree(dir: string): Promise<void> {
  await Deno.mkdir(join(dir, "src/deep"), { recursive: true });
  await Deno.mkdir(join(dir, ".git"));
  await Deno.writeTextFile(join(dir, "src/a.ts"), "export const Alpha = 1;\nconst beta = 2;\n");
  await Deno.writeTextFile(join(dir, "src/deep/b.ts"), "// alpha here\n");
  await Deno.writeTextFile(join(dir, "notes.md"), "alpha in markdown\n");
  await Deno.writeTextFile(join(dir, ".git/config"), "alpha in git\n");
  await Deno.writeFile(join(dir, "bin.dat"), new Uint8Array([0x61, 0x6c, 0x70, 0x68, 0x61, 0]));
}

Deno.test("grep finds matching lines as path:line:text, skipping .git and binaries", async () => {
  await using ws = await tempWorkspace();
  await tree(ws.dir);
  const r = await call(grepTool(), ws.env, { pattern: "alpha" });
  assert.equal(r.isError, false);
  assert.deepEqual(r.content.split("\n").sort(), [
    "notes.md:1:alpha in markdown",
    "src/deep/b.ts:1:// alpha here",
  ]);
});

Deno.test("grep honours case_insensitive, glob_filter and path", async () => {
  await using ws = await tempWorkspace();
  await tree(ws.dir);
  const r = await call(grepTool(), ws.env, {
    pattern: "alpha",
    case_insensitive: true,
    glob_filter: "*.ts",
  });
  assert.deepEqual(r.content.split("\n").sort(), [
    "src/a.ts:1:export const Alpha = 1;",
    "src/deep/b.ts:1:// alpha here",
  ]);
  const scoped = await call(grepTool(), ws.env, { pattern: "beta", path: "src" });
  assert.equal(scoped.content, "src/a.ts:2:const beta = 2;");
  const byPath = await call(grepTool(), ws.env, { pattern: "alpha", glob_filter: "src/deep/*.ts" });
  assert.equal(byPath.content, "src/deep/b.ts:1:// alpha here");
});

Deno.test("grep stops at max_results and says so", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "many.txt"), "hit\n".repeat(10));
  const r = await call(grepTool(), ws.env, { pattern: "hit", max_results: 3 });
  const lines = r.content.split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[3], /Stopped at max_results=3/);
});

Deno.test("grep reports an invalid regex as an InvalidArgument error", async () => {
  await using ws = await tempWorkspace();
  const r = await call(grepTool(), ws.env, { pattern: "(unclosed" });
  assert.equal(r.isError, true);
  assert.match(r.content, /^InvalidArgument: invalid regular expression "\(unclosed"/);
});

Deno.test("grep on a missing path is a NotFound error", async () => {
  await using ws = await tempWorkspace();
  const r = await call(grepTool(), ws.env, { pattern: "x", path: "nowhere" });
  assert.equal(r.isError, true);
  assert.match(r.content, /^NotFound: not found: nowhere/);
});

Deno.test("glob matches by name at any depth and by relative path, newest first", async () => {
  await using ws = await tempWorkspace();
  await tree(ws.dir);
  await Deno.utime(join(ws.dir, "src/a.ts"), new Date(1_000_000), new Date(1_000_000));
  await Deno.utime(join(ws.dir, "src/deep/b.ts"), new Date(2_000_000), new Date(2_000_000));
  const byName = await call(globTool(), ws.env, { pattern: "*.ts" });
  assert.equal(byName.content, "src/deep/b.ts\nsrc/a.ts");
  await Deno.utime(join(ws.dir, "src/a.ts"), new Date(3_000_000), new Date(3_000_000));
  const byPath = await call(globTool(), ws.env, { pattern: "src/**/*.ts" });
  assert.equal(byPath.content, "src/a.ts\nsrc/deep/b.ts");
  const scoped = await call(globTool(), ws.env, { pattern: "*.ts", path: "src/deep" });
  assert.equal(scoped.content, "src/deep/b.ts");
});

Deno.test("glob with no match says so, and a missing base path is NotFound", async () => {
  await using ws = await tempWorkspace();
  const none = await call(globTool(), ws.env, { pattern: "*.rs" });
  assert.equal(none.isError, false);
  assert.equal(none.content, "No files match *.rs.");
  const missing = await call(globTool(), ws.env, { pattern: "*", path: "nope" });
  assert.equal(missing.isError, true);
  assert.match(missing.content, /^NotFound/);
});
