/**
 * Context fidelity (spec §5.4): which mode a stage runs in, which thread a
 * `full` stage continues, and the preamble a fresh session gets instead of
 * the conversation so far.
 *
 * @module
 */
import type { Edge, Graph, Node } from "../graph/types.ts";
import type { RunState } from "./handler.ts";
import type { RunContext } from "./context.ts";
import { stringifyValue } from "./context.ts";

import { FIDELITY_MODES } from "../graph/build.ts";

/** Edge `fidelity`, then node, then graph `default_fidelity`, then `compact`. */
export function resolveFidelity(graph: Graph, node: Node, incoming?: Edge): string {
  const mode = incoming?.fidelity || node.fidelity || graph.attrs.defaultFidelity || "compact";
  return FIDELITY_MODES.includes(mode) ? mode : "compact";
}

/**
 * The thread key under `full` fidelity: node `thread_id`, edge `thread_id`,
 * the graph's `thread_id`, the class derived from the enclosing subgraph,
 * then the previous node's id.
 */
export function resolveThreadKey(
  graph: Graph,
  node: Node,
  incoming: Edge | undefined,
  previousNodeId: string | undefined,
): string {
  const explicit = new Set((node.attrs.class ?? "").split(",").map((c) => c.trim()));
  const fromClass = node.classes.filter((c) => !explicit.has(c)).at(-1);
  return node.threadId || incoming?.threadId || graph.attrs.raw.thread_id || fromClass ||
    previousNodeId || node.id;
}

const BUDGET: Readonly<Record<string, { stages: number; keys: number; chars: number }>> = {
  truncate: { stages: 0, keys: 0, chars: 400 },
  compact: { stages: 12, keys: 16, chars: 3000 },
  "summary:low": { stages: 4, keys: 4, chars: 2400 },
  "summary:medium": { stages: 10, keys: 12, chars: 6000 },
  "summary:high": { stages: 30, keys: 40, chars: 12000 },
};

/**
 * The preamble of a stage that does not continue a conversation: the goal
 * and run id, and (beyond `truncate`) the latest stage outcomes and context
 * values, within the mode's budget. Empty under `full`.
 */
export function buildPreamble(
  mode: string,
  graph: Graph,
  state: RunState,
  context: RunContext,
): string {
  if (mode === "full") return "";
  const budget = BUDGET[mode] ?? BUDGET.compact;
  const lines = [`Pipeline: ${graph.id}`, `Run: ${state.runId}`];
  if (graph.attrs.goal) lines.push(`Goal: ${graph.attrs.goal}`);
  if (budget.stages > 0) {
    const recent = state.completedNodes.slice(-budget.stages);
    if (recent.length) {
      lines.push("", "Completed stages:");
      for (const id of recent) {
        const o = state.nodeOutcomes.get(id);
        const detail = o?.notes || o?.failureReason || "";
        lines.push(`- ${id}: ${o?.status ?? "done"}${detail ? ` — ${detail}` : ""}`);
      }
    }
    const keys = context.keys().filter((k) => !k.startsWith("internal.") && !k.startsWith("graph."))
      .slice(-budget.keys);
    if (keys.length) {
      lines.push("", "Context:");
      for (const k of keys) {
        const v = stringifyValue(context.get(k));
        lines.push(`- ${k}: ${v.length > 200 ? `${v.slice(0, 200)}…` : v}`);
      }
    }
  }
  const text = lines.join("\n");
  return text.length > budget.chars ? `${text.slice(0, budget.chars)}…` : text;
}
