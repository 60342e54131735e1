/**
 * The DOT pipeline runner's persistence model: typed record families for
 * runs, stages, parallel branches, interviews, checkpoints, routing and links
 * to agent sessions. (The runner itself is not built yet; these records are
 * the contract it will write.)
 *
 * @module
 */
export * from "./records.ts";
export * from "./keys.ts";
/** The pipeline graph model (nodes, edges, conditions, diagnostics). */
export type * from "./graph/types.ts";
export {
  ConditionSyntaxError,
  DotParseError,
  GraphError,
  type GraphErrorCode,
  GraphValidationError,
  StylesheetSyntaxError,
} from "./graph/errors.ts";
export { parseDot, type ParseDotOptions } from "./graph/parser.ts";
export { evaluateCondition, parseCondition } from "./graph/conditions.ts";
export { selectEdge } from "./graph/routing.ts";
export type { GraphIndex } from "./graph/query.ts";
export {
  formatDiagnostic,
  type LintContext,
  type LintRule,
  validate,
  type ValidateOptions,
  validateOrRaise,
} from "./graph/lint.ts";
export {
  applyTransforms,
  BUILTIN_TRANSFORMS,
  expandGoalTransform,
  type PreparedGraph,
  prepareGraph,
  type PrepareGraphOptions,
  stylesheetTransform,
  type Transform,
} from "./graph/transforms.ts";
/** The runner: engine, handlers, interviewers, persistence, resume, queries. */
export * from "./runner.ts";
/** The turn store types the runner and query API refer to. */
export type * from "@forge/turnstore/contract";
