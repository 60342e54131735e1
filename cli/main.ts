/**
 * Entry point of the `forge` command (`deno task forge …`).
 *
 * @module
 */
import { openStore } from "@forge/stores";
import { runCli } from "./cli.ts";
import { assertStoreExists } from "./store_exists.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";

if (import.meta.main) {
  let code: number;
  try {
    code = await runCli(Deno.args, {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
    }, {
      openStore,
      storeExists: assertStoreExists,
      catalogs: PROJECT_CATALOGS,
      bundles: PROJECT_BUNDLES,
    });
  } catch (error) {
    // Every expected failure has its own message and exit code; whatever
    // escapes them is still reported as one line (the stack on request).
    const e = error instanceof Error ? error : new Error(String(error));
    const errorCode = (e as { code?: unknown }).code;
    console.error(
      `forge: ${typeof errorCode === "string" ? `${errorCode}: ` : ""}${e.message} (${e.name}; ` +
        `set FORGE_DEBUG=1 for the stack)`,
    );
    if (Deno.env.get("FORGE_DEBUG")) console.error(e.stack);
    code = 1;
  }
  Deno.exit(code);
}
