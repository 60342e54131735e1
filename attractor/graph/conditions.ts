/**
 * The condition language of edge guards (spec §10, reference point 4): one
 * parser and one evaluator, shared by lint (`condition_syntax`) and by edge
 * selection in the engine.
 *
 * ```
 * Condition ::= ε | Clause ( '&&' Clause )*
 * Clause    ::= Key ( ( '=' | '!=' ) Literal )?      -- a bare key tests truthiness
 * Key       ::= Segment ( '.' Segment )*             -- outcome, preferred_label, context.<path>, <path>
 * Segment   ::= [A-Za-z_] [A-Za-z0-9_-]*
 * Literal   ::= '"' ( '\"' | '\\' | '\n' | '\t' | '\r' | [^"\\] )* '"'
 *             | BareValue                            -- the rest of the clause, trimmed
 * ```
 *
 * A bare value may hold spaces (`preferred_label=Ship it`) but not `=`, `"`
 * or `||`; quote it when it must. Comparison is exact and case-sensitive.
 *
 * @module
 */
import { ConditionSyntaxError } from "./errors.ts";
import type { ConditionClause, ConditionInput, ContextValues, ParsedCondition } from "./types.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*/;

/**
 * Parses a condition expression. An empty (or all-blank) condition has no
 * clauses and is always true.
 *
 * @throws {ConditionSyntaxError} naming what is wrong and where.
 */
export function parseCondition(source: string): ParsedCondition {
  const clauses: ConditionClause[] = [];
  if (source.trim() === "") return Object.freeze({ source, clauses: Object.freeze(clauses) });
  let start = 0;
  let inQuote = false;
  let quoteAt = 0;
  for (let i = 0; i <= source.length; i++) {
    const ch = source[i];
    if (inQuote) {
      if (ch === "\\") i++;
      else if (ch === '"') inQuote = false;
      else if (ch === undefined) {
        throw new ConditionSyntaxError("unterminated quoted value", source, quoteAt);
      }
      continue;
    }
    if (ch === '"') {
      inQuote = true;
      quoteAt = i;
    } else if (ch === undefined || (ch === "&" && source[i + 1] === "&")) {
      clauses.push(parseClause(source, start, i));
      start = i + 2;
      i++;
    }
  }
  return Object.freeze({ source, clauses: Object.freeze(clauses) });
}

function parseClause(source: string, from: number, to: number): ConditionClause {
  let i = from;
  while (i < to && isSpace(source[i])) i++;
  let end = to;
  while (end > i && isSpace(source[end - 1])) end--;
  if (i === end) {
    throw new ConditionSyntaxError(
      from === 0 ? "empty clause before '&&'" : "empty clause after '&&'",
      source,
      i,
    );
  }
  const text = source.slice(i, end);
  const keyMatch = KEY.exec(text);
  if (!keyMatch) {
    throw new ConditionSyntaxError(
      `expected a key (outcome, preferred_label, context.<path> or a context key), found ${
        JSON.stringify(text.slice(0, 20))
      }`,
      source,
      i,
    );
  }
  const key = keyMatch[0];
  let j = key.length;
  while (j < text.length && isSpace(text[j])) j++;
  if (j === text.length) return Object.freeze({ kind: "truthy" as const, key });
  let op: "=" | "!=";
  if (text.startsWith("!=", j)) {
    op = "!=";
    j += 2;
  } else if (text.startsWith("==", j)) {
    throw new ConditionSyntaxError("'==' is not an operator; write '='", source, i + j);
  } else if (text[j] === "=") {
    op = "=";
    j += 1;
  } else {
    const found = text.slice(j, j + 2);
    const hint = found === "||"
      ? "; only '&&' is supported"
      : /^[<>]/.test(found)
      ? "; only '=' and '!=' are supported"
      : "";
    throw new ConditionSyntaxError(
      `expected '=', '!=' or '&&' after key ${JSON.stringify(key)}, found ${
        JSON.stringify(found)
      }${hint}`,
      source,
      i + j,
    );
  }
  while (j < text.length && isSpace(text[j])) j++;
  const valueAt = i + j;
  if (j === text.length) {
    throw new ConditionSyntaxError(
      `missing value after '${op}'; write "" for the empty string`,
      source,
      valueAt,
    );
  }
  let value: string;
  if (text[j] === '"') {
    const [literal, end] = readQuoted(text, j, source, i);
    value = literal;
    let next = end;
    while (next < text.length && isSpace(text[next])) next++;
    if (next !== text.length) {
      throw new ConditionSyntaxError(
        `unexpected ${JSON.stringify(text.slice(next, next + 10))} after the quoted value`,
        source,
        i + next,
      );
    }
  } else {
    value = text.slice(j);
    const bad = /=|"|\|\|/.exec(value);
    if (bad) {
      const hint = bad[0] === "||" ? "only '&&' is supported" : "quote the value";
      throw new ConditionSyntaxError(
        `unexpected ${JSON.stringify(bad[0])} in value ${JSON.stringify(value)}; ${hint}`,
        source,
        valueAt + bad.index,
      );
    }
  }
  return Object.freeze({ kind: "compare" as const, key, op, value });
}

function readQuoted(text: string, at: number, source: string, base: number): [string, number] {
  let out = "";
  for (let k = at + 1; k < text.length; k++) {
    const ch = text[k];
    if (ch === '"') return [out, k + 1];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = text[++k];
    switch (next) {
      case "n":
        out += "\n";
        break;
      case "t":
        out += "\t";
        break;
      case "r":
        out += "\r";
        break;
      case '"':
      case "\\":
        out += next;
        break;
      case undefined:
        break;
      default:
        throw new ConditionSyntaxError(`unknown escape '\\${next}'`, source, base + k - 1);
    }
  }
  throw new ConditionSyntaxError("unterminated quoted value", source, base + at);
}

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

/** Looks a key up in a context given as a `Map` or a plain record. */
export function contextGet(context: ContextValues, key: string): unknown {
  if (context instanceof Map) return context.get(key);
  return Object.hasOwn(context, key) ? (context as Record<string, unknown>)[key] : undefined;
}

/**
 * Resolves a condition key to its raw value (spec §10.4): `outcome`,
 * `preferred_label`, `context.<path>` (looked up as written, then without
 * `context.`), or any other key looked up in the context as written.
 */
export function resolveConditionKey(key: string, input: ConditionInput): unknown {
  if (key === "outcome") return input.outcome;
  if (key === "preferred_label") return input.preferredLabel ?? "";
  const direct = contextGet(input.context, key);
  if (direct !== undefined && direct !== null) return direct;
  if (key.startsWith("context.")) return contextGet(input.context, key.slice("context.".length));
  return undefined;
}

/** How a context value compares as text: missing → `""`, objects as JSON. */
export function conditionText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Whether a value is truthy for a bare-key clause: missing, `null`, `""`,
 * `false`, `0`, and the strings `"false"` and `"0"` are false; anything else
 * is true.
 */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  if (typeof value === "string") {
    const t = value.trim().toLowerCase();
    return t !== "" && t !== "false" && t !== "0";
  }
  return true;
}

const cache = new Map<string, ParsedCondition>();
const CACHE_LIMIT = 4096;

/**
 * `parseCondition` through a bounded cache (parsed conditions are frozen, so
 * sharing them is safe): the same conditions are parsed on every visit of an
 * edge and every validation of a pipeline.
 *
 * @throws {ConditionSyntaxError} as `parseCondition` does (errors are not cached).
 */
export function parseConditionCached(source: string): ParsedCondition {
  let parsed = cache.get(source);
  if (!parsed) {
    parsed = parseCondition(source);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(source, parsed);
  }
  return parsed;
}

/**
 * Evaluates a condition against an outcome and the run context: true when
 * every clause holds (an empty condition is true).
 *
 * @throws {ConditionSyntaxError} when given source text that does not parse.
 */
export function evaluateCondition(
  condition: ParsedCondition | string,
  input: ConditionInput,
): boolean {
  const parsed = typeof condition === "string" ? parseConditionCached(condition) : condition;
  for (const clause of parsed.clauses) {
    const value = resolveConditionKey(clause.key, input);
    if (clause.kind === "truthy") {
      if (!isTruthy(value)) return false;
    } else if ((conditionText(value) === clause.value) !== (clause.op === "=")) {
      return false;
    }
  }
  return true;
}
