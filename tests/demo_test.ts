/**
 * The keyless demo does the main job end to end: the shipped pipeline
 * examples/demo.dot runs with its agent stages on the scripted model, into a
 * Deno KV file, and everything the demo prints and writes is read back from
 * that file alone.
 */
import assert from "node:assert/strict";
import { readRunReport } from "../cli/views/inspect.ts";
import { listRunRows } from "../cli/views/runs.ts";
import { openStore as openTurnStore } from "../stores/mod.ts";
import { runDemo } from "../cli/demo.ts";
import { readTrace } from "../cli/trace/model.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "../cli/catalogs.ts";
import { stageSessions } from "../cli/views/inspect.ts";

Deno.test("the demo runs every kind of stage, persists it to a KV file, and reads it back whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-demo-" });
  const printed: string[] = [];
  try {
    const url = `kv:${dir}/demo.kv`;
    const demo = await runDemo(url, dir, { print: (t) => printed.push(t) });
    assert.equal(demo.result.status, "success");
    // The agents really worked in the workspace.
    assert.equal(
      await Deno.readTextFile(`${demo.workspace}/src/version.ts`),
      'export const VERSION = "1.0.0";\n',
    );
    assert.match(await Deno.readTextFile(`${demo.workspace}/README.md`), /--version/);
    assert.match(await Deno.readTextFile(`${demo.workspace}/CHANGELOG.md`), /--version/);

    await using store = await openTurnStore(url);
    const report = await readRunReport(store, demo.contextId);
    assert.ok(report);
    assert.equal(report.run.statusLabel, "succeeded");
    const attempts = report.stages.map((s) => `${s.nodeId}#${s.attempt}:${s.status}`);
    assert.deepEqual(attempts, [
      "start#1:success",
      "plan#1:success",
      "implement#1:fail",
      "implement#2:success",
      "test#1:success",
      "review#1:success",
      "fanout#1:success",
      ...(attempts.indexOf("docs#1:success") < attempts.indexOf("changelog#1:success")
        ? ["docs#1:success", "changelog#1:success"]
        : ["changelog#1:success", "docs#1:success"]),
      "merge#1:success",
    ]);
    const failed = report.stages.find((s) => s.status === "fail");
    assert.match(failed?.failureReason ?? "", /src\/version.ts does not contain/);
    assert.equal(report.stages.find((s) => s.nodeId === "test")?.handlerType, "tool");
    assert.deepEqual(report.interviews.map((i) => [i.nodeId, i.answer]), [[
      "review",
      "[A] Approve",
    ]]);
    assert.equal(report.routes.find((r) => r.nodeId === "review")?.targetNode, "fanout");
    assert.equal(report.checkpoints.at(-1)?.finalStatus, "success");
    assert.equal(report.agentLinks.length, 5, "plan, implement twice, docs, changelog");
    assert.ok(report.total.totalTokens > 0);
    // The printed report is the one read back.
    const text = printed.join("\n");
    assert.match(text, /run .* · pipeline Demo · succeeded/);
    assert.match(text, /implement #1\s+fail/);
    // The implement stage's second attempt drills down to the agent that fixed the file.
    const [, second] = await stageSessions(store, report, "implement");
    const writes = second.session?.toolCalls.filter((c) => c.toolName === "write_file") ?? [];
    assert.equal(writes.length, 1);
    assert.match(writes[0].arguments ?? "", /export const VERSION/);
    // The plan stage's agent spawned a subagent, in a fork of its context.
    const [plan] = await stageSessions(store, report, "plan");
    assert.equal(plan.session?.subagents[0]?.status, "completed");
    // The run lists, and the trace reaches the stage sessions, the subagent and the branches.
    const { runs } = await listRunRows(store);
    assert.deepEqual(runs.map((r) => [r.runId, r.status, r.stagesDone, r.stagesTotal]), [
      [demo.result.runId, "succeeded", 8, 8],
    ]);
    const trace = await readTrace(store, demo.contextId, {
      catalogs: PROJECT_CATALOGS,
      bundles: PROJECT_BUNDLES,
    });
    const kinds = trace.contexts.map((c) => c.kind).sort();
    assert.deepEqual(kinds, [
      "branch",
      "branch",
      "run",
      "stage session",
      "stage session",
      "stage session",
      "stage session",
      "stage session",
      "subagent",
    ]);
    const page = await Deno.readTextFile(demo.tracePath);
    assert.match(page, /<title>Demo run run-/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
