import assert from "node:assert/strict";
import { withNodeAttrs } from "./build.ts";
import { DotParseError } from "./errors.ts";
import { parseDot } from "./parser.ts";
import { getNode } from "./query.ts";
import {
  applyTransforms,
  BUILTIN_TRANSFORMS,
  builtinTransform,
  expandGoalTransform,
  prepareGraph,
  stylesheetTransform,
  type Transform,
} from "./transforms.ts";
import type { Graph } from "./types.ts";

const SOURCE = `digraph G {
  graph [goal="ship the parser", model_stylesheet=".code { llm_model: big; } * { llm_model: small; }"]
  start [shape=Mdiamond]; exit [shape=Msquare]
  plan [prompt="Plan how to $goal. Then $goal!"]
  code [prompt="Write it", class=code]
  review [label="Review"]
  start -> plan -> code -> review -> exit
}`;

/** Freezes every object reachable from `value`, so any write throws. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) Object.freeze(value);
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function snapshot(graph: Graph): string {
  return JSON.stringify(graph);
}

Deno.test("transforms: $goal is expanded in prompts only", () => {
  const g = expandGoalTransform.apply(parseDot(SOURCE));
  assert.equal(getNode(g, "plan")!.prompt, "Plan how to ship the parser. Then ship the parser!");
  assert.equal(getNode(g, "plan")!.attrs.prompt, getNode(g, "plan")!.prompt);
  assert.equal(getNode(g, "review")!.prompt, "");
  const labelOnly = expandGoalTransform.apply(parseDot(`digraph G { goal=x; a [label="$goal"] }`));
  assert.equal(getNode(labelOnly, "a")!.label, "$goal");
});

Deno.test("transforms: no transform changes its (deeply frozen) input", () => {
  const input = deepFreeze(parseDot(SOURCE));
  const before = snapshot(input);
  const custom: Transform = {
    name: "tag_reviews",
    apply: (graph) => ({
      ...graph,
      nodes: graph.nodes.map((n) => n.label === "Review" ? withNodeAttrs(n, { class: "rev" }) : n),
    }),
  };
  const out = applyTransforms(input, [...BUILTIN_TRANSFORMS, custom]);
  assert.equal(snapshot(input), before);
  assert.notEqual(out, input);
  assert.equal(getNode(out, "code")!.llmModel, "big");
  assert.equal(getNode(out, "review")!.llmModel, "small");
  assert.deepEqual(getNode(out, "review")!.classes, ["rev"]);
  assert.equal(getNode(input, "code")!.llmModel, undefined);
  // Each built-in on its own, too.
  for (const t of [...BUILTIN_TRANSFORMS, builtinTransform]) {
    t.apply(input);
    assert.equal(snapshot(input), before, t.name);
  }
  assert.equal(getNode(builtinTransform.apply(input), "code")!.llmModel, "big");
});

Deno.test("transforms: an unchanged graph comes back as the same object", () => {
  const g = parseDot(`digraph G { a [prompt="no variables"] }`);
  assert.equal(expandGoalTransform.apply(g), g);
  assert.equal(stylesheetTransform.apply(g), g);
  assert.equal(builtinTransform.apply(g), g);
});

Deno.test("transforms: a stylesheet that does not parse is left for lint to report", () => {
  const g = parseDot(`digraph G { model_stylesheet="* { colour: red }"; a }`);
  assert.equal(stylesheetTransform.apply(g), g);
  const { diagnostics } = prepareGraph(`digraph G { model_stylesheet="* { colour: red }"; a }`);
  assert.ok(diagnostics.some((d) => d.rule === "stylesheet_syntax"));
});

Deno.test("prepareGraph: parse, built-in then custom transforms, validate", () => {
  const seen: string[] = [];
  const spy: Transform = {
    name: "spy",
    apply: (graph) => {
      seen.push(getNode(graph, "plan")!.prompt, getNode(graph, "code")!.llmModel ?? "none");
      return graph;
    },
  };
  const { graph, diagnostics } = prepareGraph(SOURCE, { transforms: [spy] });
  assert.deepEqual(seen, ["Plan how to ship the parser. Then ship the parser!", "big"]);
  assert.equal(getNode(graph, "plan")!.llmModel, "small");
  assert.deepEqual(diagnostics, []);
  assert.throws(() => prepareGraph("digraph {"), DotParseError);
});

const BUILTIN_CASES = [
  SOURCE,
  `digraph G { goal="x"; model_stylesheet="hexagon { reasoning_effort: low; }"
    a [shape=hexagon, prompt="$goal", llm_model=own]; b [prompt=""]; c }`,
  `digraph G { model_stylesheet="broken {"; a [prompt="$goal $goal"] }`,
  // An empty goal empties a prompt: not a plain text patch, so the node is rebuilt.
  `digraph G { model_stylesheet="* { llm_provider: p; }"; a [prompt="$goal"] }`,
  `digraph G { goal="g"; model_stylesheet=".phase-one-review { llm_model: m; } #b { llm_model: n; }"
    node [timeout=5m]
    subgraph cluster_a { label="Phase One Review"; a [class="x,y", prompt="do $goal"]; b }
    a -> b -> c }`,
];

Deno.test("transforms: the one-pass built-in transform equals the built-ins in order", () => {
  for (const source of BUILTIN_CASES) {
    const g = parseDot(source);
    assert.equal(
      JSON.stringify(builtinTransform.apply(g)),
      JSON.stringify(applyTransforms(g, BUILTIN_TRANSFORMS)),
      source,
    );
  }
});

Deno.test("prepareGraph: the built-ins applied while parsing give the graph the transforms give", () => {
  for (const source of BUILTIN_CASES) {
    const expected = applyTransforms(parseDot(source), BUILTIN_TRANSFORMS);
    const { graph } = prepareGraph(source);
    assert.deepEqual(graph, expected, source);
    assert.ok(Object.isFrozen(graph) && Object.isFrozen(graph.nodes), source);
  }
});
