/**
 * The attractor spec's own example pipelines (§2.13, §8.6), end to end
 * through the graph layer: parse, transforms, lint, and routing where the
 * example routes.
 */
import assert from "node:assert/strict";
import { outgoingEdges } from "./query.ts";
import { selectEdge } from "./routing.ts";
import { prepareGraph } from "./transforms.ts";

const SIMPLE = `digraph Simple {
    graph [goal="Run tests and report"]
    rankdir=LR

    start [shape=Mdiamond, label="Start"]
    exit  [shape=Msquare, label="Exit"]

    run_tests [label="Run Tests", prompt="Run the test suite and report results"]
    report    [label="Report", prompt="Summarize the test results"]

    start -> run_tests -> report -> exit
}`;

const BRANCH = `digraph Branch {
    graph [goal="Implement and validate a feature"]
    rankdir=LR
    node [shape=box, timeout="900s"]

    start     [shape=Mdiamond, label="Start"]
    exit      [shape=Msquare, label="Exit"]
    plan      [label="Plan", prompt="Plan the implementation"]
    implement [label="Implement", prompt="Implement the plan"]
    validate  [label="Validate", prompt="Run tests"]
    gate      [shape=diamond, label="Tests passing?"]

    start -> plan -> implement -> validate -> gate
    gate -> exit      [label="Yes", condition="outcome=success"]
    gate -> implement [label="No", condition="outcome!=success"]
}`;

const REVIEW = `digraph Review {
    rankdir=LR

    start [shape=Mdiamond, label="Start"]
    exit  [shape=Msquare, label="Exit"]

    review_gate [
        shape=hexagon,
        label="Review Changes",
        type="wait.human"
    ]

    start -> review_gate
    review_gate -> ship_it [label="[A] Approve"]
    review_gate -> fixes   [label="[F] Fix"]
    ship_it -> exit
    fixes -> review_gate
}`;

Deno.test("spec example: the simple linear workflow is clean", () => {
  const { graph, diagnostics } = prepareGraph(SIMPLE);
  assert.deepEqual(diagnostics, []);
  assert.equal(graph.edges.length, 3);
});

Deno.test("spec example: the branching workflow is clean and routes on the outcome", () => {
  const { graph, diagnostics } = prepareGraph(BRANCH);
  assert.deepEqual(diagnostics, []);
  const edges = outgoingEdges(graph, "gate");
  assert.equal(selectEdge(edges, { status: "success" }, {})?.edge.to, "exit");
  const retry = selectEdge(edges, { status: "fail" }, {});
  assert.equal(retry?.edge.to, "implement");
  assert.equal(retry?.step, "condition");
  assert.equal(retry?.matchedCondition, "outcome!=success");
});

Deno.test("spec example: the human gate routes on the chosen label", () => {
  const { graph, diagnostics } = prepareGraph(REVIEW);
  // ship_it and fixes are implicit nodes: LLM stages with neither prompt nor label.
  assert.deepEqual(diagnostics.map((d) => [d.rule, d.nodeId]), [
    ["prompt_on_llm_nodes", "ship_it"],
    ["prompt_on_llm_nodes", "fixes"],
  ]);
  const edges = outgoingEdges(graph, "review_gate");
  const fix = selectEdge(edges, { status: "success", preferredLabel: "Fix" }, {});
  assert.deepEqual([fix?.edge.to, fix?.step], ["fixes", "preferred_label"]);
  const ship = selectEdge(edges, { status: "success", suggestedNextIds: ["ship_it"] }, {});
  assert.deepEqual([ship?.edge.to, ship?.step], ["ship_it", "suggested_next_id"]);
});
