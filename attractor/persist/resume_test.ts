import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { LINEAR, runDot, tempDir } from "../testing/helpers.ts";
import { resumePointFromDirectory, RunNotInStoreError } from "./resume.ts";

Deno.test("a run directory resumes only in a store whose manifest context holds its run", async (t) => {
  await using dir = await tempDir();
  await using own = new MemoryStore();
  const first = await runDot(LINEAR, dir.path, { store: own, runId: "mine" });
  const [contextId] = first.contextIds;

  await t.step("its own store: the resume point continues the manifest's context", async () => {
    const point = await resumePointFromDirectory(dir.path, own);
    assert.equal(point.contextId, contextId);
    assert.equal(point.checkpoint.run_id, "mine");
  });

  await t.step(
    "a store where that context holds another run: refused, naming both runs",
    async () => {
      await using other = new MemoryStore();
      await using otherDir = await tempDir();
      const theirs = await runDot(LINEAR, otherDir.path, { store: other, runId: "theirs" });
      assert.equal(theirs.contextIds[0], contextId, "both stores number their first context alike");
      const caught = await resumePointFromDirectory(dir.path, other, { storeLabel: "memory:other" })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(caught instanceof RunNotInStoreError);
      assert.equal(caught.code, "RunNotInStore");
      assert.equal(caught.reason, "OtherRun");
      assert.equal(caught.runId, "mine");
      assert.equal(caught.heldRunId, "theirs");
      assert.match(caught.message, /holds run mine .*context \d+ of memory:other holds run theirs/);
    },
  );

  await t.step("a store without that context: refused, naming the missing context", async () => {
    await using empty = new MemoryStore();
    const caught = await resumePointFromDirectory(dir.path, empty)
      .then(() => undefined, (e: unknown) => e);
    assert.ok(caught instanceof RunNotInStoreError);
    assert.equal(caught.reason, "NoSuchContext");
    assert.equal(caught.contextId, contextId);
    assert.match(caught.message, new RegExp(`the store has no context ${contextId}$`));
  });

  await t.step("no store (a resume from the directory alone): nothing to check", async () => {
    const point = await resumePointFromDirectory(dir.path);
    assert.equal(point.checkpoint.run_id, "mine");
  });
});
