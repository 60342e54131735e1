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
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? "s"];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Parses an integer (`42`, `-1`); `undefined` when the text is not one. */
export function parseInteger(text: string): number | undefined {
  const t = text.trim();
  if (!/^[-+]?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses `true` / `false` (any case); `undefined` for anything else. */
export function parseBoolean(text: string): boolean | undefined {
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

function optionalText(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

/** Where a node's typed field comes from, and how its raw text must look (for lint). */
export type AttributeKind = "integer>=0" | "boolean" | "duration" | "integer";

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

/** Whether `text` is a valid value of `kind`. */
export function isValidAttribute(kind: AttributeKind, text: string): boolean {
  switch (kind) {
    case "integer":
      return parseInteger(text) !== undefined;
    case "integer>=0":
      return nonNegative(parseInteger(text)) !== undefined;
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

/** Builds a node (typed fields derived from `attrs`). The result is frozen. */
export function buildNode(id: string, attrs: RawAttrs, options: BuildNodeOptions = {}): Node {
  const raw = Object.freeze({ ...attrs });
  const shape = raw.shape || "box";
  const type = raw.type ?? "";
  const classes: string[] = [];
  for (const c of [...splitClasses(raw.class), ...(options.subgraphClasses ?? [])]) {
    if (c && !classes.includes(c)) classes.push(c);
  }
  const node: Node = {
    id,
    shape,
    type,
    handlerType: type || SHAPE_HANDLER_TYPES[shape] || "codergen",
    label: raw.label ?? id,
    prompt: raw.prompt ?? "",
    classes: Object.freeze(classes),
    maxRetries: nonNegative(parseInteger(raw.max_retries ?? "")),
    goalGate: parseBoolean(raw.goal_gate ?? "") ?? false,
    retryTarget: optionalText(raw.retry_target),
    fallbackRetryTarget: optionalText(raw.fallback_retry_target),
    fidelity: optionalText(raw.fidelity),
    threadId: optionalText(raw.thread_id),
    timeoutMs: parseDuration(raw.timeout ?? ""),
    llmModel: optionalText(raw.llm_model),
    llmProvider: optionalText(raw.llm_provider),
    reasoningEffort: optionalText(raw.reasoning_effort),
    autoStatus: parseBoolean(raw.auto_status ?? "") ?? false,
    allowPartial: parseBoolean(raw.allow_partial ?? "") ?? false,
    maxVisits: nonNegative(parseInteger(raw.max_visits ?? "")),
    attrs: raw,
    loc: options.loc,
  };
  return Object.freeze(dropUndefined(node));
}

/**
 * A copy of `node` with attributes set (a `undefined` value removes one);
 * classes derived from subgraphs are kept. `node` is not changed.
 */
export function withNodeAttrs(
  node: Node,
  patch: Readonly<Record<string, string | undefined>>,
): Node {
  const attrs: Record<string, string> = { ...node.attrs };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete attrs[k];
    else attrs[k] = v;
  }
  const own = new Set(splitClasses(node.attrs.class));
  const subgraphClasses = node.classes.filter((c) => !own.has(c));
  return buildNode(node.id, attrs, { subgraphClasses, loc: node.loc });
}

/** Builds an edge (typed fields derived from `attrs`). The result is frozen. */
export function buildEdge(from: string, to: string, attrs: RawAttrs, loc?: SourceLocation): Edge {
  const raw = Object.freeze({ ...attrs });
  const edge: Edge = {
    from,
    to,
    label: raw.label ?? "",
    condition: (raw.condition ?? "").trim(),
    weight: parseInteger(raw.weight ?? "") ?? 0,
    fidelity: optionalText(raw.fidelity),
    threadId: optionalText(raw.thread_id),
    loopRestart: parseBoolean(raw.loop_restart ?? "") ?? false,
    attrs: raw,
    loc,
  };
  return Object.freeze(dropUndefined(edge));
}

/** A copy of `edge` with attributes set (a `undefined` value removes one). */
export function withEdgeAttrs(
  edge: Edge,
  patch: Readonly<Record<string, string | undefined>>,
): Edge {
  const attrs: Record<string, string> = { ...edge.attrs };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete attrs[k];
    else attrs[k] = v;
  }
  return buildEdge(edge.from, edge.to, attrs, edge.loc);
}

/** Builds typed graph attributes from raw graph attributes. The result is frozen. */
export function buildGraphAttrs(attrs: RawAttrs): GraphAttrs {
  const raw = Object.freeze({ ...attrs });
  const retries = nonNegative(parseInteger(raw.default_max_retries ?? "")) ??
    nonNegative(parseInteger(raw.default_max_retry ?? "")) ?? 0;
  const out: GraphAttrs = {
    goal: raw.goal ?? "",
    label: raw.label ?? "",
    modelStylesheet: raw.model_stylesheet ?? "",
    defaultMaxRetries: retries,
    retryTarget: optionalText(raw.retry_target),
    fallbackRetryTarget: optionalText(raw.fallback_retry_target),
    defaultFidelity: optionalText(raw.default_fidelity),
    maxLoopRestarts: nonNegative(parseInteger(raw.max_loop_restarts ?? "")) ?? 5,
    defaultMaxVisits: nonNegative(parseInteger(raw.default_max_visits ?? "")) ?? 0,
    raw,
  };
  return Object.freeze(dropUndefined(out));
}

/** Assembles a frozen graph from its parts (arrays are copied). */
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
  const raw: Record<string, string> = { ...graph.attrs.raw };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete raw[k];
    else raw[k] = v;
  }
  return buildGraph(graph.id, buildGraphAttrs(raw), graph.nodes, graph.edges);
}

// Optional fields are absent rather than present-and-undefined, so a graph
// compares and serializes the same whichever way it was built.
function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}
