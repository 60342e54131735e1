/**
 * `forge inspect <run>`: one run read back whole through the runner's query
 * API — its stage timeline (attempts, durations, outcomes, notes, failure
 * reasons), every route decision with why it was taken, its checkpoints,
 * its interviews with question and answer, and usage and cost per stage and
 * in total. With a stage, the agent session that ran it: transcript, tool
 * calls with arguments and results, subagents.
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore";
import {
  interviews,
  latestCheckpoint,
  type Page,
  type PageOptions,
  readRun,
  routeDecisions,
  type RunInfo,
  type StageAttemptView,
  stageTimeline,
} from "@forge/attractor";
import {
  isCheckpointRecord,
  runLifecycle,
  scanRunRecords,
  stageAgentLinks,
  stageAgentSession,
} from "@forge/attractor/engine";
import type {
  CheckpointRecordValue,
  InterviewLifecycleV3Value,
  RouteDecisionV3Value,
  StageToAgentLinkValue,
} from "@forge/attractor/records";
import type { SessionView } from "@forge/agent";
import { UsageError, when } from "./args.ts";
import { formatDuration } from "../trace/text.ts";
import { statusLabel } from "./runs.ts";
import { type RunAttempt, runAttempts } from "./attempts.ts";
import { formatStageProgress, graphShape, stageProgress } from "./stage_progress.ts";
import { renderSessionDetail } from "./session_text.ts";

/** Usage of one stage (all its attempts). */
export interface StageUsageRow {
  /** The node. */
  readonly nodeId: string;
  /** Attempts it took. */
  readonly attempts: number;
  /** Input tokens. */
  inputTokens: number;
  /** Output tokens. */
  outputTokens: number;
  /** Total tokens. */
  totalTokens: number;
  /** Cost in US dollars, when reported. */
  costUsd?: number;
}

/** An interview: the question, and the answer or the timeout. */
export interface InterviewView {
  /** The gate's node. */
  readonly nodeId: string;
  /** The question. */
  readonly question?: string;
  /** The options offered. */
  readonly options?: readonly string[];
  /** The answer chosen (label or key). */
  answer?: string;
  /** True when it timed out. */
  timedOut?: boolean;
  /** How long it took. */
  durationMs?: number;
  /** When it was asked. */
  readonly askedAt: number;
}

/** Everything `forge inspect` shows of a run. */
export interface RunReport {
  /** The run. */
  readonly run: RunInfo & {
    readonly statusLabel: string;
    readonly startedAt?: number;
    /** Distinct stages completed, as `forge runs` counts them (stage_progress.ts). */
    readonly stagesDone: number;
    /** Stages of the pipeline, when its source is readable. */
    readonly stagesTotal?: number;
  };
  /**
   * The run's attempts (a `loop_restart` starts a new one in a new context),
   * oldest first; the report's stages, routes and checkpoints are those of
   * the one in `run.contextId`.
   */
  readonly attempts: RunAttempt[];
  /** Stage attempts, oldest first. */
  readonly stages: StageAttemptView[];
  /** Route decisions, oldest first. */
  readonly routes: (RouteDecisionV3Value & { turnId: string })[];
  /** Checkpoints, oldest first. */
  readonly checkpoints: (Omit<CheckpointRecordValue, "state" | "stateBytes"> & {
    turnId: string;
  })[];
  /** Interviews, oldest first. */
  readonly interviews: InterviewView[];
  /** Stage ↔ agent session links, oldest first. */
  readonly agentLinks: (StageToAgentLinkValue & { turnId: string })[];
  /** The context each stage attempt ran in, when not the run's own (a parallel branch). */
  readonly stageContexts: Record<string, string>;
  /** Usage per stage, in first-run order. */
  readonly usage: StageUsageRow[];
  /** Usage in total. */
  readonly total: Omit<StageUsageRow, "nodeId" | "attempts">;
}

async function all<T>(
  read: (options: PageOptions) => Promise<Page<T>>,
): Promise<T[]> {
  const out: T[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await read({ limit: 10_000, before });
    out.push(...page.items);
    if (!page.nextCursor) return out.reverse();
    before = page.nextCursor;
  }
}

/** Reads the report of the run in `contextId`; undefined when it holds no run. */
export async function readRunReport(
  store: ForgeStore,
  contextId: string,
): Promise<RunReport | undefined> {
  const info = await readRun(store, contextId);
  if (!info) return undefined;
  const [stages, routes, asked, lifecycle, agentLinks] = await Promise.all([
    all((o) => stageTimeline(store, contextId, o)),
    all((o) => routeDecisions(store, contextId, o)),
    all((o) => interviews(store, contextId, o)),
    all((o) => runLifecycle(store, contextId, o)),
    all((o) => stageAgentLinks(store, contextId, o)),
  ]);
  const checkpoints: RunReport["checkpoints"] = [];
  const branches: string[] = [];
  for await (const e of scanRunRecords(store, contextId)) {
    if (e.typeId === "forge.attractor.parallel_lifecycle" && e.value.branchContextId) {
      branches.unshift(String(e.value.branchContextId));
    }
    if (!isCheckpointRecord(e)) continue;
    const { state: _state, stateBytes: _bytes, ...rest } = e
      .value as unknown as CheckpointRecordValue;
    checkpoints.unshift({ ...rest, turnId: e.turnId });
  }
  // Parallel branches run in contexts forked from the run's: their stages and
  // agent links are there, after the history they share with the run.
  const stageContexts: Record<string, string> = {};
  const seen = new Set(stages.map((s) => s.stageAttemptId));
  const linked = new Set(agentLinks.map((l) => l.turnId));
  for (const branch of branches) {
    for (const s of await all((o) => stageTimeline(store, branch, o))) {
      if (seen.has(s.stageAttemptId)) continue;
      seen.add(s.stageAttemptId);
      stages.push(s);
      stageContexts[s.stageAttemptId] = branch;
    }
    for (const l of await all((o) => stageAgentLinks(store, branch, o))) {
      if (!linked.has(l.turnId)) agentLinks.push(l), linked.add(l.turnId);
    }
  }
  stages.sort((a, b) => (a.startedAt ?? a.endedAt ?? 0) - (b.startedAt ?? b.endedAt ?? 0));
  const usage = new Map<string, StageUsageRow>();
  const total = { inputTokens: 0, outputTokens: 0, totalTokens: 0 } as RunReport["total"];
  for (const s of stages) {
    const row = usage.get(s.nodeId) ??
      { nodeId: s.nodeId, attempts: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
    (row as { attempts: number }).attempts++;
    usage.set(s.nodeId, row);
    if (!s.usage) continue;
    for (const target of [row, total]) {
      target.inputTokens += s.usage.inputTokens ?? 0;
      target.outputTokens += s.usage.outputTokens ?? 0;
      target.totalTokens += s.usage.totalTokens ?? 0;
      if (s.usage.costMicroUsd !== undefined) {
        target.costUsd = (target.costUsd ?? 0) + s.usage.costMicroUsd / 1e6;
      }
    }
  }
  const views: InterviewView[] = [];
  for (const r of asked as InterviewLifecycleV3Value[]) {
    if (r.kind === "started") {
      views.push({ nodeId: r.nodeId, question: r.question, options: r.options, askedAt: r.at });
      continue;
    }
    const open = views.findLast((v) =>
      v.nodeId === r.nodeId && v.answer === undefined && !v.timedOut
    );
    if (!open) continue;
    if (r.kind === "timeout") open.timedOut = true;
    open.answer = r.selectedLabel ?? r.answerText ?? r.selected ?? r.defaultSelected;
    open.durationMs = r.durationMs;
  }
  const started = lifecycle.find((r) => r.kind === "initialized")?.at;
  const progress = stageProgress(
    await graphShape(store, info.dotSourceHash),
    (await latestCheckpoint(store, contextId))?.checkpoint.completed_nodes ?? [],
  );
  return {
    run: {
      ...info,
      statusLabel: statusLabel(info.status),
      startedAt: started,
      stagesDone: progress.done,
      stagesTotal: progress.total,
    },
    attempts: (await runAttempts(store, contextId)) ?? [],
    stages,
    routes,
    checkpoints,
    interviews: views,
    agentLinks,
    stageContexts,
    usage: [...usage.values()],
    total,
  };
}

/** One line of at most `max` characters. */
function clip(text: string, max = 110): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function money(usd: number | undefined): string {
  return usd === undefined ? "—" : `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

/** Why a route was taken, in words. */
export function routeReason(r: RouteDecisionV3Value): string {
  if (r.terminatedReason) return r.terminatedReason;
  const parts = [`by ${String(r.step).replace(/_/g, " ")}`];
  if (r.condition) parts.push(`condition ${r.condition}`);
  if (r.edgeLabel) parts.push(`label "${r.edgeLabel}"`);
  if (r.outcomeStatus) parts.push(`outcome ${r.outcomeStatus}`);
  if (r.loopRestart) parts.push("loop restart");
  return parts.join(", ");
}

/** `n thing` or `n things`. */
function plural(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? "" : "s"}`;
}

/**
 * What became of a stage attempt, in a word or two: its status, "fail,
 * retried" for a failure the runner retried, and for one that started but
 * recorded no end: "running" / "waiting" when it is the run's current stage,
 * else "waited" (a human gate whose answer came to a later process) or
 * "interrupted" (its process stopped).
 */
function attemptOutcome(
  s: StageAttemptView,
  runStatusIfLatest: string | undefined,
): string {
  if (s.state === "retrying") return `${s.status ?? "fail"}, retried`;
  if (s.status) return s.status;
  if (s.state !== "started") return s.state;
  if (runStatusIfLatest === "running" || runStatusIfLatest === "waiting") {
    return runStatusIfLatest;
  }
  return s.handlerType === "wait.human" ? "waited" : "interrupted";
}

/** Renders a run report as text. */
export function renderRunReport(report: RunReport): string {
  const { run } = report;
  const out: string[] = [];
  const duration = run.startedAt === undefined
    ? "—"
    : formatDuration(run.updatedAt - run.startedAt);
  out.push(
    `run ${run.runId} · pipeline ${run.graphId} · ${run.statusLabel} (${run.status}) · ` +
      `started ${when(run.startedAt)} · ${duration}`,
    `context ${run.contextId} · attempt ${run.lineageAttempt} · ${
      formatStageProgress({ done: run.stagesDone, total: run.stagesTotal })
    } · ` +
      `last node ${run.currentNode}${run.nextNode ? ` · next ${run.nextNode}` : ""}`,
  );
  if (run.failureReason) out.push(`failure: ${clip(run.failureReason, 300)}`);
  if (report.attempts.length > 1) {
    out.push("", `attempts (${report.attempts.length}; each loop_restart starts one):`);
    for (const a of report.attempts) {
      const how = a.ended === "restarted"
        ? `restarted at ${a.restartTarget}${a.restartReason ? ` (${a.restartReason})` : ""}`
        : a.ended;
      const shown = a.contextId === run.contextId ? "   ← shown below" : "";
      out.push(
        `  ${String(a.attempt).padStart(3)} context ${a.contextId.padEnd(8)} ${how}${shown}`,
      );
    }
  }
  out.push("", `stages (${plural(report.stages.length, "attempt")}):`);
  const lastAttempt = new Map(report.stages.map((s) => [s.nodeId, s]));
  for (const s of report.stages) {
    const tokens = s.usage?.totalTokens === undefined ? "" : ` · ${s.usage.totalTokens} tokens`;
    const cost = s.usage?.costMicroUsd === undefined
      ? ""
      : ` · ${money(s.usage.costMicroUsd / 1e6)}`;
    const why = s.failureReason
      ? ` · ${clip(s.failureReason)}`
      : s.notes
      ? ` · ${clip(s.notes)}`
      : "";
    out.push(
      `  ${String(s.stageIndex).padStart(3)} ${`${s.nodeId} #${s.attempt}`.padEnd(22)} ` +
        `${
          attemptOutcome(s, lastAttempt.get(s.nodeId) === s ? run.status : undefined)
            .padEnd(16)
        } ${formatDuration(s.durationMs).padStart(7)}` +
        `${s.handlerType ? ` · ${s.handlerType}` : ""}${tokens}${cost}${why}`,
    );
  }
  out.push("", `routes (${report.routes.length}):`);
  for (const r of report.routes) {
    out.push(`  ${r.nodeId} → ${r.targetNode ?? "(end)"}  ${clip(routeReason(r))}`);
  }
  out.push("", `checkpoints (${report.checkpoints.length}):`);
  for (const c of report.checkpoints) {
    out.push(
      `  ${c.checkpointId} after ${c.nodeId} · ${when(c.at)} · ${
        c.completedCount ?? c.completedNodes?.length ?? 0
      } done` +
        `${c.nextNodeId ? ` · next ${c.nextNodeId}` : ""}${
          c.waitingOn ? ` · waiting on ${c.waitingOn}` : ""
        }` +
        `${c.finalStatus ? ` · final ${c.finalStatus}` : ""}`,
    );
  }
  out.push("", `interviews (${report.interviews.length}):`);
  for (const i of report.interviews) {
    const answer = i.timedOut
      ? `timed out${i.answer ? ` (default ${i.answer})` : ""}`
      : i.answer ?? "(unanswered)";
    out.push(
      `  ${i.nodeId}: ${i.question ?? "?"}${
        i.options?.length ? ` [${i.options.join(" | ")}]` : ""
      }` +
        ` → ${answer}${i.durationMs === undefined ? "" : ` in ${formatDuration(i.durationMs)}`}`,
    );
  }
  if (report.agentLinks.length) {
    out.push("", `agent sessions (${report.agentLinks.length}):`);
    for (const l of report.agentLinks) {
      out.push(
        `  ${l.nodeId} (${l.stageAttemptId}) → session ${l.agentSessionId} in context ${l.agentContextId}`,
      );
    }
  }
  out.push("", "usage:");
  for (const u of report.usage) {
    if (u.totalTokens === 0 && u.costUsd === undefined) continue;
    out.push(
      `  ${u.nodeId.padEnd(22)} ${String(u.totalTokens).padStart(8)} tokens ` +
        `(${u.inputTokens} in, ${u.outputTokens} out) · ${money(u.costUsd)}`,
    );
  }
  out.push(
    `  ${"total".padEnd(22)} ${String(report.total.totalTokens).padStart(8)} tokens ` +
      `(${report.total.inputTokens} in, ${report.total.outputTokens} out) · ${
        money(report.total.costUsd)
      }`,
  );
  return out.join("\n");
}

/** The agent sessions of one stage's attempts. */
export async function stageSessions(
  store: ForgeStore,
  report: RunReport,
  nodeId: string,
): Promise<{ attempt: StageAttemptView; session?: SessionView }[]> {
  const attempts = report.stages.filter((s) => s.nodeId === nodeId);
  if (attempts.length === 0) {
    const known = [...new Set(report.stages.map((s) => s.nodeId))].join(", ");
    throw new UsageError(`run ${report.run.runId} has no stage ${nodeId} (stages: ${known})`);
  }
  const out = [];
  for (const attempt of attempts) {
    const where = report.stageContexts[attempt.stageAttemptId] ?? report.run.contextId;
    const found = await stageAgentSession(store, where, attempt.stageAttemptId);
    out.push({ attempt, session: found?.session });
  }
  return out;
}

/** Renders `--stage` output. */
export function renderStageSessions(
  nodeId: string,
  rows: { attempt: StageAttemptView; session?: SessionView }[],
  full: boolean,
): string {
  const out: string[] = [];
  for (const { attempt, session } of rows) {
    out.push(
      `stage ${nodeId} attempt ${attempt.attempt} (${attempt.stageAttemptId}): ` +
        `${attemptOutcome(attempt, undefined)}, ${formatDuration(attempt.durationMs)}` +
        `${attempt.failureReason ? ` — ${attempt.failureReason}` : ""}`,
    );
    out.push(
      session
        ? renderSessionDetail(session, { maxLines: full ? Infinity : 12 }, "  ")
        : "  (no agent session: this stage is not an agent stage)",
    );
    out.push("");
  }
  return out.join("\n").trimEnd();
}
