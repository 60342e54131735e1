/**
 * Read helpers over a graph: node lookup, outgoing and incoming edges, the
 * start and exit nodes. The index is built once per graph object and cached
 * (graphs are immutable), so lint and the engine look things up in O(1).
 *
 * @module
 */
import type { Edge, Graph, Node } from "./types.ts";

/** Lookup tables over one graph. */
export interface GraphIndex {
  /** Node by id. */
  readonly nodes: ReadonlyMap<string, Node>;
  /** Outgoing edges by source id, in source order (ids without edges are absent). */
  readonly outgoing: ReadonlyMap<string, readonly Edge[]>;
  /** Incoming edges by target id, in source order. */
  readonly incoming: ReadonlyMap<string, readonly Edge[]>;
  /** Index in `graph.edges` of each edge object. */
  readonly edgeIndex: ReadonlyMap<Edge, number>;
  /** The start node candidates (see {@linkcode startNodes}). */
  readonly starts: readonly Node[];
  /** The exit node candidates (see {@linkcode exitNodes}). */
  readonly exits: readonly Node[];
}

const EMPTY: readonly Edge[] = Object.freeze([]);
const indexes = new WeakMap<Graph, GraphIndex>();

/** The lookup tables of `graph` (built on first use, then cached). */
export function indexGraph(graph: Graph): GraphIndex {
  let index = indexes.get(graph);
  if (!index) {
    index = new LazyIndex(graph);
    indexes.set(graph, index);
  }
  return index;
}

// Each table is built when first read: validation needs incoming edges and
// edge positions only for the few rules that report them.
class LazyIndex implements GraphIndex {
  #nodes?: Map<string, Node>;
  #outgoing?: Map<string, Edge[]>;
  #incoming?: Map<string, Edge[]>;
  #edgeIndex?: Map<Edge, number>;
  #starts?: readonly Node[];
  #exits?: readonly Node[];

  constructor(readonly graph: Graph) {}

  get nodes(): ReadonlyMap<string, Node> {
    if (!this.#nodes) {
      const nodes = new Map<string, Node>();
      for (const node of this.graph.nodes) if (!nodes.has(node.id)) nodes.set(node.id, node);
      this.#nodes = nodes;
    }
    return this.#nodes;
  }

  get outgoing(): ReadonlyMap<string, readonly Edge[]> {
    return this.#outgoing ??= groupEdges(this.graph.edges, "from");
  }

  get incoming(): ReadonlyMap<string, readonly Edge[]> {
    return this.#incoming ??= groupEdges(this.graph.edges, "to");
  }

  get edgeIndex(): ReadonlyMap<Edge, number> {
    if (!this.#edgeIndex) {
      const edgeIndex = new Map<Edge, number>();
      this.graph.edges.forEach((edge, i) => edgeIndex.set(edge, i));
      this.#edgeIndex = edgeIndex;
    }
    return this.#edgeIndex;
  }

  get starts(): readonly Node[] {
    return this.#starts ??= Object.freeze(findStarts(this.graph));
  }

  get exits(): readonly Node[] {
    return this.#exits ??= Object.freeze(findExits(this.graph));
  }
}

function groupEdges(edges: readonly Edge[], end: "from" | "to"): Map<string, Edge[]> {
  const groups = new Map<string, Edge[]>();
  for (const edge of edges) {
    const id = end === "from" ? edge.from : edge.to;
    const group = groups.get(id);
    if (group) group.push(edge);
    else groups.set(id, [edge]);
  }
  return groups;
}

/** The node with `id`, or `undefined`. */
export function getNode(graph: Graph, id: string): Node | undefined {
  return indexGraph(graph).nodes.get(id);
}

/** The edges leaving node `id`, in source order. */
export function outgoingEdges(graph: Graph, id: string): readonly Edge[] {
  return indexGraph(graph).outgoing.get(id) ?? EMPTY;
}

/** The edges entering node `id`, in source order. */
export function incomingEdges(graph: Graph, id: string): readonly Edge[] {
  return indexGraph(graph).incoming.get(id) ?? EMPTY;
}

/**
 * The start node candidates: nodes whose handler type is `start`
 * (shape `Mdiamond` or `type=start`); when there is none, a node with id
 * `start` or `Start`. A valid graph has exactly one.
 */
export function startNodes(graph: Graph): Node[] {
  return [...indexGraph(graph).starts];
}

function findStarts(graph: Graph): Node[] {
  const byType = graph.nodes.filter((n) => n.handlerType === "start");
  if (byType.length) return byType;
  return graph.nodes.filter((n) => n.id === "start" || n.id === "Start");
}

/**
 * The exit node candidates: nodes whose handler type is `exit`
 * (shape `Msquare` or `type=exit`); when there is none, a node with id
 * `exit`, `Exit`, `end` or `End`. A valid graph has exactly one.
 */
export function exitNodes(graph: Graph): Node[] {
  return [...indexGraph(graph).exits];
}

function findExits(graph: Graph): Node[] {
  const byType = graph.nodes.filter((n) => n.handlerType === "exit");
  if (byType.length) return byType;
  return graph.nodes.filter((n) => /^(exit|Exit|end|End)$/.test(n.id));
}

/** The start node of a graph with exactly one; `undefined` otherwise. */
export function startNode(graph: Graph): Node | undefined {
  const found = startNodes(graph);
  return found.length === 1 ? found[0] : undefined;
}

/** The exit node of a graph with exactly one; `undefined` otherwise. */
export function exitNode(graph: Graph): Node | undefined {
  const found = exitNodes(graph);
  return found.length === 1 ? found[0] : undefined;
}

/** Whether `node` ends the pipeline when reached (it is the graph's exit node). */
export function isExitNode(graph: Graph, node: Node): boolean {
  return indexGraph(graph).exits.some((n) => n.id === node.id);
}
