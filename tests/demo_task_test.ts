/**
 * `deno task demo` is the README's one command for the main job, and it runs
 * with narrow permissions of its own. The in-process demo test runs with the
 * test suite's wider ones, so this one starts the demo exactly as the task
 * does: the flags are read from deno.json, only the working directory (and
 * so the `.forge` it may write) is a fresh one.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname!, "..") + "/";

Deno.test("deno task demo, with the task's own permissions, runs the demo pipeline to success", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const words = (config.tasks.demo as string).split(/\s+/);
  assert.equal(words[0], "deno");
  const script = words.at(-1)!;
  assert.equal(script, "./cli/demo.ts");
  const args = [...words.slice(1, -1), `${root}cli/demo.ts`];
  const cwd = await Deno.makeTempDir({ prefix: "forge-demo-task-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /pipeline Demo · succeeded \(success\)/);
    assert.doesNotMatch(text, /Requires .* access/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
