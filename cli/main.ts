/**
 * Entry point of the `forge` command (`deno task forge …`).
 *
 * @module
 */
import { openStore } from "@forge/stores";
import { runCli } from "./cli.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  }, { openStore, catalogs: PROJECT_CATALOGS, bundles: PROJECT_BUNDLES });
  Deno.exit(code);
}
