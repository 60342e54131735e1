/**
 * What the engine uses of the graph layer (attractor/graph/), in one place.
 *
 * @module
 */
export {
  evaluateCondition,
  exitNode,
  getNode,
  isExitNode,
  outgoingEdges,
  parseAcceleratorKey,
  parseDuration,
  selectEdge,
  startNode,
} from "../graph/mod.ts";
