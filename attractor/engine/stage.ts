/**
 * One stage: a node executed with its retry policy (spec §3.5), its
 * timeout, its records and events, and its `status.json`.
 *
 * @module
 */
import { timeoutSignal } from "./timers.ts";
import type { Edge, Graph, Node } from "../graph/types.ts";
import type { RunContext } from "./context.ts";
import type { Handler, HandlerInput } from "./handler.ts";
import { isSuccess, type Outcome } from "./outcome.ts";
import { DEFAULT_BACKOFF, delayForAttempt, RETRY_PRESETS, type RetryPolicy } from "./retry.ts";
import type { RunRecorder } from "../persist/recorder.ts";
import { recordStageEnded, recordStageStarted, type StageRef } from "../persist/run_records.ts";
import { stageDirectory, writeStatus } from "../persist/rundir.ts";
import { errorMessage, fileProblem } from "../persist/file_problem.ts";
import { join } from "node:path";
import type { PipelineEventData } from "./events.ts";
import { WaitingForAnswer } from "../interview/types.ts";
import type { StageUsage } from "../handlers/backend.ts";

/** The run was cancelled (AbortSignal, SIGTERM, SIGINT). */
export class RunCancelled extends Error {
  /** Stable, machine-readable code. */
  readonly code = "Cancelled" as const;
  /** Creates the signal. */
  constructor(message = "the run was cancelled") {
    super(message);
    this.name = "RunCancelled";
  }
}

/** The retry policy of a node: `max_retries`, else the graph default; backoff from `retry_policy`. */
export function retryPolicyOf(graph: Graph, node: Node): RetryPolicy {
  const preset = RETRY_PRESETS[node.attrs.retry_policy as keyof typeof RETRY_PRESETS];
  const retries = node.maxRetries ??
    (preset ? preset.maxAttempts - 1 : graph.attrs.defaultMaxRetries);
  return { maxAttempts: Math.max(1, retries + 1), backoff: preset?.backoff ?? DEFAULT_BACKOFF };
}

/** The per-node counters a stage reads and updates. */
export interface StageCounters {
  /** Retries taken per node. */
  readonly retries: Record<string, number>;
  /** Executions of a node so far in the run (for scripted simulations). */
  executions(nodeId: string): number;
  /** Counts one more execution of a node. */
  executed(nodeId: string): void;
}

/** What a stage needs besides the node. */
export interface StageEnv {
  readonly graph: Graph;
  readonly runId: string;
  readonly logsRoot: string;
  readonly context: RunContext;
  readonly recorder: RunRecorder;
  readonly signal: AbortSignal;
  readonly stageIndex: number;
  readonly counters: StageCounters;
  readonly fidelity: string;
  readonly threadKey?: string;
  readonly incoming?: Edge;
  readonly emit: (event: PipelineEventData) => void;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random: () => number;
  /** Builds the rest of the handler input. */
  readonly input: Omit<
    HandlerInput,
    | "node"
    | "context"
    | "graph"
    | "logsRoot"
    | "stageDir"
    | "signal"
    | "runId"
    | "stageAttemptId"
    | "attempt"
    | "priorExecutions"
    | "fidelity"
    | "threadKey"
    | "stageTurnId"
    | "recorder"
    | "emit"
  >;
}

/** How a stage ended. */
export interface StageResult {
  /** The final outcome (after retries). */
  readonly outcome: Outcome;
  /** The attempt id of the last attempt. */
  readonly stageAttemptId: string;
  /** Attempts taken. */
  readonly attempts: number;
  /** Usage of the last attempt. */
  readonly usage?: StageUsage;
}

/** Executes `node` with its handler and retry policy. Throws RunCancelled or WaitingForAnswer. */
export async function executeStage(
  node: Node,
  handler: Handler,
  env: StageEnv,
): Promise<StageResult> {
  const policy = retryPolicyOf(env.graph, node);
  const stageDir = await stageDirectory(env.logsRoot, node.id);
  for (let attempt = 1;; attempt++) {
    const stage: StageRef = {
      runId: env.runId,
      nodeId: node.id,
      stageAttemptId: `${node.id}@${env.stageIndex}.${attempt}`,
      attempt,
      stageIndex: env.stageIndex,
      handlerType: node.handlerType,
    };
    if (env.signal.aborted) throw new RunCancelled();
    const stageTurn = recordStageStarted(env.recorder, stage);
    env.emit({ kind: "stage_started", name: node.id, index: env.stageIndex });
    const started = performance.now();
    let outcome: Outcome;
    let usage: StageUsage | undefined;
    const timer = node.timeoutMs && node.timeoutMs > 0 ? timeoutSignal(node.timeoutMs) : undefined;
    const timeout = timer?.signal;
    const signal = timeout ? AbortSignal.any([env.signal, timeout]) : env.signal;
    try {
      outcome = await raceAbort(
        handler.execute({
          ...env.input,
          node,
          context: env.context,
          graph: env.graph,
          logsRoot: env.logsRoot,
          stageDir,
          signal,
          runId: env.runId,
          stageAttemptId: stage.stageAttemptId,
          attempt,
          priorExecutions: env.counters.executions(node.id),
          fidelity: env.fidelity,
          threadKey: env.threadKey,
          stageTurnId: stageTurn,
          recorder: env.recorder,
          emit: env.emit,
        }),
        signal,
      );
      usage = outcome.usage;
    } catch (error) {
      if (env.signal.aborted) {
        recordStageEnded(env.recorder, stage, "failed", {
          status: "cancelled",
          failureReason: "cancelled",
        }, { durationMs: performance.now() - started });
        throw new RunCancelled();
      }
      if (error instanceof WaitingForAnswer) throw error;
      outcome = timeout?.aborted
        ? { status: "fail", failureReason: `timed out after ${node.timeoutMs} ms` }
        : { status: "fail", failureReason: messageOf(error) };
    } finally {
      timer?.clear();
    }
    if (env.signal.aborted) {
      recordStageEnded(env.recorder, stage, "failed", {
        status: "cancelled",
        failureReason: "cancelled",
      }, { durationMs: performance.now() - started });
      throw new RunCancelled();
    }
    const durationMs = performance.now() - started;
    env.counters.executed(node.id);
    const retryable = outcome.status === "retry" || outcome.status === "fail";
    if (retryable && attempt < policy.maxAttempts) {
      const delayMs = delayForAttempt(attempt, policy.backoff, env.random);
      env.counters.retries[node.id] = (env.counters.retries[node.id] ?? 0) + 1;
      env.context.set(`internal.retry_count.${node.id}`, env.counters.retries[node.id]);
      recordStageEnded(env.recorder, stage, "retrying", outcome, { durationMs, delayMs, usage });
      env.emit({
        kind: "stage_failed",
        name: node.id,
        index: env.stageIndex,
        error: outcome.failureReason ?? outcome.status,
        willRetry: true,
      });
      env.emit({
        kind: "stage_retrying",
        name: node.id,
        index: env.stageIndex,
        attempt: attempt + 1,
        delayMs,
      });
      try {
        await env.sleep(delayMs, env.signal);
      } catch {
        throw new RunCancelled();
      }
      continue;
    }
    if (outcome.status === "retry") {
      outcome = node.allowPartial
        ? { ...outcome, status: "partial_success", notes: "retries exhausted, partial accepted" }
        : {
          ...outcome,
          status: "fail",
          failureReason: outcome.failureReason ?? "max retries exceeded",
        };
    }
    try {
      await writeStatus(stageDir, outcome);
    } catch (error) {
      // The stage left something unwritable where its status goes (a directory, say): the stage
      // fails naming it, and the run routes that FAIL rather than dying on the OS's error.
      outcome = {
        ...outcome,
        status: "fail",
        failureReason: `cannot write ${join(stageDir, "status.json")}: ${fileProblem(error)}`,
      };
    }
    if (isSuccess(outcome.status) || outcome.status === "skipped") {
      recordStageEnded(env.recorder, stage, "completed", outcome, { durationMs, usage });
      env.emit({
        kind: "stage_completed",
        name: node.id,
        index: env.stageIndex,
        durationMs,
        status: outcome.status,
      });
    } else {
      recordStageEnded(env.recorder, stage, "failed", outcome, { durationMs, usage });
      env.emit({
        kind: "stage_failed",
        name: node.id,
        index: env.stageIndex,
        error: outcome.failureReason ?? "failed",
        willRetry: false,
      });
    }
    return { outcome, stageAttemptId: stage.stageAttemptId, attempts: attempt, usage };
  }
}

/** Resolves with the promise, or rejects as soon as `signal` aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // The handler may still settle after an abort; its result is then ignored.
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function messageOf(error: unknown): string {
  return errorMessage(error);
}
