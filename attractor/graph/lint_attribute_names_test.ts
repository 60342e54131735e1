import assert from "node:assert/strict";
import { validate } from "./lint.ts";
import { parseDot } from "./parser.ts";
import { editDistance, nearMissAttribute } from "./lint_attribute_names.ts";

function nameFindings(source: string) {
  return validate(parseDot(source)).filter((d) => d.rule === "attribute_name");
}

const MISSPELT = `digraph Typos {
  graph [goal="Ship", default_max_retires=2]
  start [shape=Mdiamond]
  exit [shape=Msquare]
  work [prompt="Work", max_retires=3, simualte.outcomes="fail,success"]
  check [shape=diamond]
  start -> work -> check
  check -> exit [conditon="outcome=success"]
  check -> work [condition="outcome=fail"]
}`;

Deno.test("attribute_name warns of a misspelt attribute on the graph, a node and an edge, naming the one meant", () => {
  const found = nameFindings(MISSPELT);
  assert.deepEqual(
    found.map((
      d,
    ) => [d.severity, d.message.split(":")[0], d.fix?.match(/^rename (\S+) to (\S+)/)?.slice(1)]),
    [
      ["warning", "graph", ["default_max_retires", "default_max_retries"]],
      ["warning", "node work", ["max_retires", "max_retries"]],
      ["warning", "node work", ["simualte.outcomes", "simulate.outcomes"]],
      ["warning", "edge check -> exit", ["conditon", "condition"]],
    ],
  );
  const edge = found.find((d) => d.edge)!;
  assert.match(edge.message, /the edge is unconditional/);
  assert.deepEqual([edge.edge?.from, edge.edge?.to], ["check", "exit"]);
  assert.equal(edge.loc?.line, 8);
  assert.equal(found.find((d) => d.nodeId === "work")?.loc?.line, 5);
});

Deno.test("attribute_name leaves custom and Graphviz attributes alone, and known ones in their scope", () => {
  const found = nameFindings(`digraph Custom {
    graph [goal="Ship", rankdir=LR, owner="team-a", bgcolor=white]
    start [shape=Mdiamond, color=green]
    exit [shape=Msquare]
    work [prompt="Work", demo.expect_file="a.ts", simulate.context.score="3", note="x",
          fontname=Helvetica, max_retries=1, human.timeout=5m]
    start -> work [arrowhead=vee, penwidth=2]
    work -> exit [weight=2, loop_restart=false, team="b"]
  }`);
  assert.deepEqual(found, []);
});

Deno.test("a near miss: case, one edit or swap (two in long names), or a misspelt namespace", () => {
  assert.equal(nearMissAttribute("node", "Prompt"), "prompt");
  assert.equal(nearMissAttribute("node", "promt"), "prompt");
  assert.equal(nearMissAttribute("node", "goal_gat"), "goal_gate");
  assert.equal(nearMissAttribute("node", "max_retrys"), "max_retries", "two edits in a long name");
  assert.equal(nearMissAttribute("node", "maanger.max_cycles"), "manager.max_cycles");
  assert.equal(nearMissAttribute("node", "simulat.context.score"), "simulate.context.score");
  assert.equal(nearMissAttribute("edge", "wieght"), "weight");
  // Not near misses: known names, other scopes' own names, short or distant custom names.
  assert.equal(nearMissAttribute("edge", "condition"), undefined);
  assert.equal(nearMissAttribute("node", "owner"), undefined);
  assert.equal(nearMissAttribute("node", "tpe"), undefined, "three letters: too short to tell");
  assert.equal(nearMissAttribute("node", "max_tokens"), undefined);
  assert.equal(nearMissAttribute("graph", "rankdir"), undefined);
});

Deno.test("edit distance counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("max_retires", "max_retries"), 1);
  assert.equal(editDistance("conditon", "condition"), 1);
  assert.equal(editDistance("abc", "abc"), 0);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("kitten", "sitting", 1), 2, "past the limit: limit + 1");
});
