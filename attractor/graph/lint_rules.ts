/**
 * The built-in lint rules: the spec's (§7.2, with the reference's settled
 * severities: exactly one exit, unreachable is an ERROR) and a few that
 * catch what would otherwise fail silently at run time.
 *
 * @module
 */
import {
  EDGE_ATTRIBUTE_KINDS,
  FIDELITY_MODES,
  GRAPH_ATTRIBUTE_KINDS,
  HANDLER_ATTRIBUTE_KINDS,
  HANDLER_ATTRIBUTE_VALUES,
  isValidAttribute,
  NODE_ATTRIBUTE_KINDS,
  parseBoolean,
  parseInteger,
} from "./build.ts";
import { parseConditionCached } from "./conditions.ts";
import { attributeNameRule } from "./lint_attribute_names.ts";
import { ConditionSyntaxError, StylesheetSyntaxError } from "./errors.ts";
import type { LintContext, LintRule } from "./lint.ts";
import { parseStylesheet } from "./stylesheet.ts";
import { normalizeLabel, parseAcceleratorKey } from "./routing.ts";
import type { Diagnostic, Edge, Graph, Node } from "./types.ts";

function rule(name: string, apply: (graph: Graph, ctx: LintContext) => Diagnostic[]): LintRule {
  return Object.freeze({ name, apply });
}

function ids(nodes: readonly Node[]): string {
  return nodes.map((n) => n.id).join(", ");
}

/**
 * The diagnostics of a rule that wants exactly one node of a kind: none for
 * one, "no …" for none, "N … nodes" (at the second) for more.
 */
function exactlyOne(
  name: string,
  nodes: readonly Node[],
  kind: string,
  fixNone: string,
  fixMany: string,
): Diagnostic[] {
  if (nodes.length === 1) return [];
  if (nodes.length === 0) {
    return [{
      rule: name,
      severity: "error",
      message: `the pipeline has no ${kind} node`,
      fix: fixNone,
    }];
  }
  return [{
    rule: name,
    severity: "error",
    message: `the pipeline has ${nodes.length} ${kind} nodes (${ids(nodes)}); it needs exactly one`,
    nodeId: nodes[1].id,
    loc: nodes[1].loc,
    fix: fixMany,
  }];
}

/** `start_node` (ERROR): exactly one start node (shape `Mdiamond`, else id `start`/`Start`). */
export const startNodeRule: LintRule = rule("start_node", (_graph, { index }) =>
  exactlyOne(
    "start_node",
    index.starts,
    "start",
    "add a node with shape=Mdiamond (e.g. start [shape=Mdiamond])",
    "keep one node with shape=Mdiamond",
  ));

/** `terminal_node` (ERROR): exactly one exit node (shape `Msquare`, else id `exit`/`end`). */
export const terminalNodeRule: LintRule = rule("terminal_node", (_graph, { index }) =>
  exactlyOne(
    "terminal_node",
    index.exits,
    "exit",
    "add a node with shape=Msquare (e.g. exit [shape=Msquare])",
    "keep one node with shape=Msquare and route the others to it",
  ));

/**
 * `reachability` (ERROR): every node is reachable from the start node — the
 * way the engine reaches nodes: along edges, and by the jumps it takes
 * without one (a node's `retry_target` / `fallback_retry_target` after a
 * FAIL or an unsatisfied goal gate, the graph's once a goal gate is
 * reachable). A node only a retry target leads to is not an orphan.
 */
export const reachabilityRule: LintRule = rule("reachability", (graph, { index }) => {
  if (index.starts.length !== 1) return []; // start_node reports that
  // The nodes not reached yet: reaching one is a single delete, which also
  // refuses ids that are no node (edge_target_exists reports those).
  const unseen = new Set(index.nodes.keys());
  const queue: Node[] = [];
  const reach = (id: string | undefined) => {
    if (id !== undefined && unseen.delete(id)) queue.push(index.nodes.get(id)!);
  };
  reach(index.starts[0].id);
  let gateSeen = false;
  while (queue.length) {
    const node = queue.pop()!;
    const edges = index.outgoing.get(node.id);
    if (edges) { for (const edge of edges) reach(edge.to); }
    reach(node.retryTarget);
    reach(node.fallbackRetryTarget);
    if (node.goalGate && !gateSeen) {
      gateSeen = true;
      reach(graph.attrs.retryTarget);
      reach(graph.attrs.fallbackRetryTarget);
    }
  }
  if (unseen.size === 0) return [];
  return graph.nodes.filter((n) => unseen.has(n.id)).map((n) => ({
    rule: "reachability",
    severity: "error" as const,
    message: `node ${n.id} is not reachable from the start node ${index.starts[0].id}`,
    nodeId: n.id,
    loc: n.loc,
    fix: `add an edge into ${n.id} or remove it`,
  }));
});

/** `edge_target_exists` (ERROR): both ends of every edge are nodes of the graph. */
export const edgeTargetExistsRule: LintRule = rule("edge_target_exists", (graph, ctx) => {
  const out: Diagnostic[] = [];
  const missing = (edge: Edge, end: string, id: string) =>
    out.push({
      rule: "edge_target_exists",
      severity: "error",
      message: `edge ${edge.from} -> ${edge.to}: its ${end} ${id} is not a node`,
      edge: ctx.edgeRef(edge),
      loc: edge.loc,
      fix: `declare node ${id} or correct the edge`,
    });
  for (const edge of graph.edges) {
    if (!ctx.index.nodes.has(edge.to)) missing(edge, "target", edge.to);
    if (!ctx.index.nodes.has(edge.from)) missing(edge, "source", edge.from);
  }
  return out;
});

/** `start_no_incoming` (ERROR): no edge enters the start node. */
export const startNoIncomingRule: LintRule = rule("start_no_incoming", (graph, ctx) => {
  if (ctx.index.starts.length !== 1) return [];
  const start = ctx.index.starts[0];
  // A scan, not `index.incoming`: building that table costs more than this rule.
  return graph.edges.filter((e) => e.to === start.id).map((edge) => ({
    rule: "start_no_incoming",
    severity: "error" as const,
    message: `the start node ${start.id} has an incoming edge from ${edge.from}`,
    nodeId: start.id,
    edge: ctx.edgeRef(edge),
    loc: edge.loc,
    fix: "route loops to the first real stage, not to the start node",
  }));
});

/** `exit_no_outgoing` (ERROR): no edge leaves the exit node. */
export const exitNoOutgoingRule: LintRule = rule("exit_no_outgoing", (_graph, ctx) => {
  if (ctx.index.exits.length !== 1) return [];
  const exit = ctx.index.exits[0];
  return (ctx.index.outgoing.get(exit.id) ?? []).map((edge) => ({
    rule: "exit_no_outgoing",
    severity: "error" as const,
    message: `the exit node ${exit.id} has an outgoing edge to ${edge.to}`,
    nodeId: exit.id,
    edge: ctx.edgeRef(edge),
    loc: edge.loc,
    fix: "remove the edge; the run ends at the exit node",
  }));
});

/**
 * `condition_syntax` (ERROR): every edge condition, and every manager loop's
 * `manager.stop_condition`, parses (the engine's own parser).
 */
export const conditionSyntaxRule: LintRule = rule("condition_syntax", (graph, ctx) => {
  const out: Diagnostic[] = [];
  for (const node of graph.nodes) {
    const stop = node.attrs["manager.stop_condition"];
    if (!stop) continue;
    try {
      parseConditionCached(stop);
    } catch (e) {
      if (!(e instanceof ConditionSyntaxError)) throw e;
      out.push({
        rule: "condition_syntax",
        severity: "error",
        message: `node ${node.id}, manager.stop_condition: ${e.message}`,
        nodeId: node.id,
        loc: node.loc,
        fix: 'write clauses as key=value or key!=value joined by &&, e.g. "context.done=true"',
      });
    }
  }
  for (const edge of graph.edges) {
    if (edge.condition === "") continue;
    try {
      parseConditionCached(edge.condition);
    } catch (e) {
      if (!(e instanceof ConditionSyntaxError)) throw e;
      out.push({
        rule: "condition_syntax",
        severity: "error",
        message: `edge ${edge.from} -> ${edge.to}: ${e.message}`,
        edge: ctx.edgeRef(edge),
        loc: edge.loc,
        fix: 'write clauses as key=value or key!=value joined by &&, e.g. "outcome=success"',
      });
    }
  }
  return out;
});

const OUTCOMES = ["success", "partial_success", "retry", "fail", "skipped"];

/** `condition_outcome` (WARNING): `outcome=` compares with a status that exists. */
export const conditionOutcomeRule: LintRule = rule("condition_outcome", (graph, ctx) => {
  const out: Diagnostic[] = [];
  for (const edge of graph.edges) {
    if (edge.condition === "") continue;
    let clauses;
    try {
      clauses = parseConditionCached(edge.condition).clauses;
    } catch {
      continue; // condition_syntax reports it
    }
    for (const clause of clauses) {
      if (clause.kind !== "compare" || clause.key !== "outcome") continue;
      if (OUTCOMES.includes(clause.value)) continue;
      const lower = clause.value.toLowerCase();
      out.push({
        rule: "condition_outcome",
        severity: "warning",
        message: `edge ${edge.from} -> ${edge.to}: outcome is never ${
          JSON.stringify(clause.value)
        } (statuses are ${OUTCOMES.join(", ")}; comparison is case-sensitive)`,
        edge: ctx.edgeRef(edge),
        loc: edge.loc,
        fix: OUTCOMES.includes(lower)
          ? `write outcome${clause.op}${lower}`
          : `compare with one of ${OUTCOMES.join(", ")}`,
      });
    }
  }
  return out;
});

/** `stylesheet_syntax` (ERROR): the `model_stylesheet` parses. */
export const stylesheetSyntaxRule: LintRule = rule("stylesheet_syntax", (graph) => {
  try {
    parseStylesheet(graph.attrs.modelStylesheet);
    return [];
  } catch (e) {
    if (!(e instanceof StylesheetSyntaxError)) throw e;
    return [{
      rule: "stylesheet_syntax",
      severity: "error",
      message: e.message,
      fix: "rules look like: * { llm_model: claude-sonnet-4-5; } .code { reasoning_effort: high; }",
    }];
  }
});

/** `type_known` (WARNING): an explicit `type` names a handler the engine knows. */
export const typeKnownRule: LintRule = rule(
  "type_known",
  (graph, { knownTypes }) =>
    graph.nodes.filter((n) => n.type !== "" && !knownTypes.has(n.type)).map((n) => ({
      rule: "type_known",
      severity: "warning" as const,
      message: `node ${n.id}: no handler is registered for type ${JSON.stringify(n.type)}`,
      nodeId: n.id,
      loc: n.loc,
      fix: `register a handler for ${JSON.stringify(n.type)} or use one of ${
        [...knownTypes].join(", ")
      }`,
    })),
);

function badFidelity(value: string | undefined): boolean {
  return value !== undefined && !FIDELITY_MODES.includes(value);
}

/** `fidelity_valid` (WARNING): fidelity values on nodes, edges and the graph are valid modes. */
export const fidelityValidRule: LintRule = rule("fidelity_valid", (graph, ctx) => {
  const out: Diagnostic[] = [];
  const fix = `use one of ${FIDELITY_MODES.join(", ")}`;
  if (badFidelity(graph.attrs.defaultFidelity)) {
    out.push({
      rule: "fidelity_valid",
      severity: "warning",
      message: `graph default_fidelity ${
        JSON.stringify(graph.attrs.defaultFidelity)
      } is not a mode`,
      fix,
    });
  }
  for (const n of graph.nodes) {
    if (!badFidelity(n.fidelity)) continue;
    out.push({
      rule: "fidelity_valid",
      severity: "warning",
      message: `node ${n.id}: fidelity ${JSON.stringify(n.fidelity)} is not a mode`,
      nodeId: n.id,
      loc: n.loc,
      fix,
    });
  }
  for (const e of graph.edges) {
    if (!badFidelity(e.fidelity)) continue;
    out.push({
      rule: "fidelity_valid",
      severity: "warning",
      message: `edge ${e.from} -> ${e.to}: fidelity ${JSON.stringify(e.fidelity)} is not a mode`,
      edge: ctx.edgeRef(e),
      loc: e.loc,
      fix,
    });
  }
  return out;
});

/** `retry_target_exists` (WARNING): retry targets (node and graph level) name existing nodes. */
export const retryTargetExistsRule: LintRule = rule("retry_target_exists", (graph, { index }) => {
  const out: Diagnostic[] = [];
  const check = (attr: string, target: string | undefined, node?: Node) => {
    if (target === undefined || index.nodes.has(target)) return;
    out.push({
      rule: "retry_target_exists",
      severity: "warning",
      message: `${node ? `node ${node.id}` : "graph"}: ${attr} ${target} is not a node`,
      nodeId: node?.id,
      loc: node?.loc,
      fix: `point ${attr} at an existing node`,
    });
  };
  check("retry_target", graph.attrs.retryTarget);
  check("fallback_retry_target", graph.attrs.fallbackRetryTarget);
  for (const n of graph.nodes) {
    check("retry_target", n.retryTarget, n);
    check("fallback_retry_target", n.fallbackRetryTarget, n);
  }
  return out;
});

/**
 * `goal_gate_has_retry` (WARNING): a goal gate has somewhere to go when it
 * is unsatisfied (its own retry target or the graph's).
 */
export const goalGateHasRetryRule: LintRule = rule("goal_gate_has_retry", (graph) => {
  if (graph.attrs.retryTarget || graph.attrs.fallbackRetryTarget) return [];
  return graph.nodes.filter((n) => n.goalGate && !n.retryTarget && !n.fallbackRetryTarget).map((
    n,
  ) => ({
    rule: "goal_gate_has_retry",
    severity: "warning" as const,
    message:
      `node ${n.id} is a goal gate without retry_target or fallback_retry_target; an unsatisfied gate ends the run as failed`,
    nodeId: n.id,
    loc: n.loc,
    fix: `add retry_target=<node to rerun> to ${n.id}`,
  }));
});

/** `prompt_on_llm_nodes` (WARNING): codergen nodes have a prompt (or at least a label). */
export const promptOnLlmNodesRule: LintRule = rule(
  "prompt_on_llm_nodes",
  (graph, { index }) =>
    graph.nodes.filter((n) =>
      n.handlerType === "codergen" && n.prompt === "" && n.attrs.label === undefined &&
      !index.starts.includes(n) && !index.exits.includes(n)
    ).map((n) => ({
      rule: "prompt_on_llm_nodes",
      severity: "warning" as const,
      message: `node ${n.id} runs an LLM stage without a prompt or label`,
      nodeId: n.id,
      loc: n.loc,
      fix: `add prompt="…" to ${n.id}`,
    })),
);

const EFFORTS = ["low", "medium", "high"];

/** `reasoning_effort_valid` (WARNING): `reasoning_effort` is low, medium or high. */
export const reasoningEffortValidRule: LintRule = rule(
  "reasoning_effort_valid",
  (graph) =>
    graph.nodes.filter((n) =>
      n.reasoningEffort !== undefined && !EFFORTS.includes(n.reasoningEffort)
    ).map((n) => ({
      rule: "reasoning_effort_valid",
      severity: "warning" as const,
      message: `node ${n.id}: reasoning_effort ${JSON.stringify(n.reasoningEffort)} is not one of ${
        EFFORTS.join(", ")
      }`,
      nodeId: n.id,
      loc: n.loc,
      fix: "use low, medium or high",
    })),
);

const GRAPH_KINDS = Object.entries(GRAPH_ATTRIBUTE_KINDS);
const HANDLER_KINDS = Object.entries(HANDLER_ATTRIBUTE_KINDS);
const HANDLER_VALUES = Object.entries(HANDLER_ATTRIBUTE_VALUES);

/**
 * `attribute_type` (ERROR): typed attributes have values of their type
 * (`max_retries=lots`, `goal_gate=yes`, `timeout=soon` would otherwise be
 * silently ignored), the handlers' own included (`max_parallel`,
 * `human.timeout`, `manager.*`, `join_policy`, `retry_policy`).
 */
export const attributeTypeRule: LintRule = rule("attribute_type", (graph, ctx) => {
  const out: Diagnostic[] = [];
  const expect = {
    "integer": "an integer",
    "integer>=0": "a non-negative integer",
    "integer>=1": "a positive integer",
    "boolean": "true or false",
    "duration": "a duration such as 250ms, 900s, 15m, 2h, 1d",
  };
  for (const [key, kind] of GRAPH_KINDS) {
    const value = graph.attrs.raw[key];
    if (value === undefined || isValidAttribute(kind, value)) continue;
    out.push({
      rule: "attribute_type",
      severity: "error",
      message: `graph ${key}=${JSON.stringify(value)} is not ${expect[kind]}`,
      fix: `set ${key} to ${expect[kind]}`,
    });
  }
  const badNode = (n: Node, key: string, wanted = expect[NODE_ATTRIBUTE_KINDS[key]]) => {
    out.push({
      rule: "attribute_type",
      severity: "error",
      message: `node ${n.id}: ${key}=${JSON.stringify(n.attrs[key])} is not ${wanted}`,
      nodeId: n.id,
      loc: n.loc,
      fix: `set ${key} to ${wanted}`,
    });
  };
  const checkHandlerAttributes = (n: Node) => {
    for (const [key, kind] of HANDLER_KINDS) {
      const value = n.attrs[key];
      if (value !== undefined && !isValidAttribute(kind, value)) badNode(n, key, expect[kind]);
    }
    for (const [key, names] of HANDLER_VALUES) {
      const value = n.attrs[key];
      if (value !== undefined && !names.includes(value)) {
        badNode(n, key, `one of ${names.join(", ")}`);
      }
    }
  };
  // Named reads, field by field (a typed field is unset exactly when its raw
  // value is malformed): this rule reads every node, so it avoids keyed reads
  // across the many shapes attribute records have.
  for (const n of graph.nodes) {
    const a = n.attrs;
    if (a.max_retries !== undefined && n.maxRetries === undefined) badNode(n, "max_retries");
    if (a.goal_gate !== undefined && parseBoolean(a.goal_gate) === undefined) {
      badNode(n, "goal_gate");
    }
    if (a.timeout !== undefined && n.timeoutMs === undefined) badNode(n, "timeout");
    if (a.auto_status !== undefined && parseBoolean(a.auto_status) === undefined) {
      badNode(n, "auto_status");
    }
    if (a.allow_partial !== undefined && parseBoolean(a.allow_partial) === undefined) {
      badNode(n, "allow_partial");
    }
    if (a.max_visits !== undefined && n.maxVisits === undefined) badNode(n, "max_visits");
    // Handler attributes are rare: one named read each finds them absent.
    if (
      a.max_parallel !== undefined || a["human.timeout"] !== undefined ||
      a["manager.poll_interval"] !== undefined || a["manager.max_cycles"] !== undefined ||
      a["stack.child_autostart"] !== undefined || a.join_policy !== undefined ||
      a.retry_policy !== undefined
    ) checkHandlerAttributes(n);
  }
  const badEdge = (e: Edge, key: string) => {
    const kind = EDGE_ATTRIBUTE_KINDS[key];
    out.push({
      rule: "attribute_type",
      severity: "error",
      message: `edge ${e.from} -> ${e.to}: ${key}=${JSON.stringify(e.attrs[key])} is not ${
        expect[kind]
      }`,
      edge: ctx.edgeRef(e),
      loc: e.loc,
      fix: `set ${key} to ${expect[kind]}`,
    });
  };
  for (const e of graph.edges) {
    const a = e.attrs;
    if (a.weight !== undefined && parseInteger(a.weight) === undefined) badEdge(e, "weight");
    if (a.loop_restart !== undefined && parseBoolean(a.loop_restart) === undefined) {
      badEdge(e, "loop_restart");
    }
  }
  return out;
});

/**
 * `human_gate_choices` (WARNING): a `wait.human` node has outgoing edges to
 * offer as choices, each with an accelerator key of its own (two choices
 * sharing a key make answering that key pick the first), and its
 * `human.default_choice`, when set, names one of them (by key, label or
 * target), or a timeout would fail the gate.
 */
export const humanGateChoicesRule: LintRule = rule("human_gate_choices", (graph, { index }) => {
  const out: Diagnostic[] = [];
  const warn = (n: Node, message: string, fix: string) =>
    out.push({
      rule: "human_gate_choices",
      severity: "warning",
      message,
      nodeId: n.id,
      loc: n.loc,
      fix,
    });
  for (const n of graph.nodes) {
    if (n.handlerType !== "wait.human") continue;
    const edges = index.outgoing.get(n.id) ?? [];
    if (edges.length === 0) {
      warn(
        n,
        `human gate ${n.id} has no outgoing edges, so there is nothing to choose`,
        `add labelled edges from ${n.id}, one per choice`,
      );
      continue;
    }
    const choices = edges.map((e) => {
      const label = e.label || e.to;
      return { key: parseAcceleratorKey(label).toLowerCase(), label, to: e.to };
    });
    const byKey = Map.groupBy(choices, (c) => c.key);
    for (const [key, same] of byKey) {
      if (same.length < 2) continue;
      warn(
        n,
        `the gate offers the key ${
          JSON.stringify(same[0].key.toUpperCase() || key)
        } for ${same.length} choices (${
          same.map((c) => c.label).join(", ")
        }); answering it picks the first`,
        'give each choice its own key, e.g. label="[K] …"',
      );
    }
    const fallback = n.attrs["human.default_choice"];
    if (fallback !== undefined) {
      const f = fallback.trim().toLowerCase();
      const known = choices.some((c) =>
        c.key === f || c.label.trim().toLowerCase() === f ||
        normalizeLabel(c.label) === normalizeLabel(fallback) || c.to === fallback.trim()
      );
      if (!known) {
        warn(
          n,
          `human.default_choice=${JSON.stringify(fallback)} names none of the gate's choices (${
            choices.map((c) => c.label).join(", ")
          })`,
          `set human.default_choice to a choice's key, label or target node`,
        );
      }
    }
  }
  return out;
});

/** Every built-in rule, in the order they run. */
export const BUILTIN_RULES: readonly LintRule[] = Object.freeze([
  startNodeRule,
  terminalNodeRule,
  reachabilityRule,
  edgeTargetExistsRule,
  startNoIncomingRule,
  exitNoOutgoingRule,
  conditionSyntaxRule,
  stylesheetSyntaxRule,
  attributeTypeRule,
  typeKnownRule,
  fidelityValidRule,
  retryTargetExistsRule,
  goalGateHasRetryRule,
  promptOnLlmNodesRule,
  conditionOutcomeRule,
  reasoningEffortValidRule,
  humanGateChoicesRule,
  attributeNameRule,
]);
