/**
 * The view commands by name, and their lines of the `forge` usage text.
 *
 * @module
 */
import { sessionsCommand, traceCommand, type ViewCommand } from "./commands.ts";
import { makeServeCommand } from "./serve.ts";
import { inspectCommand, runsCommand } from "./run_commands.ts";
import { findRunContext, listRunRows } from "./runs.ts";

/** View commands by name. */
export const VIEW_COMMANDS: ReadonlyMap<string, ViewCommand> = new Map([
  ["runs", runsCommand],
  ["inspect", inspectCommand],
  ["sessions", sessionsCommand],
  ["trace", traceCommand(findRunContext)],
  ["serve", makeServeCommand(async (store) => (await listRunRows(store, { limit: 50 })).runs)],
]);

/** The usage lines of the view commands. */
export const VIEW_USAGE = `  forge runs [--status S] [--pipeline P] [--limit N] [--before CTX]
                                       pipeline runs, newest first: status (running, waiting,
                                       succeeded, failed), duration, stages done/total, tokens
  forge inspect <run> [--stage NODE [--full]]
                                       stage timeline, routes and why, checkpoints, interviews,
                                       usage and cost; --stage: that stage's agent session
  forge sessions [--limit N] [--before CTX]
                                       top-level agent sessions, newest first (subagents counted)
  forge trace <context|run> [--format text|dot|html|json] [--out FILE] [--turns]
                                       the turn DAG from a context: contexts, forks, links,
                                       sessions, subagents; html is one self-contained page
  forge serve [--port N]               the trace pages on http://127.0.0.1:N (default 7474),
                                       with runs and sessions, live while a run goes
`;
