/**
 * For backend authors: the argument checks and decision helpers every
 * backend shares, so that a new backend gives the same errors, with the same
 * wording, as memory, kv and fs. Pair it with the conformance suite
 * (`@forge/turnstore/conformance`).
 *
 * @module
 */
export * from "./core/validate.ts";
export * from "./core/rules.ts";
export * from "./core/list_contexts.ts";
/** The contract types the helpers above refer to. */
export type * from "./mod.ts";
export * from "./core/errors.ts";
export { PooledBytes } from "./core/pooled_bytes.ts";
/** Renders a bad value for an error message, as the checks above do. */
export { describe } from "./core/ids.ts";
