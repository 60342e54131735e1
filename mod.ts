/**
 * Forge for Deno: persist and inspect what AI agents and agent pipelines do.
 *
 * This root module re-exports the public surface of every member:
 * everything of `@forge/turnstore` at the top level, {@link openStore}
 * (every store URL, CXDB's included) from `@forge/stores`, and the other
 * members as namespaces: `cxdb`, `agent`, `attractor`, `cli`.
 *
 * @module
 */
export * from "./turnstore/mod.ts";
export { openStore, STORE_SCHEMES } from "./stores/mod.ts";
export * as cxdb from "./cxdb/mod.ts";
export * as agent from "./agent/mod.ts";
export * as attractor from "./attractor/mod.ts";
export * as cli from "./cli/mod.ts";
