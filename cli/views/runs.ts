/**
 * The pipeline runs of a store, newest first, paged and filtered, on the
 * runner's query API: the store's `listContexts` pages the contexts, the
 * query API's `readRun` and `latestCheckpoint` say which are runs and how
 * they stand, and `scanRunRecords` sums a run's tokens. A page reads only
 * the contexts it lists (plus, when filtering, the ones it skips).
 *
 * @module
 */
import { type ForgeStore, isTurnStoreError } from "@forge/turnstore";
import { latestCheckpoint, readRun, type RunInfo } from "@forge/attractor";
import { scanRunRecords } from "@forge/attractor/engine";
import { type GraphShape, graphShape, stageProgress } from "./stage_progress.ts";

/** The statuses `forge runs` shows and filters by. */
export type RunStatusLabel = "running" | "waiting" | "succeeded" | "failed" | "cancelled";

/** One listed run. */
export interface RunRow {
  /** Run id. */
  readonly runId: string;
  /** The run attempt's context. */
  readonly contextId: string;
  /** The pipeline (the digraph's name). */
  readonly pipeline: string;
  /** running, waiting, succeeded, failed (or cancelled). */
  readonly status: RunStatusLabel;
  /** The runner's own status word (success, partial_success, fail, …). */
  readonly outcome: string;
  /** When the run started (its context's creation). */
  readonly startedAt?: number;
  /** How long it ran (until its last checkpoint; until now while it runs). */
  readonly durationMs?: number;
  /** Distinct stages completed (a stage: a node but the start and exit; see stage_progress.ts). */
  readonly stagesDone: number;
  /** Stages of the pipeline (start and exit nodes not counted). */
  readonly stagesTotal?: number;
  /** Tokens its stages reported. */
  readonly tokens: number;
  /** Cost its stages reported, in US dollars, when any did. */
  readonly costUsd?: number;
  /** Why it failed. */
  readonly failureReason?: string;
  /** The restart-lineage attempt. */
  readonly lineageAttempt: number;
}

/** Options of {@link listRunRows}. */
export interface ListRunsOptions {
  /** Most runs to return; default 20. */
  readonly limit?: number;
  /** Runs in contexts older than this one (the previous page's cursor). */
  readonly beforeContextId?: string;
  /** Only runs with this status. */
  readonly status?: RunStatusLabel;
  /** Only runs of this pipeline. */
  readonly pipeline?: string;
  /** The time "now" is (tests pin it). */
  readonly now?: number;
}

/** A page of runs. */
export interface RunPage {
  /** Newest first. */
  readonly runs: RunRow[];
  /** Cursor of the next page; undefined when this was the last one. */
  readonly nextBeforeContextId?: string;
}

/** Maps the runner's status words to the four (five) people read. */
export function statusLabel(status: string): RunStatusLabel {
  switch (status) {
    case "success":
    case "partial_success":
      return "succeeded";
    case "fail":
      return "failed";
    case "waiting":
      return "waiting";
    case "cancelled":
      return "cancelled";
    default:
      return "running";
  }
}

const STATUSES = new Set(["running", "waiting", "succeeded", "failed", "cancelled"]);

/** True for a status word `forge runs --status` accepts. */
export function isRunStatus(value: string): value is RunStatusLabel {
  return STATUSES.has(value);
}

/**
 * The run held by a context, or undefined for a context that is not one (or
 * whose records are not a readable run). A store that cannot be read — a
 * corrupt log, a lost connection — is an error, never "no runs".
 */
export async function readRunOrSkip(
  store: ForgeStore,
  contextId: string,
): Promise<RunInfo | undefined> {
  try {
    return await readRun(store, contextId);
  } catch (error) {
    if (isTurnStoreError(error, "Backend")) throw error;
    return undefined;
  }
}

/**
 * True when the context is an attempt that a `loop_restart` ended: its newest
 * record finalizes it with a restart target, and the run goes on in a newer
 * context (listed in its place), so it is no run of its own and not running.
 */
async function restarted(store: ForgeStore, contextId: string): Promise<boolean> {
  for await (const e of scanRunRecords(store, contextId)) {
    return e.typeId === "forge.attractor.run_lifecycle" && e.value.kind === "finalized" &&
      e.value.restartTarget !== undefined;
  }
  return false;
}

/** Lists runs newest first. */
export async function listRunRows(
  store: ForgeStore,
  options: ListRunsOptions = {},
): Promise<RunPage> {
  const limit = options.limit ?? 20;
  const now = options.now ?? Date.now();
  const shapes = new Map<string, GraphShape>();
  const runs: RunRow[] = [];
  let before = options.beforeContextId;
  for (;;) {
    const contexts = await store.listContexts({
      limit: Math.max(limit, 20),
      beforeContextId: before,
    });
    for (const ctx of contexts) {
      before = ctx.contextId;
      // A run attempt's context starts empty; its forks (agent sessions, branches) inherit its records.
      if (ctx.headDepth === 0 || (ctx.baseTurnId !== undefined && ctx.baseTurnId !== "0")) continue;
      const info = await readRunOrSkip(store, ctx.contextId);
      if (!info || (info.status === "running" && await restarted(store, ctx.contextId))) continue;
      if (options.pipeline !== undefined && info.graphId !== options.pipeline) continue;
      const status = statusLabel(info.status);
      if (options.status !== undefined && status !== options.status) continue;
      runs.push(await row(store, info, status, ctx.createdAt, now, shapes));
      if (runs.length === limit) return { runs, nextBeforeContextId: ctx.contextId };
    }
    if (contexts.length === 0) return { runs };
  }
}

async function row(
  store: ForgeStore,
  info: RunInfo,
  status: RunStatusLabel,
  createdAt: number | undefined,
  now: number,
  shapes: Map<string, GraphShape>,
): Promise<RunRow> {
  const latest = await latestCheckpoint(store, info.contextId);
  let shape = shapes.get(info.dotSourceHash);
  if (!shape) shapes.set(info.dotSourceHash, shape = await graphShape(store, info.dotSourceHash));
  const stages = stageProgress(shape, latest?.checkpoint.completed_nodes ?? []);
  let tokens = 0, cost = 0, costed = false, started = createdAt;
  const counted = new Set<string>();
  const branches: string[] = [];
  const count = (value: Record<string, unknown>) => {
    if (counted.has(String(value.stageAttemptId))) return;
    counted.add(String(value.stageAttemptId));
    tokens += Number(value.totalTokens ?? 0);
    if (value.costMicroUsd !== undefined) {
      cost += Number(value.costMicroUsd);
      costed = true;
    }
  };
  for await (const e of scanRunRecords(store, info.contextId)) {
    if (e.typeId === "forge.attractor.stage_lifecycle" && e.value.kind !== "started") {
      count(e.value);
    } else if (e.typeId === "forge.attractor.run_lifecycle" && e.value.kind === "initialized") {
      started = e.value.at as number;
    } else if (e.typeId === "forge.attractor.parallel_lifecycle" && e.value.branchContextId) {
      branches.push(String(e.value.branchContextId));
    }
  }
  // Parallel branches record their stages in their own (forked) contexts.
  for (const branch of branches) {
    for await (const e of scanRunRecords(store, branch)) {
      if (e.typeId === "forge.attractor.stage_lifecycle" && e.value.kind !== "started") {
        count(e.value);
      }
    }
  }
  const finished = status !== "running" && status !== "waiting";
  return {
    runId: info.runId,
    contextId: info.contextId,
    pipeline: info.graphId,
    status,
    outcome: info.status,
    startedAt: started,
    durationMs: started === undefined ? undefined : (finished ? info.updatedAt : now) - started,
    stagesDone: stages.done,
    stagesTotal: stages.total,
    tokens,
    costUsd: costed ? cost / 1e6 : undefined,
    failureReason: info.failureReason,
    lineageAttempt: info.lineageAttempt,
  };
}

/** The context of a run id: the newest run context with that id, searched newest first. */
export async function findRunContext(
  store: ForgeStore,
  runId: string,
  maxContexts = 100_000,
): Promise<string | undefined> {
  let before: string | undefined;
  for (let seen = 0; seen < maxContexts;) {
    const contexts = await store.listContexts({ limit: 200, beforeContextId: before });
    if (contexts.length === 0) return undefined;
    for (const ctx of contexts) {
      before = ctx.contextId;
      seen++;
      if (ctx.headDepth === 0 || (ctx.baseTurnId !== undefined && ctx.baseTurnId !== "0")) continue;
      const info = await readRunOrSkip(store, ctx.contextId);
      if (info?.runId === runId) return ctx.contextId;
    }
  }
  return undefined;
}
