/**
 * A trace as Graphviz DOT: one cluster per context holding its own turns,
 * parent edges between turns (a fork's first turn points at the turn it
 * forks from, across clusters), and dashed edges from each record that names
 * another context to that context's first turn.
 *
 * @module
 */
import type { Trace } from "./model.ts";

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

const COLORS: Record<string, string> = {
  run: "#dbeafe",
  session: "#dcfce7",
  "stage session": "#dcfce7",
  subagent: "#fef9c3",
  branch: "#fae8ff",
  attempt: "#ffedd5",
  context: "#f3f4f6",
};

/** Renders the trace as a DOT digraph. */
export function renderTraceDot(trace: Trace): string {
  const out = [
    "digraph forge_trace {",
    "  rankdir=LR;",
    '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=10];',
    '  edge [color="#6b7280"];',
  ];
  const first = new Map<string, string>();
  for (const ctx of trace.contexts) {
    const anchor = ctx.turns[0]?.turnId ?? `ctx${ctx.contextId}`;
    first.set(ctx.contextId, ctx.turns.length ? `t${anchor}` : anchor);
    out.push(`  subgraph cluster_${ctx.contextId} {`);
    out.push(`    label=${quote(`${ctx.label} [${ctx.kind}] · context ${ctx.contextId}`)};`);
    out.push(`    style=filled; color=${quote(COLORS[ctx.kind] ?? "#f3f4f6")};`);
    if (ctx.turns.length === 0) {
      out.push(`    ${anchor} [label=${quote("(no turns of its own)")}, shape=plaintext];`);
    }
    for (const t of ctx.turns) {
      out.push(`    t${t.turnId} [label=${quote(`${t.turnId} · ${t.summary}`)}];`);
    }
    out.push("  }");
  }
  const traced = new Set(trace.contexts.flatMap((c) => c.turns.map((t) => t.turnId)));
  for (const ctx of trace.contexts) {
    if (ctx.turns.length === 0 && ctx.forkTurnId !== "0" && traced.has(ctx.forkTurnId)) {
      out.push(`  t${ctx.forkTurnId} -> ${first.get(ctx.contextId)} [style=dotted];`);
    }
    for (const t of ctx.turns) {
      if (traced.has(t.parentTurnId)) out.push(`  t${t.parentTurnId} -> t${t.turnId};`);
    }
  }
  for (const l of trace.links) {
    const to = first.get(l.toContextId);
    if (!to) continue;
    out.push(
      `  t${l.fromTurnId} -> ${to} [style=dashed, color="#2563eb", label=${
        quote(l.field)
      }, fontsize=8];`,
    );
  }
  out.push("}");
  return out.join("\n");
}
