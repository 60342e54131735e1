/**
 * The parallel handler (spec §4.8, reference point 13) and the fan-in
 * handler (§4.9). Each branch runs, on a deep copy of the context and on a
 * store context forked from the fan-out turn, until it reaches a fan-in
 * node; at most `max_parallel` (default 4) at once. `join_policy` is
 * `wait_all` (default) or `first_success` (the others are cancelled once one
 * succeeds). Results go to `parallel.results`; the run then goes to the
 * fan-in node the branches reached (or, without one, to the exit node they
 * ran into), never along the parallel node's own edges again.
 *
 * @module
 */
import { join } from "node:path";
import type { Handler, HandlerInput } from "../engine/handler.ts";
import { type ContextValue, isSuccess, type Outcome } from "../engine/outcome.ts";
import { getNode, isExitNode, outgoingEdges } from "../engine/graph_api.ts";
import { ParallelLifecycle } from "../records.ts";
import { RunCancelled } from "../engine/stage.ts";

/** One branch's result, as `parallel.results` holds it. */
export interface BranchResult {
  /** The branch id (its first node). */
  readonly id: string;
  /** Position among the node's edges. */
  readonly index: number;
  /** The branch's last status, or "cancelled". */
  readonly status: string;
  /** Notes of the last stage. */
  readonly notes?: string;
  /** Why it failed. */
  readonly failure_reason?: string;
  /** The branch's `score` context value, when set (used by heuristic fan-in). */
  readonly score?: number;
  /** Nodes the branch ran. */
  readonly completed_nodes: readonly string[];
  /** The branch's last response or tool output. */
  readonly output?: string;
  /** The store context the branch ran on. */
  readonly context_id?: string;
}

/** Fans out to every outgoing edge. */
export class ParallelHandler implements Handler {
  /** Executes the branches and joins them. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const { node, graph } = input;
    const edges = outgoingEdges(graph, node.id);
    if (edges.length === 0) {
      return { status: "fail", failureReason: `parallel node ${node.id} has no branches` };
    }
    const policy = node.attrs.join_policy ?? "wait_all";
    if (policy !== "wait_all" && policy !== "first_success") {
      return {
        status: "fail",
        failureReason: `join_policy must be wait_all or first_success, got ${policy}`,
      };
    }
    const maxParallel = Math.max(1, Number.parseInt(node.attrs.max_parallel ?? "4", 10) || 4);
    const fanIns = new Set(
      graph.nodes.filter((n) => n.handlerType === "parallel.fan_in").map((n) => n.id),
    );
    const base = { runId: input.runId, nodeId: node.id };
    const started = performance.now();
    const fanOutTurn = await input.recorder.write(
      ParallelLifecycle,
      { nodeId: node.id, attempt: input.attempt, kind: "parallel_started" },
      { ...base, kind: "started", at: Date.now(), branchCount: edges.length },
    );
    input.emit({ kind: "parallel_started", nodeId: node.id, branchCount: edges.length });
    const cancelOthers = new AbortController();
    const results: BranchResult[] = new Array(edges.length);
    let stoppedAt: string | undefined;
    /** The exit node, when a branch ran into it (a fan-out without a fan-in). */
    let exitReached: string | undefined;
    let next = 0;
    const worker = async () => {
      while (next < edges.length) {
        const index = next++;
        const edge = edges[index];
        const signal = AbortSignal.any([input.signal, cancelOthers.signal]);
        const recorder = fanOutTurn
          ? await input.recorder.fork(fanOutTurn, `branch-${edge.to}`)
          : input.recorder;
        void input.recorder.write(
          ParallelLifecycle,
          { nodeId: node.id, attempt: input.attempt, kind: `branch_started_${index}` },
          {
            ...base,
            kind: "branch_started",
            at: Date.now(),
            branchId: edge.to,
            branchIndex: index,
            targetNode: edge.to,
            branchContextId: recorder.contextId,
          },
        );
        input.emit({ kind: "parallel_branch_started", branch: edge.to, index });
        const branchStarted = performance.now();
        const context = input.context.clone();
        let result: BranchResult;
        if (signal.aborted) {
          result = { id: edge.to, index, status: "cancelled", completed_nodes: [] };
        } else {
          try {
            const run = await input.branches.runBranch({
              startNodeId: edge.to,
              stopAt: fanIns,
              context,
              recorder,
              signal,
              branchId: edge.to,
            });
            if (run.stoppedAt && fanIns.has(run.stoppedAt)) stoppedAt ??= run.stoppedAt;
            else if (run.stoppedAt && isExitNode(graph, getNode(graph, run.stoppedAt)!)) {
              exitReached = run.stoppedAt;
            }
            const score = Number(context.get("score"));
            result = {
              id: edge.to,
              index,
              status: run.outcome.status,
              notes: run.outcome.notes,
              failure_reason: run.outcome.failureReason,
              score: Number.isFinite(score) ? score : undefined,
              completed_nodes: run.completedNodes,
              output: String(context.get("last_response") ?? context.get("tool.output") ?? ""),
              context_id: recorder.contextId,
            };
          } catch (error) {
            if (input.signal.aborted) throw error;
            if (!(error instanceof RunCancelled) && !cancelOthers.signal.aborted) throw error;
            result = { id: edge.to, index, status: "cancelled", completed_nodes: [] };
          }
        }
        await recorder.settle();
        results[index] = result;
        const success = isSuccess(result.status as never);
        if (success && policy === "first_success") {
          cancelOthers.abort(new RunCancelled("another branch succeeded"));
        }
        void input.recorder.write(
          ParallelLifecycle,
          { nodeId: node.id, attempt: input.attempt, kind: `branch_completed_${index}` },
          {
            ...base,
            kind: "branch_completed",
            at: Date.now(),
            branchId: edge.to,
            branchIndex: index,
            status: result.status as never,
            notes: result.failure_reason ?? result.notes,
            branchContextId: recorder.contextId,
          },
        );
        input.emit({
          kind: "parallel_branch_completed",
          branch: edge.to,
          index,
          durationMs: performance.now() - branchStarted,
          success,
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxParallel, edges.length) }, worker));
    const successCount = results.filter((r) => isSuccess(r.status as never)).length;
    const failCount = results.filter((r) => r.status === "fail").length;
    const status = policy === "first_success"
      ? (successCount > 0 ? "success" : "fail")
      : (failCount === 0 ? "success" : "partial_success");
    void input.recorder.write(
      ParallelLifecycle,
      { nodeId: node.id, attempt: input.attempt, kind: "parallel_completed" },
      {
        ...base,
        kind: "completed",
        at: Date.now(),
        status,
        successCount,
        failureCount: failCount,
        targetNode: stoppedAt,
      },
    );
    input.emit({
      kind: "parallel_completed",
      durationMs: performance.now() - started,
      successCount,
      failureCount: failCount,
    });
    const updates: Record<string, ContextValue> = {
      "parallel.results": results as unknown as ContextValue,
      "parallel.fail_count": failCount,
      "parallel.success_count": successCount,
    };
    for (const r of results) updates[`parallel.branch.${r.id}.status`] = r.status;
    return {
      status,
      contextUpdates: updates,
      notes: `${successCount} of ${edges.length} branches succeeded (${policy})`,
      failureReason: status === "fail" ? "no branch succeeded" : undefined,
      // The run goes on where the branches joined: the fan-in node, else the exit they ran into
      // (never for a FAIL, which takes failure routing rather than the exit).
      jumpTo: stoppedAt ?? (status === "fail" ? undefined : exitReached),
    };
  }
}

const RANK: Readonly<Record<string, number>> = {
  success: 0,
  partial_success: 1,
  retry: 2,
  fail: 3,
  cancelled: 4,
  skipped: 4,
};

/** Chooses the best branch: by status, then higher score, then id. */
export function heuristicSelect(results: readonly BranchResult[]): BranchResult | undefined {
  return [...results].sort((a, b) =>
    (RANK[a.status] ?? 5) - (RANK[b.status] ?? 5) ||
    (b.score ?? 0) - (a.score ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )[0];
}

/**
 * Consolidates the branches: with a `prompt`, the LLM backend ranks the
 * candidates (the first candidate id its answer names wins); without, the
 * heuristic. FAIL only when every branch failed.
 */
export class FanInHandler implements Handler {
  /** Executes the fan-in. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const raw = input.context.get("parallel.results");
    const results = Array.isArray(raw) ? raw as unknown as BranchResult[] : [];
    if (results.length === 0) {
      return { status: "fail", failureReason: "No parallel results to evaluate" };
    }
    const viable = results.filter((r) => isSuccess(r.status as never));
    if (viable.length === 0) {
      return { status: "fail", failureReason: "every parallel branch failed" };
    }
    let best = heuristicSelect(results)!;
    let how = "heuristic";
    if (input.node.prompt) {
      const prompt = `${input.node.prompt.replaceAll("$goal", input.graph.attrs.goal)}\n\n` +
        `Candidates (answer with the id of the best one):\n` +
        results.map((r) => `- id: ${r.id}\n  status: ${r.status}\n  output: ${r.output ?? ""}`)
          .join("\n");
      // An LLM call like a codergen stage's, audited like one (spec §5.6): prompt.md, response.md.
      await Deno.writeTextFile(join(input.stageDir, "prompt.md"), prompt);
      const reply = await input.backend.run({
        node: input.node,
        prompt,
        context: input.context,
        stageDir: input.stageDir,
        fidelity: input.fidelity,
        signal: input.signal,
        runId: input.runId,
        stageAttemptId: input.stageAttemptId,
        attempt: input.attempt,
        priorExecutions: input.priorExecutions,
        stageTurnId: input.stageTurnId,
        recorder: input.recorder,
      });
      const text = typeof reply === "string"
        ? reply
        : "status" in reply
        ? (reply as Outcome).notes ?? ""
        : (reply as { text?: string }).text ?? "";
      await Deno.writeTextFile(join(input.stageDir, "response.md"), text);
      const named = pickNamed(text, results);
      if (named) {
        best = named;
        how = "ranked by the model";
      }
    }
    return {
      status: "success",
      contextUpdates: {
        "parallel.fan_in.best_id": best.id,
        "parallel.fan_in.best_outcome": best.status,
        "parallel.fan_in.best_output": best.output ?? "",
      },
      notes: `Selected best candidate: ${best.id} (${how})`,
    };
  }
}

/** The candidate whose id appears first in `text` (as a whole word). */
function pickNamed(text: string, results: readonly BranchResult[]): BranchResult | undefined {
  let best: { r: BranchResult; at: number } | undefined;
  for (const r of results) {
    const m = new RegExp(`(^|[^A-Za-z0-9_])${r.id}([^A-Za-z0-9_]|$)`).exec(text);
    if (m && (!best || m.index < best.at)) best = { r, at: m.index };
  }
  return best?.r;
}
