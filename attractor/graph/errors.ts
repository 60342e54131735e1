/**
 * Typed errors of the graph layer. Each has a stable `code`; the ones about
 * source text also carry the 1-based line and column where it went wrong.
 *
 * @module
 */
import type { Diagnostic } from "./types.ts";

/** Stable, machine-readable codes of the graph layer's errors. */
export type GraphErrorCode =
  | "dot_syntax"
  | "dot_unsupported"
  | "condition_syntax"
  | "stylesheet_syntax"
  | "graph_invalid";

/** Base class of every error the graph layer throws on purpose. */
export class GraphError extends Error {
  /** Stable, machine-readable code. */
  readonly code: GraphErrorCode;

  /** Creates an error with a code and a message that names what was wrong. */
  constructor(code: GraphErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "GraphError";
  }
}

/**
 * The DOT source is not valid (`dot_syntax`) or uses Graphviz syntax the
 * attractor subset refuses (`dot_unsupported`: undirected graphs, `strict`,
 * HTML labels, ports, several graphs in one file). The message starts with
 * `line L, column C:`.
 */
export class DotParseError extends GraphError {
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column of the offending token. */
  readonly column: number;
  /** The message without the location prefix. */
  readonly reason: string;

  /** Creates a parse error at `line`:`column`. */
  constructor(
    reason: string,
    line: number,
    column: number,
    code: "dot_syntax" | "dot_unsupported" = "dot_syntax",
  ) {
    super(code, `line ${line}, column ${column}: ${reason}`);
    this.name = "DotParseError";
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/** A condition expression does not parse. `offset` is 0-based within the condition text. */
export class ConditionSyntaxError extends GraphError {
  /** The condition text. */
  readonly source: string;
  /** 0-based offset in `source` where it went wrong. */
  readonly offset: number;
  /** The message without the quoted condition. */
  readonly reason: string;

  /** Creates a condition error at `offset` of `source`. */
  constructor(reason: string, source: string, offset: number) {
    super("condition_syntax", `condition ${JSON.stringify(source)}: ${reason} (at ${offset})`);
    this.name = "ConditionSyntaxError";
    this.source = source;
    this.offset = offset;
    this.reason = reason;
  }
}

/** The `model_stylesheet` does not parse. Line and column are within the stylesheet text. */
export class StylesheetSyntaxError extends GraphError {
  /** 1-based line within the stylesheet. */
  readonly line: number;
  /** 1-based column within the stylesheet. */
  readonly column: number;
  /** The message without the location prefix. */
  readonly reason: string;

  /** Creates a stylesheet error at `line`:`column` of the stylesheet text. */
  constructor(reason: string, line: number, column: number) {
    super("stylesheet_syntax", `model_stylesheet line ${line}, column ${column}: ${reason}`);
    this.name = "StylesheetSyntaxError";
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/** Validation found error-severity diagnostics; the graph must not run. */
export class GraphValidationError extends GraphError {
  /** Every diagnostic found (errors, warnings and infos). */
  readonly diagnostics: readonly Diagnostic[];
  /** The error-severity ones. */
  readonly errors: readonly Diagnostic[];

  /** Creates the error from the diagnostics of one validation. */
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const lines = errors.map((d) => `  [${d.rule}] ${d.message}`);
    super(
      "graph_invalid",
      `pipeline graph has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${
        lines.join("\n")
      }`,
    );
    this.name = "GraphValidationError";
    this.diagnostics = diagnostics;
    this.errors = errors;
  }
}
