import assert from "node:assert/strict";
import { buildEdge } from "./build.ts";
import { ConditionSyntaxError } from "./errors.ts";
import {
  bestByWeightThenLexical,
  normalizeLabel,
  parseAcceleratorKey,
  selectEdge,
} from "./routing.ts";
import type { Edge } from "./types.ts";

function edge(to: string, attrs: Record<string, string> = {}): Edge {
  return buildEdge("n", to, attrs);
}

const ok = { status: "success" };

Deno.test("routing step 1: a true condition wins over everything else", () => {
  const edges = [
    edge("a", { label: "Fix", weight: "9" }),
    edge("b", { condition: "outcome=success" }),
    edge("c", { condition: "outcome=fail" }),
  ];
  const chosen = selectEdge(edges, { status: "success", preferredLabel: "Fix" }, {});
  assert.equal(chosen?.edge.to, "b");
  assert.equal(chosen?.step, "condition");
  assert.equal(chosen?.matchedCondition, "outcome=success");
});

Deno.test("routing step 1: among true conditions, weight then target id decide", () => {
  const edges = [
    edge("z", { condition: "outcome=success", weight: "1" }),
    edge("y", { condition: "outcome=success", weight: "5" }),
    edge("x", { condition: "outcome=success", weight: "5" }),
  ];
  assert.equal(selectEdge(edges, ok, {})?.edge.to, "x");
});

Deno.test("routing step 1: conditions read the context", () => {
  const edges = [edge("a", { condition: "context.ready=true" }), edge("b")];
  assert.equal(selectEdge(edges, ok, { "context.ready": true })?.edge.to, "a");
  assert.equal(selectEdge(edges, ok, new Map([["ready", "true"]]))?.edge.to, "a");
  assert.equal(selectEdge(edges, ok, {})?.edge.to, "b");
});

Deno.test("routing step 2: the preferred label matches after normalization", () => {
  const edges = [edge("a", { label: "[A] Approve" }), edge("f", { label: "F) Fix it" })];
  const chosen = selectEdge(edges, { status: "success", preferredLabel: "  fix IT " }, {});
  assert.equal(chosen?.edge.to, "f");
  assert.equal(chosen?.step, "preferred_label");
});

Deno.test("routing step 2: only unconditional edges are considered", () => {
  const edges = [
    edge("a", { label: "Fix", condition: "outcome=fail" }),
    edge("b", { label: "Other" }),
  ];
  const chosen = selectEdge(edges, { status: "success", preferredLabel: "Fix" }, {});
  assert.equal(chosen?.edge.to, "b");
  assert.equal(chosen?.step, "weight");
});

Deno.test("routing step 3: suggested ids in order, unconditional edges only", () => {
  const edges = [
    edge("a", { condition: "outcome=fail" }),
    edge("b"),
    edge("c"),
  ];
  const chosen = selectEdge(edges, { status: "success", suggestedNextIds: ["a", "c", "b"] }, {});
  assert.equal(chosen?.edge.to, "c");
  assert.equal(chosen?.step, "suggested_next_id");
  // A preferred label that matches nothing falls through to the suggestions.
  const next = selectEdge(edges, {
    status: "success",
    preferredLabel: "nothing",
    suggestedNextIds: ["b"],
  }, {});
  assert.equal(next?.step, "suggested_next_id");
  assert.equal(next?.edge.to, "b");
});

Deno.test("routing step 4: the highest weight among unconditional edges", () => {
  const edges = [edge("a", { weight: "1" }), edge("b", { weight: "3" }), edge("c")];
  const chosen = selectEdge(edges, ok, {});
  assert.equal(chosen?.edge.to, "b");
  assert.equal(chosen?.step, "weight");
});

Deno.test("routing step 5: equal weights go to the lexically first target", () => {
  const edges = [edge("m"), edge("b"), edge("k")];
  const chosen = selectEdge(edges, ok, {});
  assert.equal(chosen?.edge.to, "b");
  assert.equal(chosen?.step, "lexical");
});

Deno.test("routing: nothing eligible means no edge (no fall back to conditional edges)", () => {
  assert.equal(selectEdge([], ok, {}), undefined);
  const edges = [edge("a", { condition: "outcome=fail" }), edge("b", { condition: "x=1" })];
  assert.equal(selectEdge(edges, ok, {}), undefined);
});

Deno.test("routing: a condition that does not parse is a typed error", () => {
  assert.throws(() => selectEdge([edge("a", { condition: "a==b" })], ok, {}), ConditionSyntaxError);
});

Deno.test("routing: label normalization and accelerator keys", () => {
  const table: [string, string, string][] = [
    ["[Y] Yes, deploy", "yes, deploy", "Y"],
    ["Y) Yes, deploy", "yes, deploy", "Y"],
    ["Y - Yes, deploy", "yes, deploy", "Y"],
    ["Yes, deploy", "yes, deploy", "Y"],
    ["  Approve  ", "approve", "A"],
    ["", "", ""],
    ["Ünïcode", "ünïcode", "Ü"],
  ];
  for (const [label, normalized, key] of table) {
    assert.equal(normalizeLabel(label), normalized, label);
    assert.equal(parseAcceleratorKey(label), key, label);
  }
});

Deno.test("routing: best by weight reports whether the weight alone decided", () => {
  assert.deepEqual(bestByWeightThenLexical([edge("b"), edge("a")])?.byWeight, false);
  assert.deepEqual(
    bestByWeightThenLexical([edge("b", { weight: "1" }), edge("a")])?.byWeight,
    true,
  );
  assert.equal(bestByWeightThenLexical([]), undefined);
});
