/**
 * A trace as text: the tree of contexts (each under the context whose record
 * linked to it), with their kind, label, fork point and size, optionally
 * their turns, then the timeline.
 *
 * @module
 */
import type { Trace, TraceContext } from "./model.ts";
import { timeline } from "./timeline.ts";

/** Which context each context hangs under in the tree: the first link that reached it. */
export function treeParents(
  trace: Trace,
): Map<string, { contextId: string; turnId: string; field: string }> {
  const parents = new Map<string, { contextId: string; turnId: string; field: string }>();
  for (const l of trace.links) {
    if (l.toContextId === trace.rootContextId || parents.has(l.toContextId)) continue;
    parents.set(l.toContextId, {
      contextId: l.fromContextId,
      turnId: l.fromTurnId,
      field: l.field,
    });
  }
  return parents;
}

/** Children of each context in tree order. */
export function treeChildren(trace: Trace): Map<string, TraceContext[]> {
  const parents = treeParents(trace);
  const children = new Map<string, TraceContext[]>();
  for (const ctx of trace.contexts) {
    const p = parents.get(ctx.contextId);
    if (!p) continue;
    const list = children.get(p.contextId) ?? [];
    list.push(ctx);
    children.set(p.contextId, list);
  }
  return children;
}

/** Formats a duration in ms for people. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** Renders the trace as an indented tree. */
export function renderTraceText(trace: Trace, options: { turns?: boolean } = {}): string {
  const parents = treeParents(trace);
  const children = treeChildren(trace);
  const byId = new Map(trace.contexts.map((c) => [c.contextId, c]));
  const lines: string[] = [];
  const line = (ctx: TraceContext) => {
    const p = parents.get(ctx.contextId);
    const fork = ctx.forkTurnId === "0" ? "" : `, fork of turn ${ctx.forkTurnId}`;
    const via = p ? `, via ${p.field} at turn ${p.turnId}` : "";
    const more = ctx.truncated ? " (truncated)" : "";
    return `${ctx.label} [${ctx.kind}] context ${ctx.contextId}: ${ctx.turns.length} turns, ` +
      `head ${ctx.headTurnId}${fork}${via}${more}`;
  };
  const walk = (ctx: TraceContext, prefix: string, last: boolean, root: boolean) => {
    lines.push(root ? line(ctx) : `${prefix}${last ? "└─ " : "├─ "}${line(ctx)}`);
    const inner = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    const kids = children.get(ctx.contextId) ?? [];
    if (options.turns) {
      for (const t of ctx.turns) {
        lines.push(
          `${inner}${kids.length ? "│ " : "  "} · turn ${t.turnId} #${t.depth} ${t.summary}`,
        );
      }
    }
    kids.forEach((k, i) => walk(k, inner, i === kids.length - 1, false));
  };
  const root = byId.get(trace.rootContextId);
  if (root) walk(root, "", true, true);
  // Contexts reached other than through the tree (should not happen) still print.
  for (const ctx of trace.contexts) {
    if (ctx !== root && !parents.has(ctx.contextId)) lines.push(line(ctx));
  }
  const rows = timeline(trace);
  if (rows.length) {
    lines.push("", rows[0].kind === "stage" ? "stages:" : "tool calls:");
    const t0 = rows[0].startedAt;
    for (const r of rows) {
      const dur = r.endedAt === undefined ? "running" : formatDuration(r.endedAt - r.startedAt);
      const attempt = r.kind === "stage" ? ` #${r.attempt}` : "";
      lines.push(
        `  +${formatDuration(r.startedAt - t0).padEnd(7)} ${`${r.name}${attempt}`.padEnd(24)} ` +
          `${r.status.padEnd(16)} ${dur.padEnd(8)} context ${r.contextId}${
            r.note ? `  ${r.note}` : ""
          }`,
      );
    }
  }
  return lines.join("\n");
}
