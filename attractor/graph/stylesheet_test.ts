import assert from "node:assert/strict";
import { StylesheetSyntaxError } from "./errors.ts";
import { parseDot } from "./parser.ts";
import { getNode } from "./query.ts";
import { applyStylesheet, parseStylesheet, resolveStyle } from "./stylesheet.ts";
import { prepareGraph } from "./transforms.ts";

Deno.test("stylesheet: the spec's example", () => {
  const { graph } = prepareGraph(`digraph Pipeline {
    graph [
        goal="Implement feature X",
        model_stylesheet="
            * { llm_model: claude-sonnet-4-5; llm_provider: anthropic; }
            .code { llm_model: claude-opus-4-6; llm_provider: anthropic; }
            #critical_review { llm_model: gpt-5.2; llm_provider: openai; reasoning_effort: high; }
        "
    ]
    start [shape=Mdiamond]
    exit  [shape=Msquare]
    plan            [label="Plan", class="planning"]
    implement       [label="Implement", class="code"]
    critical_review [label="Critical Review", class="code"]
    start -> plan -> implement -> critical_review -> exit
  }`);
  const model = (id: string) => getNode(graph, id)!.llmModel;
  assert.equal(model("plan"), "claude-sonnet-4-5");
  assert.equal(model("implement"), "claude-opus-4-6");
  assert.equal(model("critical_review"), "gpt-5.2");
  assert.equal(getNode(graph, "critical_review")!.llmProvider, "openai");
  assert.equal(getNode(graph, "critical_review")!.reasoningEffort, "high");
  assert.equal(getNode(graph, "plan")!.reasoningEffort, undefined);
});

Deno.test("stylesheet: specificity * 0 < shape 1 < .class 2 < #id 3, whatever the order", () => {
  const g = parseDot(`digraph G {
    a [class=c]; b [class=c, shape=hexagon]; d [shape=hexagon]; e
  }`);
  const sheet = parseStylesheet(`
    #a { llm_model: by-id; }
    .c { llm_model: by-class; }
    hexagon { llm_model: by-shape; }
    * { llm_model: by-universal; }
  `);
  const model = (id: string) => resolveStyle(sheet, getNode(g, id)!).llm_model;
  assert.equal(model("a"), "by-id");
  assert.equal(model("b"), "by-class");
  assert.equal(model("d"), "by-shape");
  assert.equal(model("e"), "by-universal");
});

Deno.test("stylesheet: a later rule wins at equal specificity; declarations are per property", () => {
  const g = parseDot(`digraph G { a [class="x,y"] }`);
  const sheet = parseStylesheet(`
    .x { llm_model: first; llm_provider: p1; }
    .y { llm_model: second; }
    .x { reasoning_effort: low; reasoning_effort: medium }
  `);
  assert.deepEqual(resolveStyle(sheet, getNode(g, "a")!), {
    llm_model: "second",
    llm_provider: "p1",
    reasoning_effort: "medium",
  });
});

Deno.test("stylesheet: explicit node attributes (and node defaults) win", () => {
  const g = parseDot(`digraph G {
    a [llm_model=mine]
    node [llm_provider=default-provider]
    b
  }`);
  const styled = applyStylesheet(
    g,
    parseStylesheet("* { llm_model: sheet; llm_provider: sheet; reasoning_effort: high; }"),
  );
  const a = getNode(styled, "a")!;
  assert.equal(a.llmModel, "mine");
  assert.equal(a.llmProvider, "sheet");
  const b = getNode(styled, "b")!;
  assert.equal(b.llmModel, "sheet");
  assert.equal(b.llmProvider, "default-provider");
  assert.equal(b.reasoningEffort, "high");
});

Deno.test("stylesheet: classes derived from subgraph labels are selectable", () => {
  const g = parseDot(`digraph G { subgraph cluster_x { label="Fast Lane"; a } b }`);
  const styled = applyStylesheet(g, parseStylesheet(".fast-lane { llm_model: quick; }"));
  assert.equal(getNode(styled, "a")!.llmModel, "quick");
  assert.equal(getNode(styled, "b")!.llmModel, undefined);
  assert.deepEqual(getNode(styled, "a")!.classes, ["fast-lane"], "classes survive the rebuild");
});

Deno.test("stylesheet: grouped selectors, quoted values, comments", () => {
  const sheet = parseStylesheet(`/* models */ .a, #n { llm_model: "name with; semicolon"; }`);
  assert.deepEqual(sheet.rules[0].selectors.map((s) => [s.kind, s.name, s.specificity]), [
    ["class", "a", 2],
    ["id", "n", 3],
  ]);
  assert.equal(sheet.rules[0].declarations[0].value, "name with; semicolon");
  assert.deepEqual(parseStylesheet("").rules, []);
  assert.deepEqual(parseStylesheet("  /* only a comment */ ").rules, []);
  assert.deepEqual(parseStylesheet("* {}").rules[0].declarations, []);
  const spaced = parseStylesheet("* { llm_model: a b c d \n }");
  assert.equal(spaced.rules[0].declarations[0].value, "a b c d", "bare values may hold spaces");
});

Deno.test("stylesheet: syntax errors carry line and column within the stylesheet", () => {
  const table: [string, number, number, RegExp][] = [
    ["* { llm_model: x; ", 1, 19, /missing '}'/],
    ["*\n{ temperature: 1 }", 2, 3, /unknown property "temperature"/],
    [". { llm_model: x }", 1, 2, /expected a class name after '.'/],
    ["# { llm_model: x }", 1, 2, /expected a node id after '#'/],
    ["{ llm_model: x }", 1, 1, /expected a selector/],
    ["* llm_model: x }", 1, 3, /expected '\{' or ','/],
    ["* { llm_model x }", 1, 15, /expected ':' after llm_model/],
    ["* { llm_model: ; }", 1, 16, /missing value for llm_model/],
    ['* { llm_model: "x }', 1, 16, /unterminated quoted value/],
    ["/* open", 1, 1, /unterminated comment/],
  ];
  for (const [text, line, column, message] of table) {
    assert.throws(() => parseStylesheet(text), (e: unknown) => {
      assert.ok(e instanceof StylesheetSyntaxError, text);
      assert.equal(e.code, "stylesheet_syntax");
      assert.match(e.message, message, text);
      assert.deepEqual([e.line, e.column], [line, column], `${text}: ${e.message}`);
      return true;
    });
  }
});
