/**
 * Preparing a pipeline (spec §9.1): parse, transform, validate. The engine
 * refuses a graph with error diagnostics.
 *
 * @module
 */
import type { Diagnostic, Graph } from "../graph/types.ts";
import { exitNode, parseDot, startNode } from "../graph/mod.ts";

/** A parsed, transformed graph and what validation found. */
export interface PreparedPipeline {
  /** The graph the engine runs. */
  readonly graph: Graph;
  /** Every diagnostic (errors, warnings, infos). */
  readonly diagnostics: readonly Diagnostic[];
  /** The DOT source. */
  readonly source: string;
}

/** A graph transform: returns a new graph, never mutates its input. */
export type GraphTransform = (graph: Graph) => Graph;

/** Options of {@link preparePipeline}. */
export interface PrepareOptions {
  /** Transforms run after the built-in ones, in order. */
  readonly transforms?: readonly GraphTransform[];
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
 * Parses and validates DOT source. Throws `DotParseError` (line and column)
 * for bad syntax; returns the diagnostics otherwise (check
 * {@link assertRunnable} before running).
 */
export function preparePipeline(source: string, options: PrepareOptions = {}): PreparedPipeline {
  let graph = parseDot(source);
  for (const transform of options.transforms ?? []) graph = transform(graph);
  return { graph, diagnostics: validateGraph(graph), source };
}

/** Throws {@link PipelineInvalidError} when there are error diagnostics. */
export function assertRunnable(prepared: PreparedPipeline): void {
  const errors = prepared.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new PipelineInvalidError(errors);
}

/**
 * Validation. Until the graph layer's lint lands, the two rules the engine
 * cannot run without: a start node and an exit node.
 */
function validateGraph(graph: Graph): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!startNode(graph)) {
    out.push({
      rule: "start_node",
      severity: "error",
      message: "the pipeline has no start node",
      fix: "add a node with shape=Mdiamond",
    });
  }
  if (!exitNode(graph)) {
    out.push({
      rule: "terminal_node",
      severity: "error",
      message: "the pipeline has no exit node",
      fix: "add a node with shape=Msquare",
    });
  }
  return out;
}
