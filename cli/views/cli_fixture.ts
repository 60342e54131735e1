/**
 * Test fixture: `forge` in-process over the project's stores, catalogs and
 * bundles, its output captured.
 *
 * @module
 */
import { openStore } from "@forge/stores";
import { runCli } from "../cli.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "../catalogs.ts";

/** What one `forge` command printed and returned. */
export interface CliOutcome {
  /** The exit code. */
  readonly code: number;
  /** Standard output, lines joined by newlines. */
  readonly out: string;
  /** Standard error, lines joined by newlines. */
  readonly err: string;
}

/** Runs `forge <args>` in-process and captures what it printed. */
export async function captureCli(args: string[], signal?: AbortSignal): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, {
    openStore,
    catalogs: PROJECT_CATALOGS,
    bundles: PROJECT_BUNDLES,
    signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}
