/**
 * Trace pages for the browser test: the demo's agent session (a parent and
 * its subagent in a forked context), and a synthetic pipeline run of any
 * number of stages written with the runner's record codecs (stage started
 * and completed, a route decision after each, a retry every 50 stages), for
 * measuring how a large page opens.
 *
 * @module
 */
import { type ForgeStore, MemoryStore } from "@forge/turnstore";
import { RouteDecision, RunLifecycle, StageLifecycle } from "@forge/attractor/records";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "../../cli/catalogs.ts";
import { readTrace } from "../../cli/trace/model.ts";
import { pageData, renderTraceHtml } from "../../cli/trace/html.ts";
import type { PageData } from "../../cli/trace/html.ts";

/** Writes a run of `stages` stages to `store`; returns its context id. */
export async function writeSyntheticRun(store: ForgeStore, stages: number): Promise<string> {
  const ctx = await store.createContext();
  const runId = `run-${stages}`;
  let at = Date.UTC(2026, 10, 30, 12, 0, 0);
  const put = async (
    codec: typeof RunLifecycle | typeof StageLifecycle | typeof RouteDecision,
    v: unknown,
  ) => {
    await store.appendTurn({
      contextId: ctx.contextId,
      typeId: codec.typeId,
      typeVersion: codec.version,
      // deno-lint-ignore no-explicit-any
      payload: (codec as any).encode(v),
    });
  };
  await put(RunLifecycle, {
    runId,
    graphId: "synthetic",
    lineageAttempt: 1,
    kind: "initialized",
    at,
  });
  for (let i = 0; i < stages; i++) {
    const nodeId = `stage_${i}`;
    const attempts = i % 50 === 49 ? 2 : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const stageAttemptId = `${nodeId}#${attempt}`;
      await put(StageLifecycle, { runId, nodeId, stageAttemptId, attempt, kind: "started", at });
      at += 200 + (i % 7) * 90;
      const retry = attempt < attempts;
      await put(StageLifecycle, {
        runId,
        nodeId,
        stageAttemptId,
        attempt,
        kind: retry ? "retrying" : "completed",
        status: retry ? "retry" : "success",
        notes: retry ? "goal gate not met: tests failing" : `stage ${i} done`,
        willRetry: retry,
        at,
      });
    }
    await put(RouteDecision, {
      runId,
      nodeId,
      stageAttemptId: `${nodeId}#${attempts}`,
      loopRestart: false,
      targetNode: i + 1 < stages ? `stage_${i + 1}` : "exit",
      condition: "outcome=success",
      at,
    });
  }
  await put(RunLifecycle, {
    runId,
    graphId: "synthetic",
    lineageAttempt: 1,
    kind: "finalized",
    status: "success",
    at,
  });
  return ctx.contextId;
}

/** The page data and HTML of the trace rooted at `contextId`. */
export async function tracePage(
  store: ForgeStore,
  contextId: string,
): Promise<{ data: PageData; html: string }> {
  const trace = await readTrace(store, contextId, {
    catalogs: PROJECT_CATALOGS,
    bundles: PROJECT_BUNDLES,
  });
  const data = pageData(trace, trace.contexts[0]?.label ?? `context ${contextId}`);
  return { data, html: renderTraceHtml(data) };
}

/** The trace page of a synthetic run of `stages` stages, from a memory store. */
export async function syntheticRunPage(stages: number): Promise<{ data: PageData; html: string }> {
  await using store = new MemoryStore();
  return await tracePage(store, await writeSyntheticRun(store, stages));
}
