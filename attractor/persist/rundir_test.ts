import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic } from "./rundir.ts";

Deno.test("writeFileAtomic: whileSyncing runs once, after the text is written and before the rename", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    const path = join(dir, "checkpoint.json");
    await Deno.writeTextFile(path, "old\n");
    const seen: { target: string; siblings: string[] }[] = [];
    await writeFileAtomic(path, "new\n", {
      whileSyncing: () => {
        const siblings: string[] = [];
        for (const e of Deno.readDirSync(dir)) if (e.name.endsWith(".tmp")) siblings.push(e.name);
        seen.push({ target: Deno.readTextFileSync(path), siblings });
        assert.equal(Deno.readTextFileSync(join(dir, siblings[0])), "new\n");
      },
    });
    assert.equal(seen.length, 1);
    // During the sync the old file is still in place and the new one is a complete sibling.
    assert.equal(seen[0].target, "old\n");
    assert.equal(seen[0].siblings.length, 1);
    assert.equal(await Deno.readTextFile(path), "new\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["checkpoint.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: a file that cannot be opened throws and never calls whileSyncing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    let called = 0;
    await assert.rejects(
      writeFileAtomic(join(dir, "missing", "checkpoint.json"), "x", {
        whileSyncing: () => called++,
      }),
      Deno.errors.NotFound,
    );
    assert.equal(called, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: whileSyncing that throws still waits for the sync, leaves the old file and no sibling, and throws its error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-rundir-" });
  try {
    const path = join(dir, "manifest.json");
    await Deno.writeTextFile(path, "old\n");
    await assert.rejects(
      writeFileAtomic(path, "new\n", {
        whileSyncing: () => {
          throw new RangeError("boom");
        },
      }),
      RangeError,
    );
    assert.equal(await Deno.readTextFile(path), "old\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["manifest.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
