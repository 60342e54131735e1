/**
 * Runs a view command for the CLI: takes `--store` out of its arguments,
 * opens the store, runs the command, closes the store, and turns failures
 * into exit codes (2 for bad usage, 1 for store errors) with a message that
 * names the command.
 *
 * @module
 */
import { isTurnStoreError, type RecordCatalog, type RegistryBundle } from "@forge/turnstore";
import type { ForgeStore } from "@forge/turnstore";
import { argsProblem, UsageError } from "./args.ts";
import { NotAStoreError, StoreMissingError } from "../store_exists.ts";
import { FileError } from "../file_errors.ts";
import { PortInUseError } from "./serve.ts";
import type { ViewCommand } from "./commands.ts";

/** What the dispatcher needs from the CLI. */
export interface ViewHost {
  /** Opens a store URL. */
  openStore(url: string): Promise<ForgeStore>;
  /** The default store URL. */
  readonly defaultStore: string;
  /** Catalogs to decode with. */
  readonly catalogs: readonly RecordCatalog[];
  /** Bundles that name fields. */
  readonly bundles: readonly RegistryBundle[];
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
  /** The usage text to print after a usage error. */
  readonly usage: string;
  /** Stops long-running commands. */
  readonly signal?: AbortSignal;
  /** Throws when the store does not exist (read commands never create one); absent: no check. */
  storeExists?(url: string): Promise<void>;
}

/** Splits `--store URL` / `--store=URL` out of `args`. */
export function takeStore(args: string[]): { store?: string; rest: string[] } {
  const rest: string[] = [];
  let store: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--store") {
      if (i + 1 >= args.length) throw new UsageError("--store needs a URL");
      store = args[++i];
    } else if (a.startsWith("--store=")) store = a.slice("--store=".length);
    else rest.push(a);
  }
  return { store, rest };
}

/** Runs `command` named `name` with `args`; returns the exit code. */
export async function runView(
  name: string,
  command: ViewCommand,
  args: string[],
  host: ViewHost,
): Promise<number> {
  let store: ForgeStore | undefined;
  try {
    const { store: url = Deno.env.get("FORGE_STORE") ?? host.defaultStore, rest } = takeStore(
      args,
    );
    await host.storeExists?.(url);
    store = await host.openStore(url);
    return await command(rest, {
      store,
      storeUrl: url,
      catalogs: host.catalogs,
      bundles: host.bundles,
      out: host.out,
      err: host.err,
      writeFile: async (path, text) => {
        try {
          await Deno.writeTextFile(path, text);
        } catch (error) {
          throw new FileError("write", path, error);
        }
      },
      signal: host.signal,
    });
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string })?.code?.startsWith?.("ERR_PARSE_ARGS")
    ) {
      host.err(`forge ${name}: ${argsProblem(error)}\n\n${host.usage}`);
      return 2;
    }
    if (
      isTurnStoreError(error) || error instanceof StoreMissingError ||
      error instanceof NotAStoreError
    ) {
      host.err(`forge ${name}: ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof FileError || error instanceof PortInUseError) {
      host.err(`forge ${name}: ${error.message}`);
      return 1;
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound) {
      host.err(`forge ${name}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
}
