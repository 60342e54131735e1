/**
 * The `forge` command line: inspect what agents and pipelines wrote to a
 * store. `runCli` is the whole program minus process exit, so tests drive it
 * with an in-memory output.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type ForgeStore,
  isTurnStoreError,
  type RecordCatalog,
  type RegistryBundle,
  walkHistory,
} from "@forge/turnstore";
import { attractorBundle, attractorCatalog } from "@forge/attractor/records";
import { jsonSafe, renderTurn, turnToJson } from "./render.ts";
import { runView } from "./views/dispatch.ts";
import { NotAStoreError, type StoreCheckOptions, StoreMissingError } from "./store_exists.ts";
import { VIEW_COMMAND_USAGE, VIEW_COMMANDS, VIEW_USAGE } from "./views/registry.ts";
import { argsProblem, wantsHelp } from "./views/args.ts";
import { pipelineCommand } from "./pipeline_run.ts";
import { validateCommand } from "./pipeline_validate.ts";

/** Where the CLI writes. */
export interface CliIo {
  /** Standard output, one call per line or block. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

/** What the CLI needs from its host: a store opener and the record catalogs it decodes with. */
export interface CliContext {
  /** Opens a store URL (`openStore` of `@forge/stores`, with every scheme). */
  openStore(url: string): Promise<ForgeStore>;
  /** Catalogs tried in order to decode payloads. */
  catalogs: readonly RecordCatalog[];
  /** Registry bundles the project publishes: `forge bundles` prints them, the views name fields with them. */
  bundles: readonly RegistryBundle[];
  /** Stops long-running commands (`forge serve`). */
  signal?: AbortSignal;
  /**
   * Checks, before a command that only reads (or continues a run from the
   * store) opens it, that the store exists: `assertStoreExists` in the real
   * command, so a mistyped `--store` is an error rather than a new empty
   * store. With `create` (`forge run`) a missing store is fine, but a path
   * that is no store of its kind is still refused. Absent: no check (stores
   * injected by tests).
   */
  storeExists?(url: string, options?: StoreCheckOptions): Promise<void>;
}

/** The default store URL: a Deno KV file under ./.forge. */
export const DEFAULT_STORE = "kv:.forge/forge.kv";

const STORE_USAGE =
  `  --store URL   memory:, kv:<path>, kv::memory:, kv:https://…, fs:<dir>, cxdb://host:port?http=…
                (default ${DEFAULT_STORE}, or FORGE_STORE)
`;
const JSON_USAGE =
  `  --json        print JSON instead of text: one document (log: one line per turn)
`;
const OPTIONS_USAGE = `options:\n${STORE_USAGE}${JSON_USAGE}`;

const USAGE = `forge — inspect what agents and pipelines persisted

usage:
  forge head <contextId>               the context's head turn and depth
  forge log <contextId> [--limit N]    the newest N turns (default 20), decoded
  forge log <contextId> --all          the whole history, newest first, streamed
  forge show <turnId>                  one turn, decoded
  forge bundles                        the registry bundles this project publishes
  forge run <pipeline.dot> [flags]     run a DOT pipeline (forge run --help)
  forge validate <pipeline.dot>        lint a pipeline
  forge resume <run>                   continue a run from its directory or the store alone
  forge answer <run> <choice>          answer the human gate a run waits on, and continue it
${VIEW_USAGE}
${OPTIONS_USAGE}  -h, --help    this help (forge <command> --help: that command's)
`;

/** Runs the CLI with `args`; returns the exit code (0 ok, 1 failure, 2 usage, 3 waiting). */
export async function runCli(args: string[], io: CliIo, ctx: CliContext): Promise<number> {
  const view = VIEW_COMMANDS.get(args[0]);
  if (view) {
    const viewUsage = `usage:\n${VIEW_COMMAND_USAGE.get(args[0])}\n\noptions:\n${STORE_USAGE}${
      args[0] === "serve" ? "" : JSON_USAGE
    }`;
    if (wantsHelp(args.slice(1))) {
      // Help needs no store: asked for anywhere among the command's flags, it is all that runs.
      io.out(viewUsage);
      return 0;
    }
    return await runView(args[0], view, args.slice(1), {
      openStore: ctx.openStore,
      defaultStore: DEFAULT_STORE,
      catalogs: ctx.catalogs,
      bundles: ctx.bundles,
      out: io.out,
      err: io.err,
      usage: viewUsage,
      signal: ctx.signal,
      storeExists: ctx.storeExists,
    });
  }
  // Pipeline commands parse their own flags (cli/pipeline_run.ts, cli/pipeline_validate.ts).
  if (args[0] === "validate") return await validateCommand(args.slice(1), io);
  if (args[0] === "run" || args[0] === "resume" || args[0] === "answer") {
    return await pipelineCommand(args[0], args.slice(1), io, ctx);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        store: { type: "string" },
        limit: { type: "string" },
        all: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    io.err(`forge: ${argsProblem(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, target] = positionals;
  if (values.help || !command) {
    (command || values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const usage = (message: string) => {
    io.err(`forge ${command}: ${message}\n\n${USAGE}`);
    return 2;
  };
  if (command === "bundles") {
    for (const bundle of ctx.bundles) io.out(JSON.stringify(bundle, null, values.json ? 0 : 2));
    return 0;
  }
  if (!["head", "log", "show"].includes(command)) return usage(`unknown command ${command}`);
  if (!target) return usage(`needs a ${command === "show" ? "turn" : "context"} id`);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    return usage(`--limit must be a whole number from 1 to 10000, got ${values.limit}`);
  }
  const url = values.store ?? Deno.env.get("FORGE_STORE") ?? DEFAULT_STORE;
  let store: ForgeStore | undefined;
  try {
    await ctx.storeExists?.(url);
    store = await ctx.openStore(url);
    if (command === "head") {
      const head = await store.getHead(target);
      io.out(
        values.json
          ? JSON.stringify(head)
          : `context ${head.contextId}: head ${head.headTurnId} at depth ${head.headDepth}`,
      );
    } else if (command === "show") {
      const turn = await store.getTurn(target);
      io.out(
        values.json
          ? JSON.stringify(turnToJson(turn, ctx.catalogs), jsonSafe)
          : renderTurn(turn, ctx.catalogs),
      );
    } else if (values.all) {
      // Streamed from the head back, page by page, so any depth fits in memory.
      for await (const page of walkHistory(store, target)) {
        for (const t of page.reverse()) {
          io.out(
            values.json
              ? JSON.stringify(turnToJson(t, ctx.catalogs), jsonSafe)
              : renderTurn(t, ctx.catalogs),
          );
        }
      }
    } else {
      for (const turn of await store.listTurns(target, { limit })) {
        io.out(
          values.json
            ? JSON.stringify(turnToJson(turn, ctx.catalogs), jsonSafe)
            : renderTurn(turn, ctx.catalogs),
        );
      }
    }
    return 0;
  } catch (error) {
    if (
      isTurnStoreError(error) || error instanceof StoreMissingError ||
      error instanceof NotAStoreError
    ) {
      io.err(`forge ${command}: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

/** The catalogs and bundles of the pipeline records (the agent's are added by main.ts). */
export const PIPELINE_CATALOGS: readonly RecordCatalog[] = [attractorCatalog];
/** The pipeline bundle. */
export const PIPELINE_BUNDLES: readonly RegistryBundle[] = [attractorBundle];
