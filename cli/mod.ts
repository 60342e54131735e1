/**
 * The `forge` command line and the composition it runs on: a store opener
 * that knows every backend (memory, Deno KV, filesystem log, CXDB) and the
 * catalogs of every record type the project writes.
 *
 * @module
 */
export { openTurnStore } from "./stores.ts";
export { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";
export { type CliContext, type CliIo, DEFAULT_STORE, runCli } from "./cli.ts";
export { decodeTurn, renderTurn, turnToJson } from "./render.ts";
/** The turn store types the CLI API refers to. */
export type * from "@forge/turnstore";
