/**
 * Preparing a pipeline for the engine (spec §9.1): the graph layer's
 * parse → transforms → validate, with the engine's handler types known to
 * lint; and the engine's refusal of a graph with errors.
 *
 * @module
 */
import type { Diagnostic, Graph } from "../graph/types.ts";
import { type LintRule, prepareGraph, type Transform } from "../graph/mod.ts";

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

/** The pipeline has validation errors. */
export class PipelineInvalidError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidPipeline" as const;
  /** The error diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
  /** Creates the error from the error diagnostics. */
  constructor(diagnostics: readonly Diagnostic[]) {
    super(
      `the pipeline has ${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"}: ${
        diagnostics.map((d) => `${d.rule}: ${d.message}`).join("; ")
      }`,
    );
    this.name = "PipelineInvalidError";
    this.diagnostics = diagnostics;
  }
}

/**
 * Parses, transforms and validates DOT source. Throws `DotParseError` (line
 * and column) for bad syntax; returns the diagnostics otherwise (check with
 * {@link assertRunnable} before running).
 */
export function preparePipeline(source: string, options: PrepareOptions = {}): PreparedPipeline {
  const { graph, diagnostics } = prepareGraph(source, options);
  return { graph, diagnostics, source };
}

/** Throws {@link PipelineInvalidError} when there are error diagnostics. */
export function assertRunnable(prepared: PreparedPipeline): void {
  const errors = prepared.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new PipelineInvalidError(errors);
}
