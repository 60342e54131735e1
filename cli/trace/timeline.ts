/**
 * The timeline of a trace: one row per stage attempt of a run (from its
 * stage lifecycle records), or, for a trace without stages, one row per tool
 * call of its sessions. Rows carry start, end, outcome and the context that
 * holds them, so the page can draw bars and link them to the DAG.
 *
 * @module
 */
import type { Trace } from "./model.ts";

/** One bar of the timeline. */
export interface TimelineRow {
  /** Stage node id, or tool name. */
  readonly name: string;
  /** "stage" or "tool". */
  readonly kind: "stage" | "tool";
  /** The stage attempt id (stages only). */
  readonly stageAttemptId?: string;
  /** Attempt number of a stage (1 for tools). */
  readonly attempt: number;
  /** The context holding the start record. */
  readonly contextId: string;
  /** The start record's turn. */
  readonly turnId: string;
  /** Start, ms since the epoch. */
  readonly startedAt: number;
  /** End, when it ended. */
  endedAt?: number;
  /** Outcome: success, fail, retry, partial_success, …, or "running". */
  status: string;
  /** Notes or failure reason. */
  note?: string;
}

/** The timeline rows of `trace`, by start time. */
export function timeline(trace: Trace): TimelineRow[] {
  const stages = new Map<string, TimelineRow>();
  const tools = new Map<string, TimelineRow>();
  for (const ctx of trace.contexts) {
    for (const t of ctx.turns) {
      const f = t.fields;
      if (!f || t.at === undefined) continue;
      if (t.typeId === "forge.attractor.stage_lifecycle") {
        const key = `${f.runId}/${f.stageAttemptId}`;
        if (f.kind === "started") {
          stages.set(key, {
            name: String(f.nodeId),
            kind: "stage",
            stageAttemptId: String(f.stageAttemptId),
            attempt: Number(f.attempt ?? 1),
            contextId: ctx.contextId,
            turnId: t.turnId,
            startedAt: t.at,
            status: "running",
          });
        } else {
          const row = stages.get(key);
          if (!row) continue;
          row.endedAt = t.at;
          row.status = f.kind === "retrying" ? "retry" : String(f.status ?? f.kind);
          const note = f.failureReason ?? f.notes;
          if (note !== undefined) row.note = String(note);
        }
      } else if (t.typeId === "forge.agent.tool_call_lifecycle") {
        const key = `${ctx.contextId}/${f.callId}`;
        if (f.kind === "started") {
          tools.set(key, {
            name: String(f.toolName),
            kind: "tool",
            attempt: 1,
            contextId: ctx.contextId,
            turnId: t.turnId,
            startedAt: t.at,
            status: "running",
          });
        } else {
          const row = tools.get(key);
          if (!row) continue;
          row.endedAt = t.at;
          row.status = f.isError ? "error" : "success";
        }
      }
    }
  }
  const rows = stages.size > 0 ? [...stages.values()] : [...tools.values()];
  return rows.sort((a, b) => a.startedAt - b.startedAt);
}
