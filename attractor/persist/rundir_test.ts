import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic } from "./rundir.ts";

Deno.test("writeFileAtomic: the new text replaces the old, and no sibling is left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    const path = join(dir, "checkpoint.json");
    await Deno.writeTextFile(path, "old\n");
    await writeFileAtomic(path, "new\n");
    assert.equal(await Deno.readTextFile(path), "new\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["checkpoint.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: a file that cannot be opened throws and leaves nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    await assert.rejects(
      writeFileAtomic(join(dir, "missing", "checkpoint.json"), "x"),
      Deno.errors.NotFound,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: a rename that fails leaves what was there and removes the written sibling", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    // A non-empty directory where the file should go: the sibling is written, the rename fails.
    const path = join(dir, "manifest.json");
    await Deno.mkdir(path);
    await Deno.writeTextFile(join(path, "keep"), "mine\n");
    await assert.rejects(writeFileAtomic(path, "new\n"));
    assert.equal(await Deno.readTextFile(join(path, "keep")), "mine\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["manifest.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
