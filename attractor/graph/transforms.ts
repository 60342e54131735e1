/**
 * Transforms (spec §9): functions from a graph to a new graph, applied after
 * parsing and before validation. None changes its input: a graph and its
 * arrays are frozen, and every transform builds new node objects for what it
 * changes (the tests run each one on a deeply frozen graph).
 *
 * Built in, in this order: `$goal` expansion in prompts, then the model
 * stylesheet. Custom transforms run after them, in the order given.
 *
 * @module
 */
import { withNodeAttrs } from "./build.ts";
import {
  type MutableNode,
  type NodeFinisher,
  parseDotFinishing,
  type ParseDotOptions,
} from "./parser.ts";
import { applyStylesheet, parseStylesheet, stylePatch, type Stylesheet } from "./stylesheet.ts";
import type { Diagnostic, Graph, GraphAttrs, Node } from "./types.ts";
import { validate, type ValidateOptions } from "./lint.ts";

/** A graph rewrite. `apply` must return a new graph and leave its input as it was. */
export interface Transform {
  /** A name for diagnostics and logs. */
  readonly name: string;
  /** Returns the rewritten graph (or the same graph when nothing changes). */
  apply(graph: Graph): Graph;
}

/**
 * Replaces `$goal` in every node's `prompt` with the graph's `goal`
 * (simple string replacement, spec §4.5; not a template engine).
 */
export const expandGoalTransform: Transform = Object.freeze({
  name: "expand_goal",
  apply(graph: Graph): Graph {
    const goal = graph.attrs.goal;
    let changed = false;
    const nodes = graph.nodes.map((node) => {
      const prompt = node.attrs.prompt;
      if (prompt === undefined || !prompt.includes("$goal")) return node;
      changed = true;
      return withNodeAttrs(node, { prompt: prompt.replaceAll("$goal", goal) });
    });
    return changed ? Object.freeze({ ...graph, nodes: Object.freeze(nodes) }) : graph;
  },
});

/**
 * Applies the graph's `model_stylesheet`. A stylesheet that does not parse
 * is left alone here: validation reports it (`stylesheet_syntax`).
 */
export const stylesheetTransform: Transform = Object.freeze({
  name: "model_stylesheet",
  apply(graph: Graph): Graph {
    let stylesheet: Stylesheet;
    try {
      stylesheet = parseStylesheet(graph.attrs.modelStylesheet);
    } catch {
      return graph;
    }
    return applyStylesheet(graph, stylesheet);
  },
});

/**
 * Both built-in transforms in one pass over the nodes, so a node is rebuilt
 * at most once: the same result as `expandGoalTransform` then
 * `stylesheetTransform` (they touch different attributes), in about half the
 * time. `prepareGraph` applies them while the parser builds the nodes, so
 * they are not built twice.
 */
export const builtinTransform: Transform = Object.freeze({
  name: "builtin",
  apply(graph: Graph): Graph {
    const apply = builtinsFor(graph.attrs);
    let changed = false;
    const nodes = graph.nodes.map((node) => {
      const out = apply(node, false);
      if (out !== node) changed = true;
      return out;
    });
    return changed ? Object.freeze({ ...graph, nodes: Object.freeze(nodes) }) : graph;
  },
});

/** The built-in transforms as the parser's node finisher: its nodes are new, so in place. */
const finishBuiltin: NodeFinisher = (graphAttrs) => {
  const apply = builtinsFor(graphAttrs);
  return (node) => apply(node, true);
};

/**
 * The built-in transforms of a graph with `graphAttrs`, for one node: the
 * node itself when they change nothing, else the node with the stylesheet's
 * fields and the expanded prompt set — on the node itself when `inPlace`
 * (one nothing else has seen), on a copy otherwise. Each typed field is
 * derived as `buildNode` derives it (an empty model is no model), with named
 * stores: every node shares one shape, and keyed or generic patching here
 * cost as much as the rest of the pass.
 */
function builtinsFor(graphAttrs: GraphAttrs): (node: Node, inPlace: boolean) => Node {
  const goal = graphAttrs.goal;
  const styled = usableStylesheet(graphAttrs);
  return (node, inPlace) => {
    const style = styled ? stylePatch(styled, node) : undefined;
    const prompt = node.attrs.prompt;
    const expand = prompt !== undefined && prompt.includes("$goal");
    if (!style && !expand) return node;
    const out: MutableNode = inPlace ? node : { ...node, attrs: { ...node.attrs } };
    const attrs = out.attrs as Record<string, string>;
    if (style?.llm_model !== undefined) {
      out.llmModel = (attrs.llm_model = style.llm_model) || undefined;
    }
    if (style?.llm_provider !== undefined) {
      out.llmProvider = (attrs.llm_provider = style.llm_provider) || undefined;
    }
    if (style?.reasoning_effort !== undefined) {
      out.reasoningEffort = (attrs.reasoning_effort = style.reasoning_effort) || undefined;
    }
    if (expand) out.prompt = attrs.prompt = prompt.replaceAll("$goal", goal);
    return out;
  };
}

/** The graph's model stylesheet when it parses and has rules (validation reports one that does not parse). */
function usableStylesheet(attrs: GraphAttrs): Stylesheet | undefined {
  try {
    const stylesheet = parseStylesheet(attrs.modelStylesheet);
    return stylesheet.rules.length ? stylesheet : undefined;
  } catch {
    return undefined;
  }
}

/** The built-in transforms in the order they run. */
export const BUILTIN_TRANSFORMS: readonly Transform[] = Object.freeze([
  expandGoalTransform,
  stylesheetTransform,
]);

/** Applies `transforms` in order; returns the last result. */
export function applyTransforms(graph: Graph, transforms: readonly Transform[]): Graph {
  let current = graph;
  for (const transform of transforms) current = transform.apply(current);
  return current;
}

/** Options of {@linkcode prepareGraph}. */
export interface PrepareGraphOptions extends ValidateOptions, ParseDotOptions {
  /** Custom transforms, run after the built-in ones. */
  readonly transforms?: readonly Transform[];
}

/** What {@linkcode prepareGraph} produces. */
export interface PreparedGraph {
  /** The graph after all transforms. */
  readonly graph: Graph;
  /** Every diagnostic of validation (check for `severity === "error"`, or use `validateOrRaise`). */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Parse → built-in transforms → custom transforms → validate (spec §9.1).
 * Lint errors are returned, not thrown; a syntax error throws.
 *
 * @throws {DotParseError} when the source does not parse.
 */
export function prepareGraph(source: string, options: PrepareGraphOptions = {}): PreparedGraph {
  const parsed = parseDotFinishing(source, options, finishBuiltin);
  const graph = applyTransforms(parsed, options.transforms ?? []);
  return { graph, diagnostics: validate(graph, options) };
}
