/**
 * The view commands by name, and their lines of the `forge` usage text.
 *
 * @module
 */
import { sessionsCommand, traceCommand, type ViewCommand } from "./commands.ts";
import { makeServeCommand } from "./serve.ts";
import { inspectCommand, runsCommand } from "./run_commands.ts";
import { findRunContext, listRunRows } from "./runs.ts";
import { runAttempts } from "./attempts.ts";

/** View commands by name. */
export const VIEW_COMMANDS: ReadonlyMap<string, ViewCommand> = new Map([
  ["runs", runsCommand],
  ["inspect", inspectCommand],
  ["sessions", sessionsCommand],
  [
    "trace",
    traceCommand(
      findRunContext,
      async (store, contextId) => (await runAttempts(store, contextId))?.map((a) => a.contextId),
    ),
  ],
  ["serve", makeServeCommand(async (store) => (await listRunRows(store, { limit: 50 })).runs)],
]);

/** Each view command's lines of the usage text, by name (what `forge <command> --help` prints). */
export const VIEW_COMMAND_USAGE: ReadonlyMap<string, string> = new Map([
  [
    "runs",
    `  forge runs [--status S] [--pipeline P] [--limit N] [--before CTX] [--json]
                                       pipeline runs, newest first: status (running, waiting,
                                       succeeded, failed, cancelled), duration, stages
                                       done/total, tokens`,
  ],
  [
    "inspect",
    `  forge inspect <run> [--stage NODE [--full]] [--json]
                                       stage timeline, routes and why, checkpoints, interviews,
                                       usage and cost; --stage: that stage's agent session`,
  ],
  [
    "sessions",
    `  forge sessions [--limit N] [--before CTX] [--json]
                                       top-level agent sessions, newest first (subagents counted)`,
  ],
  [
    "trace",
    `  forge trace <context|run> [--format text|dot|html|json] [-o|--out FILE] [--turns]
              [--max-turns N]          the turn DAG from a context: contexts, forks, links,
                                       sessions, subagents; html is one self-contained page;
                                       --turns lists every turn (text); --json = --format json;
                                       reads at most N turns (default 200000)`,
  ],
  [
    "serve",
    `  forge serve [--port N]               the trace pages on http://127.0.0.1:N (default 7474),
                                       with runs and sessions, live while a run goes;
                                       SIGINT or SIGTERM stops it (exit 0)`,
  ],
]);

/** The usage lines of the view commands. */
export const VIEW_USAGE: string = [...VIEW_COMMAND_USAGE.values()].join("\n") + "\n";
