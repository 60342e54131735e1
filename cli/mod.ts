/**
 * The `forge` command line and what it runs on: the catalogs of every record
 * type the project writes, and the renderers of stored turns. It opens
 * stores with `openStore` of `@forge/stores`.
 *
 * @module
 */
export { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";
export { type CliContext, type CliIo, DEFAULT_STORE, runCli } from "./cli.ts";
export { decodeTurn, renderTurn, turnToJson } from "./render.ts";
/** The turn store types the CLI API refers to. */
export type {
  DecodedRecord,
  ForgeStore,
  RecordCatalog,
  RegistryBundle,
  StoredTurn,
} from "@forge/turnstore";
