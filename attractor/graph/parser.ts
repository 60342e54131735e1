/**
 * The DOT parser: tokens → the plain-data {@linkcode Graph}. Graphviz's
 * statement syntax (node, edge, chained edges, `node`/`edge`/`graph`
 * attribute statements, `key = value`, nested and anonymous subgraphs,
 * subgraphs as edge endpoints, attribute separators `,` `;` or none) with
 * the attractor subset's restrictions (one `digraph`, no `strict`, no
 * undirected edges, node ids are identifiers, no ports, no HTML labels).
 *
 * Semantics: node defaults apply to nodes *created* after them in their
 * scope (Graphviz's rule); a node statement for an existing node merges its
 * attributes (later wins); undeclared edge endpoints become nodes (reference
 * point 6); every node inside a subgraph with a `label` gets the class that
 * label derives (spec §2.10).
 *
 * @module
 */
import { buildEdge, buildGraph, buildGraphAttrs, buildNode, deriveClassName } from "./build.ts";
import { DotParseError } from "./errors.ts";
import { type Token, tokenize } from "./lexer.ts";
import type { Edge, Graph, GraphAttrs, Node, SourceLocation } from "./types.ts";

/** Options of {@linkcode parseDot}. */
export interface ParseDotOptions {
  /** How deep subgraphs may nest before the parser refuses the input. Default 64. */
  readonly maxSubgraphDepth?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Scope {
  readonly parent?: Scope;
  readonly nodeDefaults: Record<string, string>;
  readonly edgeDefaults: Record<string, string>;
  /** Subgraph attributes (`label`, …); the root's go to the graph. */
  readonly attrs: Record<string, string>;
  /** Node ids mentioned in this subgraph or its children (not for the root). */
  readonly members?: Set<string>;
  readonly depth: number;
}

interface NodeDraft {
  attrs: Record<string, string>;
  readonly loc: SourceLocation;
  readonly subgraphClasses: string[];
}

interface EdgeDraft {
  readonly from: string;
  readonly to: string;
  readonly attrs: Record<string, string>;
  readonly loc: SourceLocation;
}

/**
 * Parses DOT source into a graph. Typed fields are derived; nothing is
 * validated beyond syntax (see `validate`).
 *
 * @throws {DotParseError} with the line and column of the first problem.
 */
export function parseDot(source: string, options: ParseDotOptions = {}): Graph {
  return new Parser(tokenize(source), options.maxSubgraphDepth ?? 64).parse();
}

/** A node whose fields may be set: only one just built and not yet shared. */
export type MutableNode = { -readonly [K in keyof Node]: Node[K] };

/**
 * Finishes each node as the parser builds it, given the graph's attributes:
 * returns the node to keep. The node it gets is new and not yet shared, so
 * it may be changed in place (a {@linkcode MutableNode}).
 */
export type NodeFinisher = (attrs: GraphAttrs) => ((node: MutableNode) => Node) | undefined;

/**
 * `parseDot` that hands every node to `finish` before the graph is
 * assembled: how `prepareGraph` applies the built-in transforms without
 * building each node twice. Internal to the graph layer.
 */
export function parseDotFinishing(
  source: string,
  options: ParseDotOptions,
  finish: NodeFinisher,
): Graph {
  return new Parser(tokenize(source), options.maxSubgraphDepth ?? 64).parse(finish);
}

class Parser {
  #pos = 0;
  readonly #nodes = new Map<string, NodeDraft>();
  readonly #edges: EdgeDraft[] = [];

  constructor(readonly tokens: Token[], readonly maxDepth: number) {}

  parse(finish?: NodeFinisher): Graph {
    let tok = this.#next();
    if (tok.kind === "id" && tok.text.toLowerCase() === "strict") {
      this.#unsupported(tok, "'strict' graphs are not supported");
    }
    if (tok.kind === "id" && tok.text.toLowerCase() === "graph") {
      this.#unsupported(tok, "undirected graphs are not supported; write 'digraph'");
    }
    if (tok.kind !== "id" || tok.text.toLowerCase() !== "digraph") {
      this.#fail(tok, `expected 'digraph', found ${describe(tok)}`);
    }
    tok = this.#peek();
    let id = "";
    if (tok.kind === "id" || tok.kind === "string") {
      id = this.#next().text;
    }
    this.#expect("{");
    const root: Scope = { nodeDefaults: {}, edgeDefaults: {}, attrs: {}, depth: 0 };
    this.#statements(root);
    this.#expect("}");
    const after = this.#peek();
    if (after.kind !== "eof") {
      if (after.kind === "id" && /^(di)?graph$|^strict$/i.test(after.text)) {
        this.#unsupported(after, "only one graph per file is supported");
      }
      this.#fail(after, `unexpected ${describe(after)} after the end of the graph`);
    }
    const attrs = buildGraphAttrs(root.attrs);
    const finishNode = finish?.(attrs);
    const nodes: Node[] = [];
    for (const [nodeId, draft] of this.#nodes) {
      // buildNode copies the draft's attributes, so the node owns its record.
      const node = buildNode(nodeId, draft.attrs, {
        subgraphClasses: draft.subgraphClasses,
        loc: draft.loc,
      });
      nodes.push(finishNode ? finishNode(node) : node);
    }
    const edges: Edge[] = this.#edges.map((e) => buildEdge(e.from, e.to, e.attrs, e.loc));
    return buildGraph(id, attrs, nodes, edges);
  }

  #statements(scope: Scope): void {
    for (;;) {
      const tok = this.#peek();
      if (tok.kind === "}" || tok.kind === "eof") return;
      if (tok.kind === ";" || tok.kind === ",") {
        this.#pos++;
        continue;
      }
      this.#statement(scope);
    }
  }

  #statement(scope: Scope): void {
    const tok = this.#peek();
    if (tok.kind === "id") {
      const keyword = tok.text.toLowerCase();
      if (keyword === "graph" || keyword === "node" || keyword === "edge") {
        this.#pos++;
        const next = this.#peek();
        if (next.kind !== "[") {
          this.#fail(next, `expected '[' after '${tok.text}', found ${describe(next)}`);
        }
        const attrs = this.#attrLists();
        const target = keyword === "graph"
          ? scope.attrs
          : keyword === "node"
          ? scope.nodeDefaults
          : scope.edgeDefaults;
        Object.assign(target, attrs);
        return;
      }
      if (keyword === "digraph" || keyword === "strict") {
        this.#unsupported(tok, "a graph cannot contain another graph; use 'subgraph'");
      }
      if (keyword === "subgraph") {
        this.#edgeOrSubgraph(scope);
        return;
      }
    }
    if (tok.kind === "{") {
      this.#edgeOrSubgraph(scope);
      return;
    }
    if (tok.kind === "->") {
      this.#fail(
        tok,
        "unexpected '->': an edge statement starts with a node id, and its attributes go after the last node",
      );
    }
    if (tok.kind !== "id" && tok.kind !== "string") {
      this.#fail(tok, `expected a statement, found ${describe(tok)}`);
    }
    // `key = value`, a node statement, or the start of an edge chain.
    if (this.tokens[this.#pos + 1].kind === "=") {
      this.#pos += 2;
      const value = this.#value(tok.text);
      scope.attrs[this.#key(tok)] = value;
      return;
    }
    this.#edgeOrNode(scope);
  }

  #edgeOrNode(scope: Scope): void {
    const tok = this.#next();
    const id = this.#nodeId(tok);
    if (this.#peek().kind === "->") {
      this.#edgeChain(scope, [[id], tok]);
      return;
    }
    this.#ensureNode(id, tok, scope);
    if (this.#peek().kind === "[") {
      Object.assign(this.#nodes.get(id)!.attrs, this.#attrLists());
    }
  }

  #edgeOrSubgraph(scope: Scope): void {
    const start = this.#peek();
    const members = this.#subgraph(scope);
    if (this.#peek().kind === "->") this.#edgeChain(scope, [members, start]);
  }

  /** Parses `subgraph [id] { … }` or `{ … }`; returns the ids of its nodes. */
  #subgraph(scope: Scope): string[] {
    const first = this.#next();
    if (first.kind === "id") {
      const next = this.#peek();
      if (next.kind === "id" || next.kind === "string") this.#pos++;
      this.#expect("{");
    }
    const depth = scope.depth + 1;
    if (depth > this.maxDepth) {
      this.#fail(first, `subgraphs nested deeper than ${this.maxDepth} levels`);
    }
    const child: Scope = {
      parent: scope,
      nodeDefaults: { ...scope.nodeDefaults },
      edgeDefaults: { ...scope.edgeDefaults },
      attrs: {},
      members: new Set(),
      depth,
    };
    this.#statements(child);
    this.#expect("}");
    const cls = deriveClassName(child.attrs.label ?? "");
    if (cls) {
      for (const id of child.members!) {
        const draft = this.#nodes.get(id)!;
        if (!draft.subgraphClasses.includes(cls)) draft.subgraphClasses.unshift(cls);
      }
    }
    return [...child.members!];
  }

  #edgeChain(scope: Scope, first: [string[], Token]): void {
    const endpoints: [string[], Token][] = [first];
    for (const id of first[0]) this.#ensureNode(id, first[1], scope);
    while (this.#peek().kind === "->") {
      this.#pos++;
      const tok = this.#peek();
      if (tok.kind === "{" || (tok.kind === "id" && tok.text.toLowerCase() === "subgraph")) {
        endpoints.push([this.#subgraph(scope), tok]);
        continue;
      }
      if (tok.kind !== "id" && tok.kind !== "string") {
        this.#fail(tok, `expected a node id after '->', found ${describe(tok)}`);
      }
      this.#pos++;
      const id = this.#nodeId(tok);
      this.#ensureNode(id, tok, scope);
      endpoints.push([[id], tok]);
    }
    const attrs = this.#peek().kind === "[" ? this.#attrLists() : {};
    const merged = { ...scope.edgeDefaults, ...attrs };
    for (let k = 0; k + 1 < endpoints.length; k++) {
      const [froms, fromTok] = endpoints[k];
      const [tos] = endpoints[k + 1];
      for (const from of froms) {
        for (const to of tos) {
          this.#edges.push({ from, to, attrs: merged, loc: locOf(fromTok) });
        }
      }
    }
  }

  #ensureNode(id: string, tok: Token, scope: Scope): void {
    if (!this.#nodes.has(id)) {
      this.#nodes.set(id, {
        attrs: { ...scope.nodeDefaults },
        loc: locOf(tok),
        subgraphClasses: [],
      });
    }
    for (let s: Scope | undefined = scope; s?.members; s = s.parent) s.members.add(id);
  }

  #nodeId(tok: Token): string {
    if (IDENTIFIER.test(tok.text)) return tok.text;
    if (tok.kind === "id" && tok.text.includes(":")) {
      this.#unsupported(tok, `ports are not supported (node ${JSON.stringify(tok.text)})`);
    }
    this.#fail(
      tok,
      `node id ${JSON.stringify(tok.text)} is not an identifier ([A-Za-z_][A-Za-z0-9_]*); ` +
        "put display names in the label attribute",
    );
  }

  /** One or more `[ … ]` blocks, merged (later keys win). */
  #attrLists(): Record<string, string> {
    const attrs: Record<string, string> = {};
    while (this.#peek().kind === "[") {
      this.#pos++;
      for (;;) {
        let tok = this.#next();
        while (tok.kind === "," || tok.kind === ";") tok = this.#next();
        if (tok.kind === "]") break;
        if (tok.kind !== "id" && tok.kind !== "string") {
          this.#fail(tok, `expected an attribute name or ']', found ${describe(tok)}`);
        }
        const eq = this.#next();
        if (eq.kind !== "=") {
          this.#fail(
            eq,
            `expected '=' after attribute ${JSON.stringify(tok.text)}, found ${describe(eq)}`,
          );
        }
        attrs[this.#key(tok)] = this.#value(tok.text);
        const after = this.#peek();
        if (after.kind === "=") {
          this.#fail(
            after,
            `unexpected '=' after the value of ${JSON.stringify(tok.text)}; ` +
              "quote values that contain '='",
          );
        }
        if (after.kind === "eof") this.#fail(after, "unterminated attribute list: missing ']'");
      }
    }
    return attrs;
  }

  /** An attribute name; `__proto__` would silently not be stored, so it is refused. */
  #key(tok: Token): string {
    if (tok.text === "__proto__") {
      this.#fail(tok, "'__proto__' is not allowed as an attribute name");
    }
    return tok.text;
  }

  #value(key: string): string {
    const tok = this.#next();
    if (tok.kind === "id" || tok.kind === "string") return tok.text;
    this.#fail(tok, `expected a value for ${JSON.stringify(key)}, found ${describe(tok)}`);
  }

  #peek(): Token {
    return this.tokens[this.#pos];
  }

  #next(): Token {
    const tok = this.tokens[this.#pos];
    if (tok.kind !== "eof") this.#pos++;
    return tok;
  }

  #expect(kind: Token["kind"]): Token {
    const tok = this.#next();
    if (tok.kind !== kind) this.#fail(tok, `expected '${kind}', found ${describe(tok)}`);
    return tok;
  }

  #fail(tok: Token, reason: string): never {
    throw new DotParseError(reason, tok.line, tok.column);
  }

  #unsupported(tok: Token, reason: string): never {
    throw new DotParseError(reason, tok.line, tok.column, "dot_unsupported");
  }
}

function locOf(tok: Token): SourceLocation {
  return { line: tok.line, column: tok.column };
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case "eof":
      return "the end of the input";
    case "id":
      return JSON.stringify(tok.text);
    case "string":
      return `the string ${JSON.stringify(tok.text.slice(0, 30))}`;
    default:
      return `'${tok.kind}'`;
  }
}
