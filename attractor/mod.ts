/**
 * The DOT pipeline runner's persistence model: typed record families for
 * runs, stages, parallel branches, interviews, checkpoints, routing and links
 * to agent sessions. (The runner itself is not built yet; these records are
 * the contract it will write.)
 *
 * @module
 */
export * from "./records.ts";
/** The turn store types the records API refers to. */
export type * from "@forge/turnstore";
/** The pipeline graph model (nodes, edges, conditions, diagnostics). */
export type * from "./graph/types.ts";
