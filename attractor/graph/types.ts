/**
 * The plain-data graph model of an attractor pipeline: what the DOT parser
 * produces, what lint checks, what transforms rewrite and what the engine
 * walks. Every value here is readonly plain data (arrays, records, strings,
 * numbers, booleans), so a graph can be frozen, cloned, hashed or written to
 * JSON as it is.
 *
 * Typed fields (`maxRetries`, `goalGate`, `timeoutMs`, …) are derived from the
 * raw attributes (`attrs`) by one function each for nodes, edges and the graph
 * (see `build.ts`); a transform that changes an attribute rebuilds the object
 * from its new `attrs`, so the two never disagree. A raw value that does not
 * have its attribute's type (`max_retries=lots`) leaves the typed field unset;
 * the `attribute_type` lint rule reports it.
 *
 * Optional fields that are not set hold `undefined` (every node has every
 * field, in one order, so all nodes share one object shape: that keeps the
 * engine's and lint's reads fast). JSON drops them.
 *
 * Stability: this file only grows. Fields are never renamed or removed.
 *
 * @module
 */

/** Where something starts in the DOT source: 1-based line and column. */
export interface SourceLocation {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number (in UTF-16 code units, as editors count). */
  readonly column: number;
}

/**
 * Raw attributes as written in the DOT source, after node/edge defaults and
 * subgraph scopes were applied: key (qualified keys such as
 * `manager.max_cycles` kept whole) → value text (quotes removed, escapes
 * resolved).
 */
export type RawAttrs = Readonly<Record<string, string>>;

/** The handler types the spec defines (custom handlers use any other string). */
export type BuiltinHandlerType =
  | "start"
  | "exit"
  | "codergen"
  | "wait.human"
  | "conditional"
  | "parallel"
  | "parallel.fan_in"
  | "tool"
  | "stack.manager_loop";

/**
 * Context fidelity modes (spec §5.4): how much of the run so far a stage's
 * LLM session sees.
 */
export type FidelityMode =
  | "full"
  | "truncate"
  | "compact"
  | "summary:low"
  | "summary:medium"
  | "summary:high";

/** The whole pipeline: one `digraph`. */
export interface Graph {
  /** The digraph's identifier (`digraph Name { … }`); the pipeline name. */
  readonly id: string;
  /** Graph-level attributes, typed. */
  readonly attrs: GraphAttrs;
  /** Every node in order of first appearance (declared or as an edge endpoint). */
  readonly nodes: readonly Node[];
  /** Every edge in source order; a chain `a -> b -> c` gives two edges. */
  readonly edges: readonly Edge[];
}

/** Graph-level attributes (`graph [ … ]` and top-level `key = value`). */
export interface GraphAttrs {
  /** `goal`: what the pipeline is for; `$goal` in prompts. Default `""`. */
  readonly goal: string;
  /** `label`: display name. Default `""`. */
  readonly label: string;
  /** `model_stylesheet`: the CSS-like model stylesheet source. Default `""`. */
  readonly modelStylesheet: string;
  /**
   * `default_max_retries` (alias `default_max_retry`): retries for nodes
   * without `max_retries`. Default 0.
   */
  readonly defaultMaxRetries: number;
  /** `retry_target`: where to jump when the exit is reached with an unsatisfied goal gate. */
  readonly retryTarget?: string;
  /** `fallback_retry_target`: the secondary jump target. */
  readonly fallbackRetryTarget?: string;
  /** `default_fidelity`: the fidelity mode for nodes and edges that set none. */
  readonly defaultFidelity?: string;
  /** `max_loop_restarts`: how many `loop_restart` edges a run may take. Default 5. */
  readonly maxLoopRestarts: number;
  /** `default_max_visits`: visit bound for nodes without `max_visits`; 0 = unbounded. Default 0. */
  readonly defaultMaxVisits: number;
  /** Every graph attribute as written (including the ones typed above). */
  readonly raw: RawAttrs;
}

/** One stage of the pipeline. */
export interface Node {
  /** The node id (`[A-Za-z_][A-Za-z0-9_]*` in the spec's subset). */
  readonly id: string;
  /** `shape`; default `"box"`. Decides the handler type unless `type` is set. */
  readonly shape: string;
  /** `type`: the explicit handler type, `""` when not set. */
  readonly type: string;
  /** The handler that runs this node: `type` if set, else the shape's (spec §2.8), else `codergen`. */
  readonly handlerType: string;
  /** `label`; defaults to the node id. */
  readonly label: string;
  /** `prompt`; `""` when not set (LLM stages then use the label). */
  readonly prompt: string;
  /**
   * Classes for the model stylesheet: the `class` attribute split on commas
   * (trimmed, empty ones dropped), then the classes derived from enclosing
   * subgraph labels (innermost last), without duplicates.
   */
  readonly classes: readonly string[];
  /** `max_retries`: extra attempts after the first; unset → the graph default applies. */
  readonly maxRetries?: number;
  /** `goal_gate`: must reach SUCCESS before the pipeline may exit. Default false. */
  readonly goalGate: boolean;
  /** `retry_target`: node id to jump to when this node fails with retries exhausted. */
  readonly retryTarget?: string;
  /** `fallback_retry_target`: the secondary jump target. */
  readonly fallbackRetryTarget?: string;
  /** `fidelity`: the context fidelity mode for this node. */
  readonly fidelity?: string;
  /** `thread_id`: the LLM session thread under `full` fidelity. */
  readonly threadId?: string;
  /** `timeout` in milliseconds (`900s`, `15m`, `250ms`, `2h`, `1d`; a bare integer is seconds). */
  readonly timeoutMs?: number;
  /** `llm_model`. */
  readonly llmModel?: string;
  /** `llm_provider`. */
  readonly llmProvider?: string;
  /** `reasoning_effort`: `low`, `medium` or `high`. */
  readonly reasoningEffort?: string;
  /** `auto_status`: a handler that writes no status counts as SUCCESS. Default false. */
  readonly autoStatus: boolean;
  /** `allow_partial`: exhausted retries give PARTIAL_SUCCESS instead of FAIL. Default false. */
  readonly allowPartial: boolean;
  /** `max_visits`: how often the node may run in one attempt; unset → graph default. */
  readonly maxVisits?: number;
  /** Every attribute as written, defaults applied (unknown and qualified keys included). */
  readonly attrs: RawAttrs;
  /** Where the node was first mentioned, when parsed from source. */
  readonly loc?: SourceLocation;
}

/** One transition. */
export interface Edge {
  /** Source node id. */
  readonly from: string;
  /** Target node id. */
  readonly to: string;
  /** `label`: caption and routing key for preferred-label matching. Default `""`. */
  readonly label: string;
  /** `condition`: a condition expression (spec §10); `""` = unconditional. */
  readonly condition: string;
  /** `weight`: higher wins among equally eligible edges. Default 0. */
  readonly weight: number;
  /** `fidelity`: overrides the target node's fidelity. */
  readonly fidelity?: string;
  /** `thread_id`: overrides the target node's thread. */
  readonly threadId?: string;
  /** `loop_restart`: taking this edge restarts the run at its target. Default false. */
  readonly loopRestart: boolean;
  /** Every attribute as written, defaults applied. */
  readonly attrs: RawAttrs;
  /** Where the edge's statement starts, when parsed from source. */
  readonly loc?: SourceLocation;
}

// ---------------------------------------------------------------------------
// Conditions (spec §10; reference point 4). Implemented in `conditions.ts`.

/** A comparison operator in a condition clause. */
export type ConditionOperator = "=" | "!=";

/** One `&&`-joined clause of a condition. */
export type ConditionClause =
  | {
    /** `key op value`. */
    readonly kind: "compare";
    /** `outcome`, `preferred_label`, `context.<path>` or an unqualified context key. */
    readonly key: string;
    /** `=` or `!=`. */
    readonly op: ConditionOperator;
    /** The literal, unquoted and unescaped. */
    readonly value: string;
  }
  | {
    /** A bare key: true when its value is truthy. */
    readonly kind: "truthy";
    /** The key looked up. */
    readonly key: string;
  };

/** A parsed condition: all clauses must hold. An empty condition is always true. */
export interface ParsedCondition {
  /** The source text it was parsed from. */
  readonly source: string;
  /** The clauses, in source order. */
  readonly clauses: readonly ConditionClause[];
}

/**
 * The run context as conditions read it: flat dotted keys → values. A `Map`
 * or a plain record both serve.
 */
export type ContextValues = ReadonlyMap<string, unknown> | Readonly<Record<string, unknown>>;

/** What a condition is evaluated against: the stage's outcome and the run context. */
export interface ConditionInput {
  /** The outcome status, lowercase (`success`, `partial_success`, `retry`, `fail`, `skipped`). */
  readonly outcome: string;
  /** The outcome's preferred label, `""` or absent when none. */
  readonly preferredLabel?: string;
  /** The run context. */
  readonly context: ContextValues;
}

/** Parses a condition; throws `ConditionSyntaxError` on bad syntax. */
export type ParseConditionFn = (source: string) => ParsedCondition;
/** Evaluates a condition (parsed, or source text that is parsed first). */
export type EvaluateConditionFn = (
  condition: ParsedCondition | string,
  input: ConditionInput,
) => boolean;

// ---------------------------------------------------------------------------
// Routing (spec §3.3 edge selection). Implemented in `routing.ts`.

/** The part of a stage outcome that edge selection reads. */
export interface RoutingOutcome {
  /** The outcome status, lowercase. */
  readonly status: string;
  /** The label the handler prefers, if any. */
  readonly preferredLabel?: string;
  /** Node ids the handler suggests, in order of preference. */
  readonly suggestedNextIds?: readonly string[];
}

/**
 * Which of the spec's five edge-selection steps chose an edge:
 * 1 condition matched, 2 preferred label, 3 suggested next id,
 * 4 highest weight, 5 lexical tie-break on the target id.
 */
export type SelectionStep =
  | "condition"
  | "preferred_label"
  | "suggested_next_id"
  | "weight"
  | "lexical";

/** The edge chosen after a stage, and why. */
export interface EdgeSelection {
  /** The chosen edge. */
  readonly edge: Edge;
  /** The step that chose it. */
  readonly step: SelectionStep;
  /** The condition that matched (step `condition` only). */
  readonly matchedCondition?: string;
}

// ---------------------------------------------------------------------------
// Diagnostics (spec §7). Implemented in `lint.ts`.

/** How bad a diagnostic is: errors refuse the graph, warnings and infos do not. */
export type Severity = "error" | "warning" | "info";

/** Identifies one edge in a graph. */
export interface EdgeRef {
  /** Source node id. */
  readonly from: string;
  /** Target node id. */
  readonly to: string;
  /** Index of the edge in `Graph.edges` (parallel edges share from/to). */
  readonly index: number;
}

/** One finding of validation. */
export interface Diagnostic {
  /** The rule that found it (e.g. `start_node`, `reachability`). */
  readonly rule: string;
  /** How bad it is. */
  readonly severity: Severity;
  /** What is wrong, naming the node or edge. */
  readonly message: string;
  /** The node concerned, if any. */
  readonly nodeId?: string;
  /** The edge concerned, if any. */
  readonly edge?: EdgeRef;
  /** How to fix it. */
  readonly fix?: string;
  /** Where in the source, when known. */
  readonly loc?: SourceLocation;
}
