/**
 * The model stylesheet (spec §8, latest text): CSS-like rules that give
 * nodes `llm_model`, `llm_provider` and `reasoning_effort` defaults.
 *
 * ```
 * Stylesheet  ::= Rule*
 * Rule        ::= Selector ( ',' Selector )* '{' ( Declaration ( ';' Declaration )* ';'? )? '}'
 * Selector    ::= '*' | Shape | '.' ClassName | '#' NodeId    -- specificity 0, 1, 2, 3
 * Declaration ::= Property ':' Value
 * Property    ::= 'llm_model' | 'llm_provider' | 'reasoning_effort'
 * Value       ::= '"' … '"' | bare text up to ';' or '}'
 * ```
 *
 * `/* … *\/` comments are allowed. A node takes, per property, the value of
 * the matching rule with the highest specificity, the later rule winning a
 * tie; an attribute the node has itself (explicitly or from a `node [ … ]`
 * default) always wins over the stylesheet.
 *
 * @module
 */
import { withNodeAttrs } from "./build.ts";
import { StylesheetSyntaxError } from "./errors.ts";
import type { Graph, Node } from "./types.ts";

/** The properties a stylesheet may set. */
export const STYLESHEET_PROPERTIES: readonly string[] = Object.freeze([
  "llm_model",
  "llm_provider",
  "reasoning_effort",
]);

/** One selector and its specificity. */
export interface StyleSelector {
  /** `*` universal (0), `shape` (1), `class` (2), `id` (3). */
  readonly kind: "universal" | "shape" | "class" | "id";
  /** The shape, class or node id (`*` for universal). */
  readonly name: string;
  /** 0, 1, 2 or 3. */
  readonly specificity: number;
}

/** One `property: value` declaration. */
export interface StyleDeclaration {
  /** `llm_model`, `llm_provider` or `reasoning_effort`. */
  readonly property: string;
  /** The value, unquoted. */
  readonly value: string;
}

/** One rule: selectors sharing a declaration block. */
export interface StyleRule {
  /** The selectors (a node matches the rule if it matches any). */
  readonly selectors: readonly StyleSelector[];
  /** The declarations in order (a repeated property: the last wins). */
  readonly declarations: readonly StyleDeclaration[];
}

/** A parsed stylesheet: rules in source order. */
export interface Stylesheet {
  /** The rules in source order. */
  readonly rules: readonly StyleRule[];
}

const SPECIFICITY = { universal: 0, shape: 1, class: 2, id: 3 } as const;

/**
 * Parses a model stylesheet; `""` (or only whitespace and comments) gives no rules.
 *
 * @throws {StylesheetSyntaxError} with the line and column within the stylesheet text.
 */
export function parseStylesheet(text: string): Stylesheet {
  return new StyleParser(text).parse();
}

class StyleParser {
  #i = 0;
  constructor(readonly text: string) {}

  parse(): Stylesheet {
    const rules: StyleRule[] = [];
    for (;;) {
      this.#skip();
      if (this.#i >= this.text.length) break;
      rules.push(this.#rule());
    }
    return Object.freeze({ rules: Object.freeze(rules) });
  }

  #rule(): StyleRule {
    const selectors: StyleSelector[] = [this.#selector()];
    this.#skip();
    while (this.text[this.#i] === ",") {
      this.#i++;
      this.#skip();
      selectors.push(this.#selector());
      this.#skip();
    }
    if (this.text[this.#i] !== "{") this.#fail(`expected '{' or ',' after the selector`);
    this.#i++;
    const declarations: StyleDeclaration[] = [];
    for (;;) {
      this.#skip();
      const ch = this.text[this.#i];
      if (ch === "}") {
        this.#i++;
        break;
      }
      if (ch === undefined) this.#fail("unterminated rule: missing '}'");
      if (ch === ";") {
        this.#i++;
        continue;
      }
      declarations.push(this.#declaration());
      this.#skip();
      const after = this.text[this.#i];
      if (after !== ";" && after !== "}") {
        this.#fail(`expected ';' or '}' after a declaration, found ${show(after)}`);
      }
    }
    return Object.freeze({
      selectors: Object.freeze(selectors),
      declarations: Object.freeze(declarations),
    });
  }

  #selector(): StyleSelector {
    const ch = this.text[this.#i];
    if (ch === "*") {
      this.#i++;
      return { kind: "universal", name: "*", specificity: SPECIFICITY.universal };
    }
    if (ch === "#" || ch === ".") {
      this.#i++;
      const name = this.#word(ch === "#" ? /[A-Za-z0-9_]/ : /[A-Za-z0-9_-]/);
      if (!name) this.#fail(`expected a ${ch === "#" ? "node id" : "class name"} after '${ch}'`);
      const kind = ch === "#" ? "id" : "class";
      return { kind, name, specificity: SPECIFICITY[kind] };
    }
    const name = this.#word(/[A-Za-z0-9_]/);
    if (!name) {
      this.#fail(`expected a selector ('*', a shape, '.class' or '#id'), found ${show(ch)}`);
    }
    return { kind: "shape", name, specificity: SPECIFICITY.shape };
  }

  #declaration(): StyleDeclaration {
    const start = this.#i;
    const property = this.#word(/[A-Za-z0-9_.-]/);
    if (!property) this.#fail(`expected a property, found ${show(this.text[this.#i])}`);
    if (!STYLESHEET_PROPERTIES.includes(property)) {
      this.#i = start;
      this.#fail(
        `unknown property ${JSON.stringify(property)}; one of ${STYLESHEET_PROPERTIES.join(", ")}`,
      );
    }
    this.#skip();
    if (this.text[this.#i] !== ":") this.#fail(`expected ':' after ${property}`);
    this.#i++;
    this.#skip();
    let value: string;
    if (this.text[this.#i] === '"') {
      value = this.#quoted();
    } else {
      const from = this.#i;
      while (this.#i < this.text.length && !/[;}]/.test(this.text[this.#i])) {
        if (this.text.startsWith("/*", this.#i)) break;
        this.#i++;
      }
      value = this.text.slice(from, this.#i).trim();
    }
    if (value === "") this.#fail(`missing value for ${property}`);
    return Object.freeze({ property, value });
  }

  #quoted(): string {
    const start = this.#i;
    let out = "";
    for (this.#i++; this.#i < this.text.length; this.#i++) {
      const ch = this.text[this.#i];
      if (ch === '"') {
        this.#i++;
        return out;
      }
      if (ch === "\\" && this.#i + 1 < this.text.length) out += this.text[++this.#i];
      else out += ch;
    }
    this.#i = start;
    this.#fail("unterminated quoted value");
  }

  #word(allowed: RegExp): string {
    const from = this.#i;
    while (this.#i < this.text.length && allowed.test(this.text[this.#i])) this.#i++;
    return this.text.slice(from, this.#i);
  }

  /** Skips whitespace and comments. */
  #skip(): void {
    for (;;) {
      while (this.#i < this.text.length && /\s/.test(this.text[this.#i])) this.#i++;
      if (!this.text.startsWith("/*", this.#i)) return;
      const end = this.text.indexOf("*/", this.#i + 2);
      if (end < 0) this.#fail("unterminated comment");
      this.#i = end + 2;
    }
  }

  #fail(reason: string): never {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < this.#i && k < this.text.length; k++) {
      if (this.text[k] === "\n") {
        line++;
        lineStart = k + 1;
      }
    }
    throw new StylesheetSyntaxError(reason, line, this.#i - lineStart + 1);
  }
}

function show(ch: string | undefined): string {
  return ch === undefined ? "the end of the stylesheet" : JSON.stringify(ch);
}

/** Whether `selector` matches `node`. */
export function selectorMatches(selector: StyleSelector, node: Node): boolean {
  switch (selector.kind) {
    case "universal":
      return true;
    case "shape":
      return node.shape === selector.name;
    case "class":
      return node.classes.includes(selector.name);
    case "id":
      return node.id === selector.name;
  }
}

/**
 * The values the stylesheet gives `node`, per property, before the node's
 * own attributes are considered.
 */
export function resolveStyle(stylesheet: Stylesheet, node: Node): Record<string, string> {
  const out: Record<string, string> = {};
  const style = computeStyle(stylesheet, node);
  if (style.llm_model !== undefined) out.llm_model = style.llm_model;
  if (style.llm_provider !== undefined) out.llm_provider = style.llm_provider;
  if (style.reasoning_effort !== undefined) out.reasoning_effort = style.reasoning_effort;
  return out;
}

/** The stylesheet properties as an attribute patch. */
export interface StylePatch {
  /** The model. */
  llm_model?: string;
  /** The provider. */
  llm_provider?: string;
  /** The reasoning effort. */
  reasoning_effort?: string;
}

// One pass over the rules with a variable per property: no maps, no keyed
// stores, since this runs for every node of every run.
function computeStyle(stylesheet: Stylesheet, node: Node): StylePatch {
  let model: string | undefined, provider: string | undefined, effort: string | undefined;
  let modelAt = -1, providerAt = -1, effortAt = -1;
  for (const rule of stylesheet.rules) {
    const specificity = ruleSpecificity(rule, node);
    if (specificity < 0) continue;
    // `>=`: a later rule (or declaration) of equal specificity wins.
    for (const { property, value } of rule.declarations) {
      if (property === "llm_model") {
        if (specificity >= modelAt) {
          model = value;
          modelAt = specificity;
        }
      } else if (property === "llm_provider") {
        if (specificity >= providerAt) {
          provider = value;
          providerAt = specificity;
        }
      } else if (specificity >= effortAt) {
        effort = value;
        effortAt = specificity;
      }
    }
  }
  return { llm_model: model, llm_provider: provider, reasoning_effort: effort };
}

/**
 * The attributes the stylesheet adds to `node`: the properties it gives the
 * node that the node does not set itself; `undefined` when there are none.
 */
export function stylePatch(stylesheet: Stylesheet, node: Node): StylePatch | undefined {
  const attrs = node.attrs;
  const wantModel = attrs.llm_model === undefined;
  const wantProvider = attrs.llm_provider === undefined;
  const wantEffort = attrs.reasoning_effort === undefined;
  if (!wantModel && !wantProvider && !wantEffort) return undefined;
  const style = computeStyle(stylesheet, node);
  const model = wantModel ? style.llm_model : undefined;
  const provider = wantProvider ? style.llm_provider : undefined;
  const effort = wantEffort ? style.reasoning_effort : undefined;
  if (model === undefined && provider === undefined && effort === undefined) return undefined;
  const patch: StylePatch = {};
  if (model !== undefined) patch.llm_model = model;
  if (provider !== undefined) patch.llm_provider = provider;
  if (effort !== undefined) patch.reasoning_effort = effort;
  return patch;
}

/** The highest specificity among the rule's selectors that match `node`; -1 when none does. */
function ruleSpecificity(rule: StyleRule, node: Node): number {
  let specificity = -1;
  for (const selector of rule.selectors) {
    if (selector.specificity > specificity && selectorMatches(selector, node)) {
      specificity = selector.specificity;
    }
  }
  return specificity;
}

/**
 * Applies a stylesheet to every node: each property the node does not set
 * itself takes the stylesheet's value. Returns a new graph (the input is
 * not changed); nodes the stylesheet does not touch are kept as they are.
 */
export function applyStylesheet(graph: Graph, stylesheet: Stylesheet): Graph {
  if (stylesheet.rules.length === 0) return graph;
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    const patch = stylePatch(stylesheet, node);
    if (!patch) return node;
    changed = true;
    return withNodeAttrs(node, patch as Record<string, string>);
  });
  return changed ? Object.freeze({ ...graph, nodes: Object.freeze(nodes) }) : graph;
}
