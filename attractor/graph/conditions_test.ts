import assert from "node:assert/strict";
import {
  conditionText,
  evaluateCondition,
  isTruthy,
  parseCondition,
  resolveConditionKey,
} from "./conditions.ts";
import { ConditionSyntaxError } from "./errors.ts";
import type { ConditionInput } from "./types.ts";

const input: ConditionInput = {
  outcome: "success",
  preferredLabel: "Fix",
  context: {
    "context.tests_passed": "true",
    "loop_state": "running",
    "count": 3,
    "flag": true,
    "off": false,
    "zero": 0,
    "empty": "",
    "no": "false",
    "human.gate.selected": "A",
    "context.obj": { a: 1 },
    "spaced": "ship it",
    "quoted": 'say "hi"',
  },
};

Deno.test("conditions: the evaluation table", () => {
  const table: [string, boolean][] = [
    ["", true],
    ["   ", true],
    ["outcome=success", true],
    ["outcome = success", true],
    ["outcome=fail", false],
    ["outcome!=fail", true],
    ["outcome!=success", false],
    ["outcome=SUCCESS", false], // exact and case-sensitive
    ["preferred_label=Fix", true],
    ["preferred_label=fix", false],
    ["context.tests_passed=true", true],
    ["tests_passed=true", false], // an unqualified key is looked up as written
    ["context.loop_state=running", true], // context.<path> falls back to <path>
    ["loop_state=running", true],
    ["context.loop_state!=exhausted", true],
    ["context.missing!=x", true], // missing compares as ""
    ['context.missing=""', true],
    ["count=3", true],
    ["flag=true", true],
    ['context.obj="{\\"a\\":1}"', true], // objects compare as JSON
    ["human.gate.selected=A", true],
    ["context.human.gate.selected=A", true],
    ["spaced=ship it", true],
    ['spaced="ship it"', true],
    ['quoted="say \\"hi\\""', true],
    ["outcome=success && context.tests_passed=true", true],
    ["outcome=success && context.tests_passed=false", false],
    ["outcome=success&&flag", true],
    ["flag", true],
    ["off", false],
    ["zero", false],
    ["empty", false],
    ["no", false],
    ["missing", false],
    ["count", true],
    ["outcome", true],
    ['preferred_label="Fix" && outcome=success', true],
    ['spaced="a && b"', false], // && inside quotes is not a separator
  ];
  for (const [condition, expected] of table) {
    assert.equal(evaluateCondition(condition, input), expected, condition);
  }
});

Deno.test("conditions: quoted literals are unescaped", () => {
  const parsed = parseCondition('k="a\\"b\\\\c\\nd\\te"');
  assert.deepEqual(parsed.clauses, [{ kind: "compare", key: "k", op: "=", value: 'a"b\\c\nd\te' }]);
  assert.equal(
    evaluateCondition('k="a && b"', { outcome: "", context: new Map([["k", "a && b"]]) }),
    true,
  );
});

Deno.test("conditions: the parse tree", () => {
  assert.deepEqual(parseCondition("outcome=success && context.x != y z && flag").clauses, [
    { kind: "compare", key: "outcome", op: "=", value: "success" },
    { kind: "compare", key: "context.x", op: "!=", value: "y z" },
    { kind: "truthy", key: "flag" },
  ]);
  assert.deepEqual(parseCondition("").clauses, []);
  assert.equal(parseCondition("a=b").source, "a=b");
});

Deno.test("conditions: a Map context works like a record", () => {
  const context = new Map<string, unknown>([["context.k", "v"], ["n", 1]]);
  assert.equal(evaluateCondition("context.k=v && n=1", { outcome: "fail", context }), true);
  assert.equal(evaluateCondition("context.n=1", { outcome: "fail", context }), true);
});

Deno.test("conditions: syntax errors name what is wrong and where", () => {
  const table: [string, RegExp, number][] = [
    ["outcome=", /missing value after '='/, 8],
    ["outcome=success &&", /empty clause after '&&'/, 18],
    ["&& outcome=success", /empty clause before '&&'/, 0],
    ["outcome=success && && x", /empty clause/, 19],
    ["=success", /expected a key/, 0],
    ["outcome==success", /'==' is not an operator/, 7],
    ["outcome=success || outcome=fail", /only '&&' is supported/, 16],
    ["a || b", /only '&&' is supported/, 2],
    ["count > 3", /only '=' and '!=' are supported/, 6],
    ["outcome=succ=ess", /unexpected "=" in value/, 12],
    ['k="abc', /unterminated quoted value/, 2],
    ['k="abc" x', /after the quoted value/, 8],
    ['k="a\\qb"', /unknown escape/, 4],
    ["9lives=x", /expected a key/, 0],
    ['k=a"b', /unterminated quoted value/, 3],
    ['k=a"b" && x', /unexpected "\\"" in value/, 3],
  ];
  for (const [source, message, offset] of table) {
    assert.throws(() => parseCondition(source), (e: unknown) => {
      assert.ok(e instanceof ConditionSyntaxError, source);
      assert.equal(e.code, "condition_syntax");
      assert.match(e.message, message, source);
      assert.equal(e.offset, offset, `${source}: offset`);
      assert.equal(e.source, source);
      return true;
    });
  }
});

Deno.test("conditions: evaluating a condition that does not parse throws the typed error", () => {
  assert.throws(() => evaluateCondition("a==b", input), ConditionSyntaxError);
});

Deno.test("conditions: key resolution and text conversion", () => {
  assert.equal(resolveConditionKey("outcome", input), "success");
  assert.equal(resolveConditionKey("preferred_label", { outcome: "x", context: {} }), "");
  assert.equal(resolveConditionKey("context.loop_state", input), "running");
  assert.equal(resolveConditionKey("nope", input), undefined);
  assert.equal(conditionText(undefined), "");
  assert.equal(conditionText(null), "");
  assert.equal(conditionText(false), "false");
  assert.equal(conditionText(2.5), "2.5");
  assert.equal(conditionText({ a: [1] }), '{"a":[1]}');
  assert.equal(isTruthy("yes"), true);
  assert.equal(isTruthy(" FALSE "), false);
  assert.equal(isTruthy(Number.NaN), false);
  assert.equal(isTruthy([]), true);
  // An own-property lookup: inherited names are not context keys.
  assert.equal(resolveConditionKey("toString", { outcome: "", context: {} }), undefined);
});
