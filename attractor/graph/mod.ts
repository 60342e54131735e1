/**
 * The graph layer of the attractor pipeline runner, whole: the DOT parser,
 * the plain-data graph model, conditions, the routing rule, query helpers,
 * validation and lint, the model stylesheet and transforms.
 *
 * `@forge/attractor` re-exports the core of this (the model, parse, validate,
 * errors); import `@forge/attractor/graph` for the rest.
 *
 * @module
 */
export type * from "./types.ts";
export * from "./errors.ts";
export { parseDot, type ParseDotOptions } from "./parser.ts";
export { type Token, tokenize, type TokenKind } from "./lexer.ts";
export * from "./build.ts";
export * from "./conditions.ts";
export * from "./routing.ts";
export * from "./query.ts";
export * from "./stylesheet.ts";
export * from "./transforms.ts";
export * from "./lint.ts";
export * from "./lint_rules.ts";
export * from "./lint_attribute_names.ts";
