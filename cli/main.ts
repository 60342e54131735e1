/**
 * Entry point of the `forge` command (`deno task forge …`).
 *
 * @module
 */
import { openTurnStore } from "./stores.ts";
import { runCli } from "./cli.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  }, { openStore: openTurnStore, catalogs: PROJECT_CATALOGS, bundles: PROJECT_BUNDLES });
  Deno.exit(code);
}
