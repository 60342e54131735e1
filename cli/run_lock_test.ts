import assert from "node:assert/strict";
import { join } from "node:path";
import { lockRun, RunBusyError } from "./run_lock.ts";

Deno.test("lockRun: a second lock of a held run directory is RunBusy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-run-lock-" });
  try {
    const a = await lockRun(dir);
    await assert.rejects(lockRun(dir), RunBusyError);
    a.release();
    (await lockRun(dir)).release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lockRun: a run.lock opened just before its holder removed it is not taken as held (one holder, never two)", async () => {
  const parent = await Deno.makeTempDir({ prefix: "forge-run-lock-" });
  try {
    const dir = join(parent, "run");
    // A takes the lock (making the directory and run.lock), B opens run.lock while A holds it,
    // then A discards (removes run.lock, releases) before B locks: B's flock succeeds, on a file
    // that is gone.
    const a = await lockRun(dir);
    let opened = 0;
    const b = await lockRun(dir, {
      afterOpen: async () => {
        if (opened++ === 0) await a.discard();
      },
    });
    assert.equal(opened, 2, "B took the lock again on the run.lock that is there now");
    // C creates or opens the run.lock at the path: B holds that one, so C is refused.
    await assert.rejects(lockRun(dir), RunBusyError);
    b.release();
    (await lockRun(dir)).release();
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
