/**
 * The routing rule: which outgoing edge a stage takes (spec §3.3 as the
 * reference settles it, point 3). A pure function, used by the engine and
 * by anything that must route exactly as the engine does.
 *
 * 1. **condition** — edges whose condition is true; the best of them by
 *    weight, then target id.
 * 2. **preferred_label** — the first unconditional edge whose label matches
 *    the outcome's preferred label after normalization.
 * 3. **suggested_next_id** — for each suggested id in order, the first
 *    unconditional edge to it.
 * 4. **weight** — the unconditional edge with the highest weight…
 * 5. **lexical** — …ties broken by the smallest target id.
 *
 * Nothing eligible → no edge (`undefined`). Failure routing (a FAIL never
 * falls through an unconditional edge, reference point 2) is the engine's
 * policy on top of this rule.
 *
 * @module
 */
import { evaluateCondition } from "./conditions.ts";
import type { ContextValues, Edge, EdgeSelection, RoutingOutcome } from "./types.ts";

const ACCELERATOR = [
  /^\[([^\]\s])\]\s*/, // [Y] Yes
  /^([A-Za-z0-9])\)\s*/, // Y) Yes
  /^([A-Za-z0-9])\s+-\s+/, // Y - Yes
];

/**
 * Normalizes an edge label for preferred-label matching: trimmed, the
 * accelerator prefix (`[Y] `, `Y) `, `Y - `) removed, lowercased.
 */
export function normalizeLabel(label: string): string {
  let text = label.trim();
  for (const pattern of ACCELERATOR) {
    const m = pattern.exec(text);
    if (m) {
      text = text.slice(m[0].length);
      break;
    }
  }
  return text.trim().toLowerCase();
}

/**
 * The accelerator key of a label (spec §4.6): `[K] Label`, `K) Label`,
 * `K - Label`, else the label's first character; `""` for an empty label.
 */
export function parseAcceleratorKey(label: string): string {
  const text = label.trim();
  for (const pattern of ACCELERATOR) {
    const m = pattern.exec(text);
    if (m) return m[1];
  }
  return text.length ? String.fromCodePoint(text.codePointAt(0)!) : "";
}

/**
 * The best edge by weight (highest first), then target id (smallest first),
 * then source order; with whether the weight alone decided.
 */
export function bestByWeightThenLexical(
  edges: readonly Edge[],
): { edge: Edge; byWeight: boolean } | undefined {
  let best: Edge | undefined;
  let tiedOnWeight = false;
  for (const edge of edges) {
    if (!best || edge.weight > best.weight) {
      best = edge;
      tiedOnWeight = false;
    } else if (edge.weight === best.weight) {
      tiedOnWeight = true;
      if (edge.to < best.to) best = edge;
    }
  }
  return best && { edge: best, byWeight: !tiedOnWeight };
}

/**
 * Chooses the edge a stage takes from its outgoing `edges`, given its
 * outcome and the run context; `undefined` when no edge is eligible.
 *
 * @throws {ConditionSyntaxError} when an edge condition does not parse
 * (validation reports those before a run starts).
 */
export function selectEdge(
  edges: readonly Edge[],
  outcome: RoutingOutcome,
  context: ContextValues,
): EdgeSelection | undefined {
  if (edges.length === 0) return undefined;
  const input = {
    outcome: outcome.status,
    preferredLabel: outcome.preferredLabel ?? "",
    context,
  };
  const matched: Edge[] = [];
  const unconditional: Edge[] = [];
  for (const edge of edges) {
    if (edge.condition === "") unconditional.push(edge);
    else if (evaluateCondition(edge.condition, input)) matched.push(edge);
  }
  if (matched.length) {
    const { edge } = bestByWeightThenLexical(matched)!;
    return { edge, step: "condition", matchedCondition: edge.condition };
  }
  const preferred = normalizeLabel(outcome.preferredLabel ?? "");
  if (preferred !== "") {
    const edge = unconditional.find((e) => normalizeLabel(e.label) === preferred);
    if (edge) return { edge, step: "preferred_label" };
  }
  for (const id of outcome.suggestedNextIds ?? []) {
    const edge = unconditional.find((e) => e.to === id);
    if (edge) return { edge, step: "suggested_next_id" };
  }
  const best = bestByWeightThenLexical(unconditional);
  if (!best) return undefined;
  return { edge: best.edge, step: best.byWeight ? "weight" : "lexical" };
}
