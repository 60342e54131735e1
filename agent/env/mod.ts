/**
 * Execution environments for the coding agent's tools.
 *
 * @module
 */

export * from "./types.ts";
