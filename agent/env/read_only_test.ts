import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalExecutionEnvironment } from "./local.ts";
import { ReadOnlyExecutionEnvironment } from "./read_only.ts";
import { EnvError } from "./types.ts";

Deno.test("read-only environment: reads pass through, writes and commands are refused", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  await Deno.writeTextFile(join(dir, "a.txt"), "keep\n");
  await using env = new ReadOnlyExecutionEnvironment(
    new LocalExecutionEnvironment({ workingDirectory: dir }),
  );
  try {
    const file = await env.readFile("a.txt");
    assert.equal(file.kind === "text" && file.text, "keep\n");
    assert.deepEqual(await env.glob("*.txt"), [join(dir, "a.txt")]);
    for (
      const attempt of [
        env.writeFile("a.txt", "x"),
        env.deleteFile("a.txt"),
        env.moveFile("a.txt", "b.txt"),
        env.execCommand({ command: "rm a.txt", timeoutMs: 1000 }),
      ]
    ) {
      const error = await attempt.catch((e) => e);
      assert.ok(error instanceof EnvError && error.code === "PermissionDenied", String(error));
      assert.match(error.message, /read-only/);
    }
    assert.equal(await Deno.readTextFile(join(dir, "a.txt")), "keep\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
