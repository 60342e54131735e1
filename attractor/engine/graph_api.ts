/**
 * What the engine uses of the graph layer (attractor/graph/), in one place.
 *
 * @module
 */
export {
  exitNode,
  getNode,
  isExitNode,
  outgoingEdges,
  parseAcceleratorKey,
  evaluateCondition,
  parseDuration,
  selectEdge,
  startNode,
} from "../graph/mod.ts";
