/**
 * The view commands by name, and their lines of the `forge` usage text.
 *
 * @module
 */
import { sessionsCommand, traceCommand, type ViewCommand } from "./commands.ts";
import { serveCommand } from "./serve.ts";

/** View commands by name. */
export const VIEW_COMMANDS: ReadonlyMap<string, ViewCommand> = new Map([
  ["sessions", sessionsCommand],
  ["trace", traceCommand()],
  ["serve", serveCommand],
]);

/** The usage lines of the view commands. */
export const VIEW_USAGE = `  forge sessions [--limit N] [--before CTX]
                                       top-level agent sessions, newest first (subagents counted)
  forge trace <context> [--format text|dot|html|json] [--out FILE] [--turns]
                                       the turn DAG from a context: contexts, forks, links,
                                       sessions, subagents; html is one self-contained page
  forge serve [--port N]               the trace pages on http://127.0.0.1:N (default 7474),
                                       with runs and sessions, live while a run goes
`;
