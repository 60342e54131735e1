/**
 * Fuzzing the graph layer: seeded random and mutated inputs, very deep
 * nesting and very large inputs. Whatever the input, the parser returns a
 * graph or throws a typed `GraphError`; validation and transforms of any
 * parsed graph never throw; nothing hangs (each case is bounded in time).
 */
import assert from "node:assert/strict";
import { parseCondition } from "./conditions.ts";
import { GraphError } from "./errors.ts";
import { validate } from "./lint.ts";
import { parseDot } from "./parser.ts";
import { selectEdge } from "./routing.ts";
import { parseStylesheet } from "./stylesheet.ts";
import { applyTransforms, BUILTIN_TRANSFORMS } from "./transforms.ts";
import { outgoingEdges } from "./query.ts";

/** mulberry32: a small seeded PRNG, so a failure replays from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An environment variable, or undefined without permission to read it. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

// FUZZ_SEED replays a run; FUZZ_MS gives the random cases more time.
const SEED = Number(env("FUZZ_SEED") ?? 20261130);
const BUDGET_MS = Number(env("FUZZ_MS") ?? 1500);

const SEEDS = [
  `digraph G { graph [goal="g", model_stylesheet="* { llm_model: m; } .c { llm_provider: p; }"]
  start [shape=Mdiamond]; exit [shape=Msquare]
  subgraph cluster_a { label="Loop A"; node [thread_id=t, timeout=900s]; a [prompt="do $goal", class=c] }
  start -> a -> b -> exit [weight=2]
  b -> a [condition="outcome=fail && context.x!=\\"y\\"", label="[R] Retry"]
  m [manager.max_cycles=3, llm_model=gpt-5.4, type=wait.human, "stack.child_dotfile"="c.dot"]
  /* block */ # hash
  // line
}`,
  `digraph { a -> { b c } -> d; subgraph s { x y } -> a; e [label="multi
line", note="a" + "b"] }`,
];

const VOCABULARY = [
  "digraph",
  "graph",
  "node",
  "edge",
  "subgraph",
  "strict",
  "{",
  "}",
  "[",
  "]",
  "=",
  ";",
  ",",
  "->",
  "--",
  "a",
  "b",
  "start",
  "exit",
  "shape=Mdiamond",
  "shape=Msquare",
  '"str"',
  '"esc\\"q"',
  '"open',
  "/*",
  "*/",
  "//",
  "#",
  "\n",
  " ",
  "<",
  ">",
  "+",
  "condition=",
  '"outcome=success"',
  "manager.max_cycles=3",
  "gpt-5.4",
  "900s",
  "-1",
  "1.5",
  "\\",
  "é",
  "\u0000",
  "\uFEFF",
  "\r\n",
  '"&&"',
  "model_stylesheet=",
  '"* {"',
  "label=",
  "class=",
  '"x,y"',
];

function randomTokens(next: () => number): string {
  const n = Math.floor(next() * 60);
  let out = "";
  for (let i = 0; i < n; i++) out += VOCABULARY[Math.floor(next() * VOCABULARY.length)] + " ";
  return next() < 0.5 ? `digraph G { ${out} }` : out;
}

function mutate(source: string, next: () => number): string {
  let s = source;
  const edits = 1 + Math.floor(next() * 6);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(next() * (s.length + 1));
    const choice = next();
    if (choice < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(next() * 8));
    else if (choice < 0.6) {
      s = s.slice(0, at) + VOCABULARY[Math.floor(next() * VOCABULARY.length)] + s.slice(at);
    } else if (choice < 0.8) {
      s = s.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + s.slice(at);
    } else {
      const from = Math.floor(next() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(next() * 40)) + s.slice(at);
    }
  }
  return s;
}

/** Parses, and for a graph, transforms, validates and routes every node once. */
function exercise(source: string): "graph" | "typed error" {
  let graph;
  try {
    graph = parseDot(source);
  } catch (e) {
    if (e instanceof GraphError) return "typed error";
    throw new Error(`untyped error for ${JSON.stringify(source.slice(0, 200))}`, { cause: e });
  }
  const transformed = applyTransforms(graph, BUILTIN_TRANSFORMS);
  validate(transformed);
  for (const node of transformed.nodes) {
    try {
      selectEdge(outgoingEdges(transformed, node.id), { status: "success" }, {});
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
    }
  }
  return "graph";
}

Deno.test("fuzz: random token soup and mutated pipelines give a graph or a typed error", () => {
  const next = rng(SEED);
  const deadline = performance.now() + BUDGET_MS;
  const outcomes = { graph: 0, "typed error": 0 };
  let cases = 0;
  while (performance.now() < deadline && cases < 20_000) {
    const source = next() < 0.4
      ? randomTokens(next)
      : mutate(SEEDS[Math.floor(next() * SEEDS.length)], next);
    outcomes[exercise(source)]++;
    cases++;
  }
  assert.ok(cases > 50, `ran ${cases} cases`);
  // Both paths are exercised: the fuzzer is not only producing garbage.
  assert.ok(outcomes.graph > 0 && outcomes["typed error"] > 0, JSON.stringify(outcomes));
});

Deno.test("fuzz: conditions and stylesheets from random text give a result or a typed error", () => {
  const next = rng(SEED + 1);
  const alphabet = [
    '"',
    "\\",
    "=",
    "!",
    "&",
    "|",
    " ",
    "a",
    ".",
    "_",
    "1",
    "{",
    "}",
    ":",
    ";",
    "*",
    "#",
    "/",
    "n",
  ];
  const deadline = performance.now() + BUDGET_MS / 2;
  let cases = 0;
  while (performance.now() < deadline && cases < 50_000) {
    let text = "";
    const n = Math.floor(next() * 30);
    for (let i = 0; i < n; i++) text += alphabet[Math.floor(next() * alphabet.length)];
    for (const parse of [parseCondition, parseStylesheet]) {
      try {
        parse(text);
      } catch (e) {
        if (!(e instanceof GraphError)) {
          throw new Error(`untyped error for ${JSON.stringify(text)}`, { cause: e });
        }
      }
    }
    cases++;
  }
  assert.ok(cases > 50);
});

function typedErrorOrGraph(source: string, limitMs: number): void {
  const started = performance.now();
  exercise(source);
  const took = performance.now() - started;
  assert.ok(took < limitMs, `took ${took.toFixed(0)} ms (bound ${limitMs} ms)`);
}

Deno.test("fuzz: very deep nesting is refused with a typed error, not a stack overflow", () => {
  const depth = 200_000;
  for (
    const source of [
      "digraph G {" + "{".repeat(depth) + "}".repeat(depth) + "}",
      "digraph G {" + "subgraph s {".repeat(depth) + "}".repeat(depth) + "}",
      "digraph G { a [" + "[".repeat(depth) + " }",
      "digraph G { a -> " + "{ ".repeat(depth) + " }",
      "[".repeat(depth),
      '"'.repeat(depth),
      "/*".repeat(depth),
    ]
  ) {
    assert.throws(() => parseDot(source), GraphError);
    typedErrorOrGraph(source, 5000);
  }
  assert.throws(() => parseCondition("a=" + '"'.repeat(depth)), GraphError);
  assert.throws(() => parseStylesheet("* {".repeat(depth)), GraphError);
});

Deno.test("fuzz: very large inputs parse and validate in time linear enough to finish", () => {
  const n = 50_000;
  const lines = ["digraph Big {", "start [shape=Mdiamond]; exit [shape=Msquare]"];
  for (let i = 0; i < n; i++) lines.push(`n${i} [prompt="stage ${i} of $goal", timeout=${i}s]`);
  lines.push("start -> " + Array.from({ length: n }, (_, i) => `n${i}`).join(" -> ") + " -> exit");
  lines.push("}");
  const source = lines.join("\n");
  const started = performance.now();
  const graph = parseDot(source);
  assert.equal(graph.nodes.length, n + 2);
  assert.equal(graph.edges.length, n + 1);
  assert.deepEqual(validate(graph), []);
  assert.ok(performance.now() - started < 20_000);
  // One huge string and one huge comment.
  const big = "x".repeat(5_000_000);
  assert.equal(parseDot(`digraph G { a [prompt="${big}"] }`).nodes[0].prompt.length, big.length);
  assert.equal(parseDot(`digraph G { /* ${big} */ a }`).nodes.length, 1);
  typedErrorOrGraph(`digraph G { a [prompt="${big}`, 5000);
});
