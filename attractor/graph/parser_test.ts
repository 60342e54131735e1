import assert from "node:assert/strict";
import { DotParseError } from "./errors.ts";
import { parseDot } from "./parser.ts";
import { getNode } from "./query.ts";
import type { Graph } from "./types.ts";

function node(graph: Graph, id: string) {
  const found = getNode(graph, id);
  assert.ok(found, `node ${id}`);
  return found;
}

function pairs(graph: Graph): string[] {
  return graph.edges.map((e) => `${e.from}->${e.to}`);
}

Deno.test("parse: the spec's simple linear workflow", () => {
  const g = parseDot(`
digraph Simple {
    graph [goal="Run tests and report"]
    rankdir=LR

    start [shape=Mdiamond, label="Start"]
    exit  [shape=Msquare, label="Exit"]

    run_tests [label="Run Tests", prompt="Run the test suite and report results"]
    report    [label="Report", prompt="Summarize the test results"]

    start -> run_tests -> report -> exit
}`);
  assert.equal(g.id, "Simple");
  assert.equal(g.attrs.goal, "Run tests and report");
  assert.equal(g.attrs.raw.rankdir, "LR");
  assert.deepEqual(g.nodes.map((n) => n.id), ["start", "exit", "run_tests", "report"]);
  assert.deepEqual(pairs(g), ["start->run_tests", "run_tests->report", "report->exit"]);
  assert.equal(node(g, "start").handlerType, "start");
  assert.equal(node(g, "exit").handlerType, "exit");
  assert.equal(node(g, "report").handlerType, "codergen");
  assert.equal(node(g, "report").shape, "box");
  assert.equal(node(g, "run_tests").label, "Run Tests");
});

Deno.test("parse: chained edges share the chain's attributes", () => {
  const g = parseDot(`digraph G { A -> B -> C [label="next", weight=2] }`);
  assert.deepEqual(pairs(g), ["A->B", "B->C"]);
  for (const e of g.edges) {
    assert.equal(e.label, "next");
    assert.equal(e.weight, 2);
  }
  // Arrows need no spaces.
  assert.deepEqual(pairs(parseDot("digraph G{a->b->c}")), ["a->b", "b->c"]);
});

Deno.test("parse: undeclared edge endpoints become nodes, in order of first mention", () => {
  const g = parseDot(`digraph G { node [shape=box, timeout=5s]; a -> b; c [label=C]; b -> c }`);
  assert.deepEqual(g.nodes.map((n) => n.id), ["a", "b", "c"]);
  assert.equal(node(g, "b").timeoutMs, 5000, "node defaults apply to implicit nodes too");
});

Deno.test("parse: node and edge defaults apply to later statements in their scope", () => {
  const g = parseDot(`digraph G {
    early
    node [shape=hexagon, goal_gate=true]
    edge [weight=3, fidelity=compact]
    late
    late2 [shape=box]
    early -> late
    edge [weight=1]
    late -> late2 [weight=7]
    late2 -> early
  }`);
  assert.equal(node(g, "early").shape, "box", "defaults do not reach back");
  assert.equal(node(g, "late").shape, "hexagon");
  assert.equal(node(g, "late").goalGate, true);
  assert.equal(node(g, "late2").shape, "box", "explicit attributes win over defaults");
  assert.deepEqual(g.edges.map((e) => e.weight), [3, 7, 1]);
  assert.equal(g.edges[0].fidelity, "compact");
});

Deno.test("parse: subgraphs scope defaults and derive classes from their label", () => {
  const g = parseDot(`digraph G {
    subgraph cluster_loop {
      label = "Loop A"
      node [thread_id="loop-a", timeout="900s"]
      Plan      [label="Plan next step"]
      Implement [label="Implement", timeout="1800s", class="code,critical"]
      subgraph inner { graph [label="Inner: Part #2!"]; Deep }
    }
    Outside
    Plan -> Implement -> Outside
  }`);
  const plan = node(g, "Plan");
  assert.equal(plan.threadId, "loop-a");
  assert.equal(plan.timeoutMs, 900_000);
  assert.deepEqual(plan.classes, ["loop-a"]);
  const impl = node(g, "Implement");
  assert.equal(impl.timeoutMs, 1_800_000);
  assert.deepEqual(impl.classes, ["code", "critical", "loop-a"]);
  assert.deepEqual(node(g, "Deep").classes, ["loop-a", "inner-part-2"]);
  assert.equal(node(g, "Deep").threadId, "loop-a", "inner scopes inherit defaults");
  assert.equal(node(g, "Outside").threadId, undefined, "defaults end with their scope");
  assert.deepEqual(node(g, "Outside").classes, []);
  assert.equal(g.attrs.label, "", "subgraph labels are not the graph's");
});

Deno.test("parse: anonymous subgraphs and subgraphs as edge endpoints", () => {
  const g = parseDot(`digraph G { a -> { b c } -> d; subgraph s { x y } -> a }`);
  assert.deepEqual(pairs(g), ["a->b", "a->c", "b->d", "c->d", "x->a", "y->a"]);
});

Deno.test("parse: strings — escapes, multi-line, concatenation, other escapes kept", () => {
  const g = parseDot(`digraph G {
    n [prompt="say \\"hi\\"\\n\\tthen \\\\ stop", label="line one
line two", note="a" + "b" + "c", gv="left\\lright", cont="joined\\
here"]
  }`);
  const n = node(g, "n");
  assert.equal(n.prompt, 'say "hi"\n\tthen \\ stop');
  assert.equal(n.label, "line one\nline two");
  assert.equal(n.attrs.note, "abc");
  assert.equal(n.attrs.gv, "left\\lright");
  assert.equal(n.attrs.cont, "joinedhere");
});

Deno.test("parse: comments are stripped everywhere but inside strings", () => {
  const g = parseDot(`# preprocessor-style line
// line comment
/* block
   comment */ digraph G { // after brace
    a [label="// not a comment", prompt="/* nor this */ # nor this"]
    a /* between */ -> b
    # hash comment
    b -> c // trailing
  }`);
  assert.equal(node(g, "a").label, "// not a comment");
  assert.equal(node(g, "a").prompt, "/* nor this */ # nor this");
  assert.deepEqual(pairs(g), ["a->b", "b->c"]);
  // A comment right after a bare word ends it, even where '/' is part of values.
  const tight = parseDot("digraph G { a [path=./x/y.dot// note\n] b/* c */ }");
  assert.equal(node(tight, "a").attrs.path, "./x/y.dot");
  assert.deepEqual(tight.nodes.map((n) => n.id), ["a", "b"]);
});

Deno.test("parse: qualified keys, quoted keys and unquoted dotted/dashed values", () => {
  const g = parseDot(`digraph G {
    manager.max_cycles=3
    m [manager.max_cycles=3, human.default_choice=approve, "stack.child_dotfile"="child.dot",
       llm_model=gpt-5.4, type=wait.human, fidelity=summary:high, url="https://x.test/a-b",
       weight=-1.5, path=./dir/file.dot]
  }`);
  assert.equal(g.attrs.raw["manager.max_cycles"], "3");
  const m = node(g, "m");
  assert.equal(m.attrs["manager.max_cycles"], "3");
  assert.equal(m.attrs["human.default_choice"], "approve");
  assert.equal(m.attrs["stack.child_dotfile"], "child.dot");
  assert.equal(m.llmModel, "gpt-5.4");
  assert.equal(m.type, "wait.human");
  assert.equal(m.handlerType, "wait.human");
  assert.equal(m.fidelity, "summary:high");
  assert.equal(m.attrs.url, "https://x.test/a-b");
  assert.equal(m.attrs.weight, "-1.5");
  assert.equal(m.attrs.path, "./dir/file.dot");
});

Deno.test("parse: attribute separators are commas, semicolons or whitespace", () => {
  const g = parseDot(`digraph G {
    a [shape=box; label="A" prompt="p",
       goal_gate=true
       max_retries=2,]
    b [label=B][prompt=P]
  }`);
  const a = node(g, "a");
  assert.equal(a.label, "A");
  assert.equal(a.prompt, "p");
  assert.equal(a.goalGate, true);
  assert.equal(a.maxRetries, 2);
  assert.equal(node(g, "b").prompt, "P", "several [..] blocks merge");
});

Deno.test("parse: graph attributes from graph [..] and top-level key = value", () => {
  const g = parseDot(`digraph G {
    graph [goal="g1", default_max_retry=4]
    label = "Pipeline"
    retry_target = plan; fallback_retry_target=review
    default_fidelity="full"
    max_loop_restarts=2
    default_max_visits=10
    plan; review
  }`);
  assert.equal(g.attrs.goal, "g1");
  assert.equal(g.attrs.label, "Pipeline");
  assert.equal(g.attrs.defaultMaxRetries, 4, "default_max_retry is the alias");
  assert.equal(g.attrs.retryTarget, "plan");
  assert.equal(g.attrs.fallbackRetryTarget, "review");
  assert.equal(g.attrs.defaultFidelity, "full");
  assert.equal(g.attrs.maxLoopRestarts, 2);
  assert.equal(g.attrs.defaultMaxVisits, 10);
  const d = parseDot("digraph G { default_max_retries=1; default_max_retry=9 }");
  assert.equal(d.attrs.defaultMaxRetries, 1, "default_max_retries wins over its alias");
  const none = parseDot("digraph { }");
  assert.equal(none.id, "");
  assert.equal(none.attrs.defaultMaxRetries, 0);
  assert.equal(none.attrs.maxLoopRestarts, 5);
  assert.equal(none.attrs.defaultMaxVisits, 0);
});

Deno.test("parse: typed node and edge attributes", () => {
  const g = parseDot(`digraph G {
    n [max_retries=3, goal_gate=TRUE, retry_target=a, fallback_retry_target=b, fidelity=full,
       thread_id=t1, timeout=250ms, llm_model="m", llm_provider=openai, reasoning_effort=low,
       auto_status=true, allow_partial=true, max_visits=4]
    d [timeout=1d]; h [timeout=2h]; s [timeout=30]; bad [max_retries=lots, timeout=soon]
    n -> d [condition=" outcome=success ", weight=5, fidelity=truncate, thread_id=t2,
            loop_restart=true, label="go"]
  }`);
  const n = node(g, "n");
  assert.deepEqual(
    [n.maxRetries, n.goalGate, n.retryTarget, n.fallbackRetryTarget, n.fidelity, n.threadId],
    [3, true, "a", "b", "full", "t1"],
  );
  assert.deepEqual([n.timeoutMs, n.llmModel, n.llmProvider, n.reasoningEffort], [
    250,
    "m",
    "openai",
    "low",
  ]);
  assert.deepEqual([n.autoStatus, n.allowPartial, n.maxVisits], [true, true, 4]);
  assert.equal(node(g, "d").timeoutMs, 86_400_000);
  assert.equal(node(g, "h").timeoutMs, 7_200_000);
  assert.equal(node(g, "s").timeoutMs, 30_000, "a bare integer is seconds");
  const bad = node(g, "bad");
  assert.equal(bad.maxRetries, undefined, "an ill-typed value leaves the field unset");
  assert.equal(bad.timeoutMs, undefined);
  assert.equal(bad.attrs.max_retries, "lots", "the raw text is kept for lint");
  const e = g.edges[0];
  assert.deepEqual(
    [e.condition, e.weight, e.fidelity, e.threadId, e.loopRestart, e.label],
    ["outcome=success", 5, "truncate", "t2", true, "go"],
  );
});

Deno.test("parse: a repeated node statement merges attributes, later wins", () => {
  const g = parseDot(`digraph G { a [label=one, prompt=p]; a [label=two] }`);
  assert.equal(g.nodes.length, 1);
  assert.equal(node(g, "a").label, "two");
  assert.equal(node(g, "a").prompt, "p");
});

Deno.test("parse: keywords are case-insensitive; a quoted graph id is allowed", () => {
  const g = parseDot(`DiGraph "My pipeline" { NODE [shape=box]; Edge [weight=2]; a -> b }`);
  assert.equal(g.id, "My pipeline");
  assert.equal(g.edges[0].weight, 2);
});

Deno.test("parse: source locations of nodes and edges", () => {
  const g = parseDot("digraph G {\n  a -> b\n\n    c [label=x]\n}");
  assert.deepEqual(node(g, "a").loc, { line: 2, column: 3 });
  assert.deepEqual(node(g, "b").loc, { line: 2, column: 8 });
  assert.deepEqual(node(g, "c").loc, { line: 4, column: 5 });
  assert.deepEqual(g.edges[0].loc, { line: 2, column: 3 });
});

Deno.test("parse: the result is plain data that survives JSON and structuredClone", () => {
  const g = parseDot(`digraph G { a [timeout=1s]; a -> b }`);
  assert.ok(Object.isFrozen(g) && Object.isFrozen(g.nodes) && Object.isFrozen(g.edges));
  const json = JSON.stringify(g);
  assert.equal(JSON.stringify(structuredClone(g)), json);
  assert.equal(JSON.stringify(JSON.parse(json)), json);
  assert.equal(JSON.parse(json).nodes[0].timeoutMs, 1000);
  // Every node has every field, in one order (unset ones undefined).
  assert.deepEqual(Object.keys(g.nodes[0]), Object.keys(g.nodes[1]));
  assert.ok("maxRetries" in g.nodes[0] && g.nodes[0].maxRetries === undefined);
});

function parseError(source: string): DotParseError {
  try {
    parseDot(source);
  } catch (e) {
    assert.ok(e instanceof DotParseError, `${source}: ${e}`);
    return e;
  }
  assert.fail(`expected a parse error for ${source}`);
}

Deno.test("parse errors name line and column", () => {
  const table: [string, number, number, RegExp, string?][] = [
    ["", 1, 1, /expected 'digraph', found the end of the input/],
    ["graph G { a }", 1, 1, /undirected graphs/, "dot_unsupported"],
    ["digraph G { a [x=1] -> b }", 1, 21, /unexpected '->': .*attributes go after the last node/],
    ["strict digraph G {}", 1, 1, /'strict'/, "dot_unsupported"],
    ["digraph G {\n  a -- b\n}", 2, 5, /undirected edges/, "dot_unsupported"],
    ["digraph G {\n  a -> \n}", 3, 1, /expected a node id after '->', found '}'/],
    ['digraph G {\n  a [label="x]\n}', 2, 12, /unterminated string/],
    ["digraph G {\n  /* never closed\n}", 2, 3, /unterminated \/\* comment/],
    ["digraph G {\n  a [label=<b>x</b>]\n}", 2, 12, /HTML-like labels/],
    ["digraph G {\n  a [label]\n}", 2, 11, /expected '=' after attribute "label"/],
    ["digraph G {\n  a [label=]\n}", 2, 12, /expected a value for "label"/],
    [
      "digraph G {\n  a -> b [condition=outcome=success]\n}",
      2,
      28,
      /quote values that contain '='/,
    ],
    ["digraph G {\n  a [label=x\n}", 3, 1, /expected an attribute name or '\]'/],
    ['digraph G {\n  "my node" [label=x]\n}', 2, 3, /not an identifier/],
    ["digraph G {\n  a:n -> b\n}", 2, 3, /ports are not supported/, "dot_unsupported"],
    ["digraph G {\n  9a\n}", 2, 3, /not an identifier/],
    ["digraph G { a }\ndigraph H { b }", 2, 1, /only one graph per file/, "dot_unsupported"],
    ["digraph G { a } extra", 1, 17, /after the end of the graph/],
    ["digraph G { a ", 1, 15, /expected '}', found the end of the input/],
    [
      "digraph G { subgraph { digraph H {} } }",
      1,
      24,
      /cannot contain another graph/,
      "dot_unsupported",
    ],
    ["digraph G { node a }", 1, 18, /expected '\[' after 'node'/],
    ["digraph G { a ! b }", 1, 15, /unexpected character "!"/],
    ["digraph G { ] }", 1, 13, /expected a statement, found '\]'/],
    ["digraph G { a [__proto__=x] }", 1, 16, /'__proto__' is not allowed/],
    ['digraph G { "__proto__" = x }', 1, 13, /'__proto__' is not allowed/],
    ['digraph G {\n\ta -> b [label="x\\"]\n}', 2, 16, /unterminated string/],
  ];
  for (const [source, line, column, message, code] of table) {
    const e = parseError(source);
    assert.match(e.message, message, source);
    assert.equal(e.line, line, `${source}: line (${e.message})`);
    assert.equal(e.column, column, `${source}: column (${e.message})`);
    assert.equal(e.code, code ?? "dot_syntax", source);
    assert.match(e.message, new RegExp(`^line ${line}, column ${column}: `));
  }
});

Deno.test("parse: CRLF line ends read as LF, positions unchanged", () => {
  const g = parseDot('digraph G {\r\n  a [prompt="one\r\ntwo"]\r\n  b\r\n}');
  assert.equal(node(g, "a").prompt, "one\ntwo");
  assert.deepEqual(node(g, "b").loc, { line: 4, column: 3 });
});

Deno.test("parse errors: a source that is not a string is a typed error", () => {
  for (const bad of [undefined, null, 42, new Uint8Array(3)]) {
    assert.throws(() => parseDot(bad as unknown as string), (e: unknown) => {
      assert.ok(e instanceof DotParseError);
      assert.match(e.message, /DOT source must be a string/);
      return true;
    });
  }
});

Deno.test("parse errors: nesting is bounded", () => {
  const deep = "digraph G {" + "{".repeat(100) + "}".repeat(100) + "}";
  assert.match(parseError(deep).message, /nested deeper than 64 levels/);
  const ok = "digraph G {" + "{".repeat(10) + "a" + "}".repeat(10) + "}";
  assert.equal(parseDot(ok).nodes.length, 1);
  assert.equal(parseDot(deep, { maxSubgraphDepth: 200 }).nodes.length, 0);
});
