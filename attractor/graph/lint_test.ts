import assert from "node:assert/strict";
import {
  buildEdge,
  buildGraph,
  buildGraphAttrs,
  buildNode,
  EDGE_ATTRIBUTE_KINDS,
  HANDLER_ATTRIBUTE_KINDS,
  HANDLER_ATTRIBUTE_VALUES,
  NODE_ATTRIBUTE_KINDS,
} from "./build.ts";
import { RETRY_PRESETS } from "../engine/retry.ts";
import { GraphValidationError } from "./errors.ts";
import { formatDiagnostic, type LintRule, validate, validateOrRaise } from "./lint.ts";
import { BUILTIN_RULES } from "./lint_rules.ts";
import { parseDot } from "./parser.ts";
import type { Diagnostic } from "./types.ts";

/** A clean pipeline: no finding at all. */
const CLEAN = `digraph Clean {
  graph [goal="Ship", model_stylesheet="* { llm_model: m1; }", default_fidelity=compact]
  start [shape=Mdiamond]
  exit [shape=Msquare]
  plan [prompt="Plan $goal", fidelity=full, reasoning_effort=high, max_retries=2, timeout=15m]
  code [prompt="Code", goal_gate=true, retry_target=plan, type=codergen]
  gate [shape=hexagon, label="Review"]
  check [shape=diamond]
  start -> plan -> code -> gate
  gate -> check [label="[A] Approve"]
  gate -> plan [label="[F] Fix", fidelity="summary:high"]
  check -> exit [condition="outcome=success && context.ok=true", weight=1]
  check -> code [condition="outcome!=success"]
  check -> exit
}`;

function lint(source: string, options = {}): Diagnostic[] {
  return validate(parseDot(source), options);
}

function findings(source: string, ruleName: string, options = {}): Diagnostic[] {
  return lint(source, options).filter((d) => d.rule === ruleName);
}

/** Replaces `from` in the clean pipeline (which must contain it). */
function variant(from: string, to: string): string {
  assert.ok(CLEAN.includes(from), from);
  return CLEAN.replace(from, to);
}

Deno.test("lint: the clean pipeline has no findings", () => {
  assert.deepEqual(lint(CLEAN), []);
});

Deno.test("lint start_node (error): exactly one start node", () => {
  const none = findings(
    "digraph G { begin -> a -> exit; exit [shape=Msquare]; a [prompt=p] }",
    "start_node",
  );
  assert.equal(none.length, 1);
  assert.equal(none[0].severity, "error");
  assert.match(none[0].message, /no start node/);
  assert.match(none[0].fix!, /Mdiamond/);
  const two = findings(
    variant("start [shape=Mdiamond]", "start [shape=Mdiamond]; s2 [shape=Mdiamond]; s2 -> plan"),
    "start_node",
  );
  assert.equal(two.length, 1);
  assert.match(two[0].message, /2 start nodes \(start, s2\)/);
  assert.equal(two[0].nodeId, "s2");
  // Without Mdiamond, a node with id start (or Start) is the start.
  assert.deepEqual(
    findings(variant("start [shape=Mdiamond]", "start [label=S]"), "start_node"),
    [],
  );
});

Deno.test("lint terminal_node (error): exactly one exit node", () => {
  const none = findings(
    "digraph G { start [shape=Mdiamond]; start -> a -> done; a [prompt=p] }",
    "terminal_node",
  );
  assert.equal(none.length, 1);
  assert.match(none[0].message, /no exit node/);
  const two = findings(
    variant("exit [shape=Msquare]", "exit [shape=Msquare]; end2 [shape=Msquare]; code -> end2"),
    "terminal_node",
  );
  assert.equal(two.length, 1);
  assert.match(two[0].message, /2 exit nodes/);
  for (const id of ["exit", "end", "End", "Exit"]) {
    const g = `digraph G { start [shape=Mdiamond]; start -> a -> ${id}; a [prompt=p] }`;
    assert.deepEqual(findings(g, "terminal_node"), [], id);
  }
});

Deno.test("lint reachability (error): every node is reachable from the start", () => {
  const found = findings(
    variant("gate -> check", "island [prompt=p]; gate -> check"),
    "reachability",
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "error");
  assert.equal(found[0].nodeId, "island");
  assert.deepEqual(found[0].loc, { line: 10, column: 3 });
  assert.deepEqual(findings(CLEAN, "reachability"), []);
});

Deno.test("lint reachability follows the engine's jumps: a node only a retry target leads to is reachable", () => {
  const dot = (extra: string) =>
    parseDot(`digraph G {
    ${extra}
    start [shape=Mdiamond]; exit [shape=Msquare]
    work [prompt=w, retry_target=fix, fallback_retry_target=fallback]
    gate [prompt=g, goal_gate=true]
    fix [prompt=f]; fallback [prompt=b]; graph_fix [prompt=r]; graph_fallback [prompt=r]
    start -> work -> gate -> exit
    fix -> work; fallback -> work; graph_fix -> gate; graph_fallback -> gate
  }`);
  const unreachable = (g: string) =>
    validate(dot(g)).filter((d) => d.rule === "reachability").map((d) => d.nodeId);
  assert.deepEqual(
    unreachable("retry_target=graph_fix, fallback_retry_target=graph_fallback"),
    [],
    "node targets after a FAIL, the graph's after an unsatisfied goal gate",
  );
  assert.deepEqual(unreachable(""), ["graph_fix", "graph_fallback"]);
  // The graph's targets serve goal gates only: without a reachable gate nothing jumps there.
  const noGate = parseDot(`digraph G {
    retry_target=graph_fix
    start [shape=Mdiamond]; exit [shape=Msquare]
    graph_fix [prompt=r]
    start -> exit; graph_fix -> exit
  }`);
  assert.deepEqual(
    validate(noGate).filter((d) => d.rule === "reachability").map((d) => d.nodeId),
    ["graph_fix"],
  );
});

Deno.test("lint edge_target_exists (error): edges end at nodes", () => {
  // The parser creates endpoints, so build the broken graph by hand (as a transform might).
  const nodes = [
    buildNode("start", { shape: "Mdiamond" }),
    buildNode("exit", { shape: "Msquare" }),
  ];
  const edges = [
    buildEdge("start", "exit", {}),
    buildEdge("start", "ghost", {}),
    buildEdge("nobody", "exit", {}),
  ];
  const g = buildGraph("G", buildGraphAttrs({}), nodes, edges);
  const found = validate(g).filter((d) => d.rule === "edge_target_exists");
  assert.equal(found.length, 2);
  assert.match(found[0].message, /target ghost is not a node/);
  assert.deepEqual(found[0].edge, { from: "start", to: "ghost", index: 1 });
  assert.match(found[1].message, /source nobody is not a node/);
  assert.deepEqual(findings(CLEAN, "edge_target_exists"), []);
});

Deno.test("lint start_no_incoming (error), lint exit_no_outgoing (error)", () => {
  const into = findings(
    variant("check -> exit\n}", "check -> exit\n  code -> start\n}"),
    "start_no_incoming",
  );
  assert.equal(into.length, 1);
  assert.deepEqual(into[0].edge, { from: "code", to: "start", index: 8 });
  const out = findings(
    variant("check -> exit\n}", "check -> exit\n  exit -> plan\n}"),
    "exit_no_outgoing",
  );
  assert.equal(out.length, 1);
  assert.equal(out[0].nodeId, "exit");
  assert.deepEqual(findings(CLEAN, "start_no_incoming"), []);
  assert.deepEqual(findings(CLEAN, "exit_no_outgoing"), []);
});

Deno.test("lint condition_syntax (error): conditions parse with the engine's parser", () => {
  const found = findings(
    variant('condition="outcome!=success"', 'condition="outcome==fail"'),
    "condition_syntax",
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "error");
  assert.match(found[0].message, /check -> code: .*'==' is not an operator/);
  assert.deepEqual(found[0].edge?.from, "check");
  assert.deepEqual(findings(CLEAN, "condition_syntax"), []);
});

Deno.test("lint condition_outcome (warning): outcome compares with a real status", () => {
  const found = findings(
    variant('condition="outcome!=success"', 'condition="outcome=FAIL"'),
    "condition_outcome",
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "warning");
  assert.equal(found[0].fix, "write outcome=fail");
  const typo = findings(
    variant('condition="outcome!=success"', 'condition="outcome=failed"'),
    "condition_outcome",
  );
  assert.match(typo[0].fix!, /one of success, partial_success/);
  assert.deepEqual(findings(CLEAN, "condition_outcome"), []);
});

Deno.test("lint stylesheet_syntax (error): the model stylesheet parses", () => {
  const found = findings(variant("* { llm_model: m1; }", "* { model: m1; }"), "stylesheet_syntax");
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "error");
  assert.match(found[0].message, /line 1, column 5: unknown property "model"/);
  assert.deepEqual(findings(CLEAN, "stylesheet_syntax"), []);
});

Deno.test("lint attribute_type (error): typed attributes have values of their type", () => {
  const src = variant(
    "max_retries=2, timeout=15m",
    "max_retries=lots, timeout=soon, goal_gate=yes, max_visits=-1",
  );
  const found = findings(
    src.replace("weight=1", "weight=heavy").replace(
      "default_fidelity=compact",
      "default_fidelity=compact, default_max_retries=x",
    ),
    "attribute_type",
  );
  assert.deepEqual(found.map((d) => d.message), [
    'graph default_max_retries="x" is not a non-negative integer',
    'node plan: max_retries="lots" is not a non-negative integer',
    'node plan: goal_gate="yes" is not true or false',
    'node plan: timeout="soon" is not a duration such as 250ms, 900s, 15m, 2h, 1d',
    'node plan: max_visits="-1" is not a non-negative integer',
    'edge check -> exit: weight="heavy" is not an integer',
  ]);
  assert.ok(found.every((d) => d.severity === "error"));
  assert.deepEqual(findings(CLEAN, "attribute_type"), []);
});

Deno.test("lint attribute_type: covers every typed node and edge attribute", () => {
  for (const key of Object.keys(NODE_ATTRIBUTE_KINDS)) {
    const found = findings(`digraph G { a [${key}="%%"] }`, "attribute_type");
    assert.equal(found.length, 1, key);
    assert.match(found[0].message, new RegExp(`^node a: ${key}="%%" is not `));
  }
  for (const key of Object.keys(EDGE_ATTRIBUTE_KINDS)) {
    const found = findings(`digraph G { a -> b [${key}="%%"] }`, "attribute_type");
    assert.equal(found.length, 1, key);
    assert.match(found[0].message, new RegExp(`^edge a -> b: ${key}="%%" is not `));
  }
  // The rule looks for handler attributes by name before checking them: every
  // name in the handler tables must be among those it looks for.
  for (
    const key of [...Object.keys(HANDLER_ATTRIBUTE_KINDS), ...Object.keys(HANDLER_ATTRIBUTE_VALUES)]
  ) {
    const found = findings(`digraph G { a [${JSON.stringify(key)}="%%"] }`, "attribute_type");
    assert.equal(found.length, 1, key);
    assert.match(found[0].message, new RegExp(`^node a: ${key.replace(".", "\\.")}="%%" is not `));
  }
});

Deno.test("lint attribute_type: the handlers' own attributes are typed too, never silently replaced by a default", () => {
  const found = findings(
    `digraph G {
    fan [shape=component, join_policy=k_of_n, max_parallel=0]
    ask [shape=hexagon, human.timeout=soon]
    boss [shape=house, manager.poll_interval=often, manager.max_cycles=lots, stack.child_autostart=yes]
    work [retry_policy=forever]
    fine [shape=house, manager.poll_interval="50ms", manager.max_cycles=3, max_parallel=2, join_policy=first_success, retry_policy=patient, human.timeout=30s]
  }`,
    "attribute_type",
  );
  assert.deepEqual(found.map((d) => d.message), [
    'node fan: max_parallel="0" is not a positive integer',
    'node fan: join_policy="k_of_n" is not one of wait_all, first_success',
    'node ask: human.timeout="soon" is not a duration such as 250ms, 900s, 15m, 2h, 1d',
    'node boss: manager.poll_interval="often" is not a duration such as 250ms, 900s, 15m, 2h, 1d',
    'node boss: manager.max_cycles="lots" is not a positive integer',
    'node boss: stack.child_autostart="yes" is not true or false',
    'node work: retry_policy="forever" is not one of none, standard, aggressive, linear, patient',
  ]);
  assert.ok(found.every((d) => d.severity === "error" && d.loc));
  // The names lint accepts are the engine's presets, no more, no fewer.
  assert.deepEqual(HANDLER_ATTRIBUTE_VALUES.retry_policy, Object.keys(RETRY_PRESETS));
});

Deno.test("lint condition_syntax (error): a manager loop's manager.stop_condition parses too", () => {
  const found = findings(
    `digraph G { boss [shape=house, manager.stop_condition="context.done==true"]
      ok [shape=house, manager.stop_condition="context.done=true && stack.child.status=completed"] }`,
    "condition_syntax",
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].nodeId, "boss");
  assert.match(found[0].message, /^node boss, manager.stop_condition: .*'==' is not an operator/);
});

Deno.test("lint type_known (warning): explicit types name registered handlers", () => {
  const src = variant("type=codergen", "type=my_custom");
  const found = findings(src, "type_known");
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "warning");
  assert.equal(found[0].nodeId, "code");
  assert.deepEqual(findings(src, "type_known", { knownTypes: ["codergen", "my_custom"] }), []);
  assert.deepEqual(findings(CLEAN, "type_known"), []);
});

Deno.test("lint fidelity_valid (warning): on nodes, edges and the graph", () => {
  const src = variant("fidelity=full", "fidelity=everything")
    .replace('fidelity="summary:high"', 'fidelity="summary:huge"')
    .replace("default_fidelity=compact", "default_fidelity=some");
  const found = findings(src, "fidelity_valid");
  assert.equal(found.length, 3);
  assert.ok(found.every((d) => d.severity === "warning"));
  assert.match(found[0].message, /graph default_fidelity "some"/);
  assert.equal(found[1].nodeId, "plan");
  assert.equal(found[2].edge?.to, "plan");
  assert.deepEqual(findings(CLEAN, "fidelity_valid"), []);
});

Deno.test("lint retry_target_exists (warning): node and graph retry targets exist", () => {
  const src = variant("retry_target=plan", "retry_target=nowhere, fallback_retry_target=nada")
    .replace("default_fidelity=compact", "default_fidelity=compact, retry_target=void");
  const found = findings(src, "retry_target_exists");
  assert.deepEqual(found.map((d) => d.message), [
    "graph: retry_target void is not a node",
    "node code: retry_target nowhere is not a node",
    "node code: fallback_retry_target nada is not a node",
  ]);
  assert.deepEqual(findings(CLEAN, "retry_target_exists"), []);
});

Deno.test("lint goal_gate_has_retry (warning): a goal gate has a retry target", () => {
  const src = variant("goal_gate=true, retry_target=plan", "goal_gate=true");
  const found = findings(src, "goal_gate_has_retry");
  assert.equal(found.length, 1);
  assert.equal(found[0].nodeId, "code");
  const graphLevel = src.replace(
    "default_fidelity=compact",
    "default_fidelity=compact, retry_target=plan",
  );
  assert.deepEqual(findings(graphLevel, "goal_gate_has_retry"), [], "a graph-level target serves");
  assert.deepEqual(findings(CLEAN, "goal_gate_has_retry"), []);
});

Deno.test("lint prompt_on_llm_nodes (warning): codergen nodes have a prompt or label", () => {
  const src = variant('code [prompt="Code",', "code [");
  const found = findings(src, "prompt_on_llm_nodes");
  assert.equal(found.length, 1);
  assert.equal(found[0].nodeId, "code");
  const labelled = variant('code [prompt="Code",', 'code [label="Write the code",');
  assert.deepEqual(findings(labelled, "prompt_on_llm_nodes"), []);
  // Start and exit found by id (no shape) are not LLM stages.
  const byId = "digraph G { start -> a -> exit; a [prompt=p] }";
  assert.deepEqual(findings(byId, "prompt_on_llm_nodes"), []);
  assert.deepEqual(findings(CLEAN, "prompt_on_llm_nodes"), []);
});

Deno.test("lint reasoning_effort_valid (warning): low, medium or high", () => {
  const found = findings(
    variant("reasoning_effort=high", "reasoning_effort=extreme"),
    "reasoning_effort_valid",
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, "warning");
  assert.deepEqual(findings(CLEAN, "reasoning_effort_valid"), []);
});

Deno.test("lint human_gate_choices (warning): a human gate offers choices", () => {
  const src =
    `digraph G { start [shape=Mdiamond]; exit [shape=Msquare]; start -> exit; start -> ask; ask [shape=hexagon] }`;
  const found = findings(src, "human_gate_choices");
  assert.equal(found.length, 1);
  assert.equal(found[0].nodeId, "ask");
  assert.deepEqual(findings(CLEAN, "human_gate_choices"), []);
});

Deno.test("lint attribute_name (warning): a misspelt attribute name is no silent custom one", () => {
  // The rule's own tests are in lint_attribute_names_test.ts; here, that it runs as a built-in.
  const found = findings(variant("max_retries=2", "max_retires=2"), "attribute_name");
  assert.equal(found.length, 1);
  assert.equal(found[0].nodeId, "plan");
  assert.deepEqual(findings(CLEAN, "attribute_name"), []);
});

Deno.test("lint: every built-in rule is tested above and has a unique name", () => {
  const names = BUILTIN_RULES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length);
  const source = Deno.readTextFileSync(new URL(import.meta.url));
  for (const name of names) assert.ok(source.includes(`lint ${name} (`), `test for ${name}`);
});

Deno.test("lint: errors come first, then warnings; findings carry rule, severity, message", () => {
  const src = variant("type=codergen", "type=unknown").replace("start [shape=Mdiamond]", "begin");
  const all = lint(src);
  const severities = all.map((d) => d.severity);
  assert.deepEqual(
    severities,
    [...severities].sort((a, b) => (a === "error" ? 0 : 1) - (b === "error" ? 0 : 1)),
  );
  assert.ok(all.every((d) => d.rule && d.message && !Object.values(d).includes(undefined)));
});

Deno.test("lint: custom rules run after the built-in ones; a throwing rule is reported", () => {
  const noTodo: LintRule = {
    name: "no_todo",
    apply: (graph) =>
      graph.nodes.filter((n) => n.prompt.includes("TODO")).map((n) => ({
        rule: "no_todo",
        severity: "info" as const,
        message: `node ${n.id} has a TODO`,
        nodeId: n.id,
      })),
  };
  const broken: LintRule = {
    name: "broken",
    apply: () => {
      throw new Error("boom");
    },
  };
  const src = variant('prompt="Code"', 'prompt="TODO"');
  const found = lint(src, { rules: [noTodo, broken] });
  assert.deepEqual(found.map((d) => [d.rule, d.severity]), [["broken", "error"], [
    "no_todo",
    "info",
  ]]);
  assert.match(found[0].message, /lint rule broken failed: boom/);
});

Deno.test("validateOrRaise: refuses a graph with errors, returns warnings otherwise", () => {
  assert.deepEqual(validateOrRaise(parseDot(CLEAN)), []);
  const warn = parseDot(variant("type=codergen", "type=mystery"));
  assert.equal(validateOrRaise(warn).length, 1);
  const bad = parseDot(
    'digraph G { begin -> a -> exit; exit [shape=Msquare]; a -> exit [condition="a||b"] }',
  );
  assert.throws(() => validateOrRaise(bad), (e: unknown) => {
    assert.ok(e instanceof GraphValidationError);
    assert.equal(e.code, "graph_invalid");
    assert.ok(e.errors.length >= 2);
    assert.ok(e.errors.every((d) => d.severity === "error"));
    assert.match(e.message, /\[start_node\] the pipeline has no start node/);
    assert.match(e.message, /\[condition_syntax\]/);
    return true;
  });
});

Deno.test("formatDiagnostic: location, severity, rule, message and fix on one line", () => {
  const [d] = findings(
    variant("gate -> check", "island [prompt=p]; gate -> check"),
    "reachability",
  );
  assert.equal(
    formatDiagnostic(d),
    "10:3 error [reachability] node island is not reachable from the start node start (fix: add an edge into island or remove it)",
  );
});

Deno.test("human_gate_choices: two choices with one accelerator key, and a default choice that names no choice, are warnings naming the gate", () => {
  const graph = parseDot(`digraph G {
    start [shape=Mdiamond]; exit [shape=Msquare]
    g [shape=hexagon, label="Go?", human.default_choice="nowhere"]
    ok [shape=hexagon, label="Fine?", human.default_choice="approve"]
    start -> g
    g -> ok [label="[A] Approve"]
    g -> exit [label="[A] Abort"]
    ok -> exit [label="[A] Approve"]
    ok -> g [label="[R] Retry"]
  }`);
  const found = validate(graph).filter((d) => d.rule === "human_gate_choices");
  assert.deepEqual(found.map((d) => [d.severity, d.nodeId]), [["warning", "g"], ["warning", "g"]]);
  assert.match(found[0].message, /offers the key "A" for 2 choices \(\[A\] Approve, \[A\] Abort\)/);
  assert.match(found[1].message, /human.default_choice="nowhere" names none of the gate's choices/);
});
