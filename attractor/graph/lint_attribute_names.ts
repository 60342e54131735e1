/**
 * `attribute_name` (WARNING): an attribute whose name is a near miss of one
 * the runner reads. The spec allows custom attributes, so an unknown name is
 * no error; but a misspelt known one changes the run without a word —
 * `conditon=` leaves its edge unconditional, `max_retires=3` retries
 * nothing. A name is a near miss when it is not known and lies within a small
 * edit distance of a known one (case, one typo, a swap of two letters; two in
 * a long name), or is a known namespaced name under a misspelt namespace
 * (`simualte.context.x`). Graphviz's own attributes (`color`, `rankdir`, …)
 * are known too: they never warn, and are never suggested (a typo in one
 * changes only the drawing).
 *
 * @module
 */
import type { LintContext, LintRule } from "./lint.ts";
import type { Diagnostic, Edge, Graph, Node } from "./types.ts";

/** Where an attribute is set. */
export type AttributeScope = "graph" | "node" | "edge";

const TOOL_HOOKS = ["tool_hooks.pre", "tool_hooks.post"];

/** The attributes the runner reads, by where they are set (spec §2, and the handlers'). */
export const RUNNER_ATTRIBUTES: Readonly<Record<AttributeScope, readonly string[]>> = Object
  .freeze({
    graph: Object.freeze([
      "goal",
      "label",
      "model_stylesheet",
      "default_max_retries",
      "default_max_retry",
      "retry_target",
      "fallback_retry_target",
      "default_fidelity",
      "max_loop_restarts",
      "default_max_visits",
      "thread_id",
      "stack.child_dotfile",
      ...TOOL_HOOKS,
    ]),
    node: Object.freeze([
      "label",
      "shape",
      "type",
      "class",
      "prompt",
      "max_retries",
      "goal_gate",
      "retry_target",
      "fallback_retry_target",
      "fidelity",
      "thread_id",
      "timeout",
      "llm_model",
      "llm_provider",
      "reasoning_effort",
      "auto_status",
      "allow_partial",
      "max_visits",
      "retry_policy",
      "max_parallel",
      "join_policy",
      "tool_command",
      "command",
      "tool_workdir",
      ...TOOL_HOOKS,
      "human.timeout",
      "human.default_choice",
      "manager.poll_interval",
      "manager.max_cycles",
      "manager.stop_condition",
      "manager.steer_prompt",
      "manager.actions",
      "stack.child_dotfile",
      "stack.child_autostart",
      "simulate.outcomes",
      "simulate.outcome",
      "simulate.delay_ms",
      "simulate.preferred_label",
    ]),
    edge: Object.freeze(["label", "condition", "weight", "fidelity", "thread_id", "loop_restart"]),
  });

/** Namespaces whose every name is the runner's (`simulate.context.<key>`). */
const OPEN_NAMESPACES: readonly string[] = ["simulate.context"];

const GRAPHVIZ_COMMON = [
  "label",
  "xlabel",
  "tooltip",
  "URL",
  "href",
  "target",
  "id",
  "class",
  "style",
  "color",
  "fillcolor",
  "fontcolor",
  "fontname",
  "fontsize",
  "penwidth",
  "comment",
  "colorscheme",
  "layer",
  "labelloc",
  "gradientangle",
];

/** Graphviz's attributes: a pipeline may carry them for its drawing. */
const GRAPHVIZ: Readonly<Record<AttributeScope, ReadonlySet<string>>> = {
  graph: new Set([
    ...GRAPHVIZ_COMMON,
    "rankdir",
    "rank",
    "ranksep",
    "nodesep",
    "splines",
    "bgcolor",
    "size",
    "ratio",
    "compound",
    "concentrate",
    "newrank",
    "center",
    "dpi",
    "margin",
    "pad",
    "labeljust",
    "ordering",
    "overlap",
    "layout",
    "fontpath",
    "outputorder",
    "pack",
    "packmode",
    "rotate",
    "landscape",
    "page",
    "pagedir",
    "quantum",
    "remincross",
    "searchsize",
    "stylesheet",
    "truecolor",
    "viewport",
    "charset",
    "forcelabels",
    "clusterrank",
    "esep",
    "sep",
    "mode",
    "model",
    "start",
    "peripheries",
    "pencolor",
  ]),
  node: new Set([
    ...GRAPHVIZ_COMMON,
    "width",
    "height",
    "fixedsize",
    "margin",
    "peripheries",
    "sides",
    "skew",
    "distortion",
    "orientation",
    "regular",
    "image",
    "imagescale",
    "group",
    "pos",
    "nojustify",
    "sortv",
    "z",
    "pin",
    "rects",
    "samplepoints",
    "showboxes",
    "vertices",
  ]),
  edge: new Set([
    ...GRAPHVIZ_COMMON,
    "arrowhead",
    "arrowtail",
    "arrowsize",
    "dir",
    "constraint",
    "minlen",
    "headport",
    "tailport",
    "headlabel",
    "taillabel",
    "labelfontsize",
    "labelfontcolor",
    "labelfontname",
    "labelangle",
    "labeldistance",
    "labelfloat",
    "decorate",
    "lhead",
    "ltail",
    "samehead",
    "sametail",
    "headclip",
    "tailclip",
    "edgetooltip",
    "edgeURL",
    "headURL",
    "tailURL",
    "len",
  ]),
};

/**
 * Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of two neighbours each cost one (`max_retires` is one from
 * `max_retries`). Stops early once past `limit`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * How far a name may be from a known one and still be taken for a typo of
 * it: case alone always; one edit when both have 4 characters or more; two
 * when both have 8 or more. Short names stay apart: custom ones are often
 * short, and one letter turns many short words into others.
 */
function allowedDistance(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  return shorter >= 8 ? 2 : shorter >= 4 ? 1 : 0;
}

/** The known name `name` is most likely a misspelling of, if any. */
export function nearMissAttribute(scope: AttributeScope, name: string): string | undefined {
  const known = RUNNER_ATTRIBUTES[scope];
  if (known.includes(name) || GRAPHVIZ[scope].has(name)) return undefined;
  if (OPEN_NAMESPACES.some((ns) => name.startsWith(`${ns}.`))) return undefined;
  let best: { name: string; distance: number } | undefined;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const d = lower === candidate.toLowerCase()
      ? 0
      : editDistance(lower, candidate, allowedDistance(name, candidate));
    if (d <= allowedDistance(name, candidate) && (!best || d < best.distance)) {
      best = { name: candidate, distance: d };
    }
  }
  if (best) return best.name;
  return misspeltNamespace(scope, name);
}

/** The namespaces of the known names (`simulate`, `manager`, …), by scope. */
const NAMESPACES: Readonly<Record<AttributeScope, ReadonlySet<string>>> = (() => {
  const of = (scope: AttributeScope) =>
    new Set(
      [...RUNNER_ATTRIBUTES[scope], ...OPEN_NAMESPACES.map((ns) => `${ns}.`)]
        .filter((n) => n.includes("."))
        .map((n) => n.slice(0, n.indexOf("."))),
    );
  return { graph: of("graph"), node: of("node"), edge: of("edge") };
})();

/**
 * A known namespaced name under a misspelt namespace: `simualte.outcomes`,
 * `maanger.max_cycles`, `simulte.context.score`.
 */
function misspeltNamespace(scope: AttributeScope, name: string): string | undefined {
  const dot = name.indexOf(".");
  if (dot <= 0) return undefined;
  const [prefix, rest] = [name.slice(0, dot), name.slice(dot + 1)];
  for (const ns of NAMESPACES[scope]) {
    if (ns === prefix) continue;
    if (
      editDistance(prefix.toLowerCase(), ns, allowedDistance(prefix, ns)) >
        allowedDistance(prefix, ns)
    ) {
      continue;
    }
    const fixed = `${ns}.${rest}`;
    const known = RUNNER_ATTRIBUTES[scope].includes(fixed) ||
      OPEN_NAMESPACES.some((open) => fixed.startsWith(`${open}.`));
    if (known) return fixed;
  }
  return undefined;
}

/** What a misspelt attribute does, in words: it is ignored. */
function consequence(known: string): string {
  return known === "condition"
    ? "the edge is unconditional"
    : `${known} is not set (the name is read as a custom attribute)`;
}

/** `attribute_name` (WARNING): see the module's documentation. */
export const attributeNameRule: LintRule = Object.freeze({
  name: "attribute_name",
  apply(graph: Graph, ctx: LintContext): Diagnostic[] {
    const out: Diagnostic[] = [];
    // A pipeline repeats a handful of names over every node and edge: each is
    // judged once, and `null` marks a name judged fine (one lookup per name).
    const judged = {
      graph: new Map<string, string | null>(),
      node: new Map<string, string | null>(),
      edge: new Map<string, string | null>(),
    } as const;
    const nearMiss = (scope: AttributeScope, name: string): string | undefined => {
      const seen = judged[scope];
      let known = seen.get(name);
      if (known === undefined) seen.set(name, known = nearMissAttribute(scope, name) ?? null);
      return known ?? undefined;
    };
    const warn = (
      name: string,
      known: string,
      where: string,
      at: { nodeId?: string; edge?: Diagnostic["edge"]; loc?: Diagnostic["loc"] },
    ) => {
      out.push({
        rule: "attribute_name",
        severity: "warning",
        message: `${where}: ${name} is not an attribute the runner reads; ` +
          `if ${known} was meant, ${consequence(known)}`,
        ...at,
        fix: `rename ${name} to ${known} (or, for an attribute of your own, pick a name ` +
          `further from it)`,
      });
    };
    for (const name of Object.keys(graph.attrs.raw)) {
      const known = nearMiss("graph", name);
      if (known !== undefined) warn(name, known, "graph", {});
    }
    for (const n of graph.nodes as readonly Node[]) {
      for (const name in n.attrs) {
        const known = nearMiss("node", name);
        if (known !== undefined) warn(name, known, `node ${n.id}`, { nodeId: n.id, loc: n.loc });
      }
    }
    for (const e of graph.edges as readonly Edge[]) {
      for (const name in e.attrs) {
        const known = nearMiss("edge", name);
        if (known === undefined) continue;
        warn(name, known, `edge ${e.from} -> ${e.to}`, { edge: ctx.edgeRef(e), loc: e.loc });
      }
    }
    return out;
  },
});
