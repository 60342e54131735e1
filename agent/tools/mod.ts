/**
 * The coding agent's tools, their registry and output truncation.
 *
 * @module
 */

export * from "./types.ts";
