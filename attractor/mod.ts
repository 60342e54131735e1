/**
 * The DOT pipeline runner's persistence model: typed record families for
 * runs, stages, parallel branches, interviews, checkpoints, routing and links
 * to agent sessions. (The runner itself is not built yet; these records are
 * the contract it will write.)
 *
 * @module
 */
export * from "./records.ts";
export * from "./keys.ts";
