/**
 * Validation (spec §7): built-in lint rules plus custom ones, run over a
 * graph; `validateOrRaise` refuses a graph with error-severity findings.
 *
 * @module
 */
import { GraphValidationError } from "./errors.ts";
import { BUILTIN_RULES } from "./lint_rules.ts";
import { BUILTIN_HANDLER_TYPES } from "./build.ts";
import { type GraphIndex, indexGraph } from "./query.ts";
import type { Diagnostic, Edge, EdgeRef, Graph } from "./types.ts";

/** What a rule gets besides the graph: lookup tables and the run's settings. */
export interface LintContext {
  /** Lookup tables over the graph. */
  readonly index: GraphIndex;
  /** Handler types the engine knows (for `type_known`). */
  readonly knownTypes: ReadonlySet<string>;
  /** The reference of an edge of this graph, for a diagnostic. */
  edgeRef(edge: Edge): EdgeRef;
}

/** A lint rule (spec §7.4). Custom rules run after the built-in ones. */
export interface LintRule {
  /** The rule id diagnostics carry (e.g. `start_node`). */
  readonly name: string;
  /** Returns the rule's findings for `graph` (none when it holds). */
  apply(graph: Graph, context: LintContext): Iterable<Diagnostic>;
}

/** Options of {@linkcode validate}. */
export interface ValidateOptions {
  /** Custom rules, run after the built-in ones. */
  readonly rules?: readonly LintRule[];
  /**
   * Handler types the engine can run, for `type_known`; default the spec's
   * built-in types. Pass the engine's registry when it has custom handlers.
   */
  readonly knownTypes?: Iterable<string>;
}

/**
 * Runs every built-in rule, then the custom ones, and returns all findings
 * (errors first, then warnings, then infos; otherwise in rule order). A
 * custom rule that throws becomes an error finding under its own name.
 */
export function validate(graph: Graph, options: ValidateOptions = {}): Diagnostic[] {
  const index = indexGraph(graph);
  const context: LintContext = {
    index,
    knownTypes: new Set(options.knownTypes ?? BUILTIN_HANDLER_TYPES),
    edgeRef: (edge) => ({ from: edge.from, to: edge.to, index: index.edgeIndex.get(edge) ?? -1 }),
  };
  const found: Diagnostic[] = [];
  for (const rule of [...BUILTIN_RULES, ...(options.rules ?? [])]) {
    try {
      for (const d of rule.apply(graph, context)) found.push(withoutUndefined(d));
    } catch (e) {
      found.push({
        rule: rule.name,
        severity: "error",
        message: `lint rule ${rule.name} failed: ${e instanceof Error ? e.message : String(e)}`,
        fix: "fix or remove the custom rule",
      });
    }
  }
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return found
    .map((d, i) => [d, i] as const)
    .sort(([a, i], [b, j]) => rank[a.severity] - rank[b.severity] || i - j)
    .map(([d]) => d);
}

/**
 * Validates and throws when there is any error-severity finding; returns the
 * findings (warnings and infos) otherwise. The engine calls this before a run.
 *
 * @throws {GraphValidationError} listing every error.
 */
export function validateOrRaise(graph: Graph, options: ValidateOptions = {}): Diagnostic[] {
  const diagnostics = validate(graph, options);
  if (diagnostics.some((d) => d.severity === "error")) {
    throw new GraphValidationError(diagnostics);
  }
  return diagnostics;
}

/** One line per diagnostic, as `forge validate` prints them. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${d.loc.line}:${d.loc.column} ` : "";
  const fix = d.fix ? ` (fix: ${d.fix})` : "";
  return `${where}${d.severity} [${d.rule}] ${d.message}${fix}`;
}

// Optional fields are absent rather than undefined, so findings compare and
// serialize the same whichever rule made them.
function withoutUndefined(d: Diagnostic): Diagnostic {
  if (!Object.values(d).includes(undefined)) return d;
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as Diagnostic;
}
