/**
 * Builds typed nodes, edges and graph attributes from raw attribute text.
 * One function per object kind, used by the parser and by every transform,
 * so typed fields always agree with `attrs`.
 *
 * @module
 */
import type {
  BuiltinHandlerType,
  Edge,
  Graph,
  GraphAttrs,
  Node,
  RawAttrs,
  SourceLocation,
} from "./types.ts";

/** The spec's shape → handler type mapping (§2.8). */
export const SHAPE_HANDLER_TYPES: Readonly<Record<string, BuiltinHandlerType>> = Object.freeze({
  Mdiamond: "start",
  Msquare: "exit",
  box: "codergen",
  hexagon: "wait.human",
  diamond: "conditional",
  component: "parallel",
  tripleoctagon: "parallel.fan_in",
  parallelogram: "tool",
  house: "stack.manager_loop",
});

/** Every handler type the spec defines. */
export const BUILTIN_HANDLER_TYPES: readonly BuiltinHandlerType[] = Object.freeze([
  "start",
  "exit",
  "codergen",
  "wait.human",
  "conditional",
  "parallel",
  "parallel.fan_in",
  "tool",
  "stack.manager_loop",
]);

/** The six fidelity modes (spec §5.4). */
export const FIDELITY_MODES: readonly string[] = Object.freeze([
  "full",
  "truncate",
  "compact",
  "summary:low",
  "summary:medium",
  "summary:high",
]);

const SHAPE_TYPES: ReadonlyMap<string, BuiltinHandlerType> = new Map(
  Object.entries(SHAPE_HANDLER_TYPES),
);
const NO_CLASSES: readonly string[] = Object.freeze([]);

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration (`250ms`, `900s`, `15m`, `2h`, `1d`; a bare integer is
 * seconds) into milliseconds; `undefined` when the text is not a duration.
 */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? "s"];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Parses an integer (`42`, `-1`); `undefined` when the text is not one. */
export function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^[-+]?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses `true` / `false` (any case); `undefined` for anything else. */
export function parseBoolean(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

/** Splits a `class` attribute on commas (and whitespace), dropping empty names. */
export function splitClasses(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(/[,\s]+/).filter((c) => c.length > 0);
}

/**
 * The class a subgraph label derives (spec §2.10): lowercased, spaces to
 * hyphens, everything but `[a-z0-9-]` dropped. `""` when nothing is left.
 */
export function deriveClassName(label: string): string {
  return label.toLowerCase().trim().replace(/\s+/g, "-").replace(/[^a-z0-9-]/g, "");
}

function nonNegative(n: number | undefined): number | undefined {
  return n !== undefined && n >= 0 ? n : undefined;
}

/** Where a node's typed field comes from, and how its raw text must look (for lint). */
export type AttributeKind = "integer>=0" | "integer>=1" | "boolean" | "duration" | "integer";

/** Node attributes with a typed field, and the kind of value each takes. */
export const NODE_ATTRIBUTE_KINDS: Readonly<Record<string, AttributeKind>> = Object.freeze({
  max_retries: "integer>=0",
  goal_gate: "boolean",
  timeout: "duration",
  auto_status: "boolean",
  allow_partial: "boolean",
  max_visits: "integer>=0",
});

/** Edge attributes with a typed field, and the kind of value each takes. */
export const EDGE_ATTRIBUTE_KINDS: Readonly<Record<string, AttributeKind>> = Object.freeze({
  weight: "integer",
  loop_restart: "boolean",
});

/** Graph attributes with a typed field, and the kind of value each takes. */
export const GRAPH_ATTRIBUTE_KINDS: Readonly<Record<string, AttributeKind>> = Object.freeze({
  default_max_retries: "integer>=0",
  default_max_retry: "integer>=0",
  max_loop_restarts: "integer>=0",
  default_max_visits: "integer>=0",
});

/**
 * Node attributes one handler reads (they stay raw on the node), and the kind
 * of value each takes: a malformed one would otherwise be replaced by the
 * handler's default without a word (`manager.poll_interval=soon` polling
 * every 45 s, `max_parallel=0` running 4 at once).
 */
export const HANDLER_ATTRIBUTE_KINDS: Readonly<Record<string, AttributeKind>> = Object.freeze({
  max_parallel: "integer>=1",
  "human.timeout": "duration",
  "manager.poll_interval": "duration",
  "manager.max_cycles": "integer>=1",
  "stack.child_autostart": "boolean",
});

/** Node attributes that take one of a few names, and the names. */
export const HANDLER_ATTRIBUTE_VALUES: Readonly<Record<string, readonly string[]>> = Object
  .freeze({
    join_policy: Object.freeze(["wait_all", "first_success"]),
    retry_policy: Object.freeze(["none", "standard", "aggressive", "linear", "patient"]),
  });

/** Whether `text` is a valid value of `kind`. */
export function isValidAttribute(kind: AttributeKind, text: string): boolean {
  switch (kind) {
    case "integer":
      return parseInteger(text) !== undefined;
    case "integer>=0":
      return nonNegative(parseInteger(text)) !== undefined;
    case "integer>=1":
      return (parseInteger(text) ?? 0) >= 1;
    case "boolean":
      return parseBoolean(text) !== undefined;
    case "duration":
      return parseDuration(text) !== undefined;
  }
}

/** Extra inputs of {@linkcode buildNode}. */
export interface BuildNodeOptions {
  /** Classes derived from enclosing subgraph labels (outermost first). */
  readonly subgraphClasses?: readonly string[];
  /** Where the node was first mentioned. */
  readonly loc?: SourceLocation;
}

/** Builds a node (typed fields derived from a copy of `attrs`). */
export function buildNode(id: string, attrs: RawAttrs, options: BuildNodeOptions = {}): Node {
  return makeNode(id, { ...attrs }, options);
}

/** `buildNode` over an attribute record the node may keep (no copy). */
function makeNode(id: string, raw: RawAttrs, options: BuildNodeOptions): Node {
  const shape = raw.shape || "box";
  const type = raw.type ?? "";
  const own = raw.class ? splitClasses(raw.class) : NO_CLASSES;
  const inherited = options.subgraphClasses ?? NO_CLASSES;
  // Classes are readonly, so a node may share its subgraph's array.
  let classes: readonly string[] = inherited;
  if (own.length) {
    const merged: string[] = [];
    for (const c of own) if (!merged.includes(c)) merged.push(c);
    for (const c of inherited) if (!merged.includes(c)) merged.push(c);
    classes = merged;
  }
  // Every field present (unset ones `undefined`), in one order: nodes share
  // one object shape, which keeps every reader of them fast.
  return {
    id,
    shape,
    type,
    handlerType: type || SHAPE_TYPES.get(shape) || "codergen",
    label: raw.label ?? id,
    prompt: raw.prompt ?? "",
    classes,
    maxRetries: nonNegative(parseInteger(raw.max_retries)),
    goalGate: parseBoolean(raw.goal_gate) ?? false,
    retryTarget: raw.retry_target || undefined,
    fallbackRetryTarget: raw.fallback_retry_target || undefined,
    fidelity: raw.fidelity || undefined,
    threadId: raw.thread_id || undefined,
    timeoutMs: parseDuration(raw.timeout),
    llmModel: raw.llm_model || undefined,
    llmProvider: raw.llm_provider || undefined,
    reasoningEffort: raw.reasoning_effort || undefined,
    autoStatus: parseBoolean(raw.auto_status) ?? false,
    allowPartial: parseBoolean(raw.allow_partial) ?? false,
    maxVisits: nonNegative(parseInteger(raw.max_visits)),
    attrs: raw,
    loc: options.loc,
  };
}

/**
 * A copy of `node` with attributes set (a `undefined` value removes one);
 * classes derived from subgraphs are kept. `node` is not changed.
 */
export function withNodeAttrs(
  node: Node,
  patch: Readonly<Record<string, string | undefined>>,
): Node {
  const attrs = patchAttrs(node.attrs, patch);
  const fast = patchTextFields(node, attrs, patch);
  if (fast) return fast;
  const own = splitClasses(node.attrs.class);
  const subgraphClasses = own.length ? node.classes.filter((c) => !own.includes(c)) : node.classes;
  return makeNode(node.id, attrs, { subgraphClasses, loc: node.loc });
}

// Transforms mostly set plain text attributes (a prompt, the stylesheet's
// model fields); for those the typed node is the old one with the same
// fields replaced, which is what `makeNode` would build, at a fraction of
// the cost. Anything else (or an empty value) takes the full rebuild.
function patchTextFields(
  node: Node,
  attrs: RawAttrs,
  patch: Readonly<Record<string, string | undefined>>,
): Node | undefined {
  const out: Mutable<Node> = { ...node, attrs };
  for (const key in patch) {
    const value = patch[key];
    if (!value) return undefined;
    if (key === "prompt") out.prompt = value;
    else if (key === "llm_model") out.llmModel = value;
    else if (key === "llm_provider") out.llmProvider = value;
    else if (key === "reasoning_effort") out.reasoningEffort = value;
    else return undefined;
  }
  return out;
}

// Spreads rather than keyed stores: attribute records come in many shapes,
// and a spread copies them far faster than `attrs[key] = value` in a loop.
function patchAttrs(
  attrs: RawAttrs,
  patch: Readonly<Record<string, string | undefined>>,
): RawAttrs {
  const out = { ...attrs, ...patch };
  for (const key in patch) {
    if (patch[key] === undefined) delete out[key];
  }
  return out as RawAttrs;
}

/** Builds an edge (typed fields derived from a copy of `attrs`). */
export function buildEdge(from: string, to: string, attrs: RawAttrs, loc?: SourceLocation): Edge {
  const raw: RawAttrs = { ...attrs };
  return {
    from,
    to,
    label: raw.label ?? "",
    condition: (raw.condition ?? "").trim(),
    weight: parseInteger(raw.weight) ?? 0,
    fidelity: raw.fidelity || undefined,
    threadId: raw.thread_id || undefined,
    loopRestart: parseBoolean(raw.loop_restart) ?? false,
    attrs: raw,
    loc,
  };
}

/** A copy of `edge` with attributes set (a `undefined` value removes one). */
export function withEdgeAttrs(
  edge: Edge,
  patch: Readonly<Record<string, string | undefined>>,
): Edge {
  return buildEdge(edge.from, edge.to, patchAttrs(edge.attrs, patch), edge.loc);
}

/** Builds typed graph attributes from (a copy of) raw graph attributes. */
export function buildGraphAttrs(attrs: RawAttrs): GraphAttrs {
  const raw: RawAttrs = { ...attrs };
  const retries = nonNegative(parseInteger(raw.default_max_retries)) ??
    nonNegative(parseInteger(raw.default_max_retry)) ?? 0;
  return {
    goal: raw.goal ?? "",
    label: raw.label ?? "",
    modelStylesheet: raw.model_stylesheet ?? "",
    defaultMaxRetries: retries,
    retryTarget: raw.retry_target || undefined,
    fallbackRetryTarget: raw.fallback_retry_target || undefined,
    defaultFidelity: raw.default_fidelity || undefined,
    maxLoopRestarts: nonNegative(parseInteger(raw.max_loop_restarts)) ?? 5,
    defaultMaxVisits: nonNegative(parseInteger(raw.default_max_visits)) ?? 0,
    raw,
  };
}

/**
 * Assembles a graph from its parts (arrays are copied). The graph object and
 * its arrays are frozen; nodes and edges are readonly by type only (freezing
 * each one would cost more than parsing them).
 */
export function buildGraph(
  id: string,
  attrs: GraphAttrs,
  nodes: readonly Node[],
  edges: readonly Edge[],
): Graph {
  return Object.freeze({
    id,
    attrs,
    nodes: Object.freeze([...nodes]),
    edges: Object.freeze([...edges]),
  });
}

/** A copy of `graph` with graph attributes set (a `undefined` value removes one). */
export function withGraphAttrs(
  graph: Graph,
  patch: Readonly<Record<string, string | undefined>>,
): Graph {
  return buildGraph(
    graph.id,
    buildGraphAttrs(patchAttrs(graph.attrs.raw, patch)),
    graph.nodes,
    graph.edges,
  );
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
