/**
 * A run restarted by `loop_restart` runs each attempt in a context of its
 * own: `forge inspect` and `forge trace` of the run find every attempt.
 */
import assert from "node:assert/strict";
import { defaultHandlers, preparePipeline, runPipeline } from "@forge/attractor";
import { openStore } from "@forge/stores";
import { captureCli } from "./cli_fixture.ts";
import { compareContextIds, runAttempts } from "./attempts.ts";

const RESTART = await Deno.readTextFile(
  new URL("../../examples/loop_restart.dot", import.meta.url),
);

const cli = (url: string, args: string[]) => captureCli([...args, "--store", url]);

Deno.test("a loop_restart run: inspect and trace by run id show every attempt", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "forge-attempts-" });
  const url = `kv:${dir}/runs.kv`;
  try {
    const { graph } = preparePipeline(RESTART);
    {
      await using store = await openStore(url);
      // Another run before and after, so the attempts are found among other contexts.
      for (const runId of ["other-1", "restarted", "other-2"]) {
        const result = await runPipeline({
          graph,
          dotSource: RESTART,
          logsRoot: `${dir}/${runId}`,
          runId,
          handlers: defaultHandlers(),
          store,
          sleep: () => Promise.resolve(),
        });
        assert.equal(result.status, "success");
        assert.equal(result.contextIds.length, 2, "one restart: two attempts");
      }
    }
    await using store = await openStore(url);

    await t.step("runAttempts finds both attempts from either one's context", async () => {
      const runs = await cli(url, ["runs", "--json"]);
      const row = JSON.parse(runs.out).runs.find((r: { runId: string }) => r.runId === "restarted");
      const newest = row.contextId as string;
      const attempts = await runAttempts(store, newest);
      assert.deepEqual(attempts?.map((a) => [a.attempt, a.ended, a.restartTarget]), [
        [1, "restarted", "work"],
        [2, "succeeded", undefined],
      ]);
      assert.match(attempts![0].restartReason ?? "", /loop_restart from again/);
      const fromFirst = await runAttempts(store, attempts![0].contextId);
      assert.deepEqual(fromFirst, attempts);
    });

    await t.step("inspect <run id> lists each attempt: context, number, how it ended", async () => {
      const text = await cli(url, ["inspect", "restarted"]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /attempts \(2; each loop_restart starts one\):/);
      assert.match(
        text.out,
        /\n\s+1 context \d+\s+restarted at work \(loop_restart from again\)\n/,
      );
      assert.match(text.out, /\n\s+2 context \d+\s+succeeded\s+← shown below/);
      const json = JSON.parse((await cli(url, ["inspect", "restarted", "--json"])).out);
      assert.deepEqual(json.attempts.map((a: { attempt: number }) => a.attempt), [1, 2]);
      assert.equal(json.attempts[1].contextId, json.run.contextId);
    });

    await t.step(
      "trace <run id> reads both attempts, the second linked from the first",
      async () => {
        const text = await cli(url, ["trace", "restarted"]);
        assert.equal(text.code, 0, text.err);
        assert.match(text.out, /^run restarted \(Restart\) \[run\] context \d+/);
        assert.match(
          text.out,
          /\n└─ run restarted \(Restart\) attempt 2 \[run\] context \d+: .*via nextAttemptContextId/,
        );
        assert.doesNotMatch(text.out, /run other-/);
        const json = JSON.parse((await cli(url, ["trace", "restarted", "--json"])).out);
        assert.equal(json.contexts.filter((c: { kind: string }) => c.kind === "run").length, 2);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("context ids are ordered as u64 values, above 2^53 too", () => {
  // 2^53 + 1 and 2^53 are one Number; as u64 the first is newer.
  assert.equal(compareContextIds("9007199254740993", "9007199254740992"), 1);
  assert.equal(compareContextIds("9007199254740992", "9007199254740993"), -1);
  assert.equal(compareContextIds("18446744073709551615", "18446744073709551614"), 1);
  assert.equal(compareContextIds("18446744073709551615", "18446744073709551615"), 0);
  assert.equal(compareContextIds("9", "10"), -1, "by value, not as text");
});
