/**
 * Preparing a pipeline for the engine (spec §9.1): the graph layer's
 * parse → transforms → validate, with the engine's handler types known to
 * lint; and the engine's refusal of a graph with errors.
 *
 * @module
 */
import type { Diagnostic, Graph } from "../graph/types.ts";
import { type LintRule, prepareGraph, type Transform, validate } from "../graph/mod.ts";
import { GraphValidationError } from "../graph/errors.ts";

/** A parsed, transformed graph and what validation found. */
export interface PreparedPipeline {
  /** The graph the engine runs. */
  readonly graph: Graph;
  /** Every diagnostic (errors, warnings, infos). */
  readonly diagnostics: readonly Diagnostic[];
  /** The DOT source. */
  readonly source: string;
}

/** Options of {@link preparePipeline}. */
export interface PrepareOptions {
  /** Custom transforms, run after the built-in ones, in order. */
  readonly transforms?: readonly Transform[];
  /** Custom lint rules. */
  readonly rules?: readonly LintRule[];
  /** Handler types the engine can run (custom handlers), for lint's `type_known`. */
  readonly knownTypes?: Iterable<string>;
}

/**
 * Parses, transforms and validates DOT source. Throws `DotParseError` (line
 * and column) for bad syntax; returns the diagnostics otherwise (check with
 * {@link assertRunnable} before running).
 */
export function preparePipeline(source: string, options: PrepareOptions = {}): PreparedPipeline {
  const { graph, diagnostics } = prepareGraph(source, options);
  validated.set(graph, diagnostics);
  return { graph, diagnostics, source };
}

/** What validation found for graphs already validated (by {@link preparePipeline}). */
const validated = new WeakMap<Graph, readonly Diagnostic[]>();

/**
 * Throws `GraphValidationError` when `graph` has error diagnostics: the
 * engine refuses to run such a graph (spec §7.1) however it was built — by
 * {@link preparePipeline} (its diagnostics are reused, custom rules
 * included), `parseDot` alone, or code.
 */
export function assertGraphRunnable(graph: Graph): void {
  let diagnostics = validated.get(graph);
  if (!diagnostics) {
    diagnostics = validate(graph);
    validated.set(graph, diagnostics);
  }
  if (diagnostics.some((d) => d.severity === "error")) {
    throw new GraphValidationError(diagnostics);
  }
}

/**
 * Throws the graph layer's `GraphValidationError` (every error listed) when
 * there are error diagnostics: the engine refuses such a graph.
 */
export function assertRunnable(prepared: PreparedPipeline): void {
  if (prepared.diagnostics.some((d) => d.severity === "error")) {
    throw new GraphValidationError(prepared.diagnostics);
  }
}
