/**
 * The read-side view commands of `forge`: `sessions`, `trace` and `serve`
 * (and `runs` and `inspect` over the pipeline runner's query API). Each
 * parses its own flags, reads the store through the contract only, and
 * prints text for people or JSON (`--json`) for scripts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ForgeStore, RecordCatalog, RegistryBundle } from "@forge/turnstore";
import { contextArg, intFlag, table, UsageError, when } from "./args.ts";
import { listSessions } from "./sessions.ts";
import { readTrace } from "../trace/model.ts";
import { presentProjectRecord } from "../catalogs.ts";
import { renderTraceText } from "../trace/text.ts";
import { renderTraceDot } from "../trace/dot.ts";
import { pageData, renderTraceHtml } from "../trace/html.ts";
import { formatDuration } from "../trace/text.ts";

/** What a view command gets from the CLI. */
export interface ViewContext {
  /** The open store. */
  readonly store: ForgeStore;
  /** The store's URL (for messages). */
  readonly storeUrl: string;
  /** Catalogs to decode with. */
  readonly catalogs: readonly RecordCatalog[];
  /** Bundles that name record fields. */
  readonly bundles: readonly RegistryBundle[];
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
  /** Writes a file (for `--out`). */
  writeFile(path: string, text: string): Promise<void>;
  /** Stops a long-running command (serve). */
  readonly signal?: AbortSignal;
}

/** A view command: its flags after the command name; returns the exit code. */
export type ViewCommand = (args: string[], ctx: ViewContext) => Promise<number>;

/** `forge sessions`: top-level agent sessions, newest first, paged. */
export const sessionsCommand: ViewCommand = async (args, ctx) => {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: "string" },
      before: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const limit = intFlag("limit", values.limit, 20, 1, 1000);
  const before = values.before === undefined ? undefined : contextArg("--before", values.before);
  const page = await listSessions(ctx.store, { limit, beforeContextId: before });
  if (values.json) {
    ctx.out(JSON.stringify(page));
    return 0;
  }
  if (page.sessions.length === 0) {
    ctx.out(
      before
        ? `no sessions before context ${before}`
        : `no top-level agent sessions in ${ctx.storeUrl} (the sessions of pipeline stages ` +
          "are listed by forge inspect <run>, each with --stage NODE)",
    );
    return 0;
  }
  ctx.out(table(
    [
      "CONTEXT",
      "SESSION",
      "STATE",
      "STARTED",
      "DURATION",
      "TURNS",
      "TOOLS",
      "SUBAGENTS",
      "TOKENS",
      "MODEL",
    ],
    page.sessions.map((s) => [
      s.contextId,
      s.sessionId,
      s.state,
      when(s.startedAt),
      s.endedAt === undefined || s.startedAt === undefined
        ? "—"
        : formatDuration(s.endedAt - s.startedAt),
      String(s.turns),
      String(s.toolCalls),
      String(s.subagents),
      String(s.tokens),
      s.model ?? "—",
    ]),
  ));
  if (page.nextBeforeContextId) {
    ctx.out(`\nmore: forge sessions --before ${page.nextBeforeContextId} --limit ${limit}`);
  }
  return 0;
};

/** Resolves a trace target: a context id, or a run id through `resolveRun`. */
export type RunResolver = (store: ForgeStore, runId: string) => Promise<string | undefined>;

/**
 * The contexts of every attempt of the run held by a context, oldest first
 * (undefined when it holds no run).
 */
export type AttemptResolver = (
  store: ForgeStore,
  contextId: string,
) => Promise<readonly string[] | undefined>;

/**
 * `forge trace <context|run>`: the turn DAG as text, DOT, HTML or JSON. A run
 * named by its id is traced from its first attempt, with every later one
 * (`attemptsOf`); a context id is traced from that context.
 */
export function traceCommand(resolveRun?: RunResolver, attemptsOf?: AttemptResolver): ViewCommand {
  return async (args, ctx) => {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: "string" },
        out: { type: "string", short: "o" },
        turns: { type: "boolean" },
        json: { type: "boolean" },
        "max-turns": { type: "string" },
      },
    });
    const target = positionals[0];
    if (!target) throw new UsageError("needs a context id or a run id");
    const format = values.json ? "json" : values.format ?? "text";
    if (!["text", "dot", "html", "json"].includes(format)) {
      throw new UsageError(`--format must be text, dot, html or json, got ${format}`);
    }
    const turnBudget = intFlag("max-turns", values["max-turns"], 200_000, 1, 10_000_000);
    let contextId = await resolveTarget(ctx.store, target, resolveRun);
    const byRunId = contextId !== target;
    const attempts = byRunId ? await attemptsOf?.(ctx.store, contextId) : undefined;
    if (attempts?.length) contextId = attempts[0];
    const trace = await readTrace(ctx.store, contextId, {
      catalogs: ctx.catalogs,
      bundles: ctx.bundles,
      present: presentProjectRecord,
      turnBudget,
      laterAttempts: attempts?.slice(1),
    });
    const root = trace.contexts[0];
    const text = format === "dot"
      ? renderTraceDot(trace)
      : format === "html"
      ? renderTraceHtml(pageData(trace, root?.label || `context ${contextId}`))
      : format === "json"
      ? JSON.stringify(trace)
      : renderTraceText(trace, { turns: values.turns });
    if (values.out) {
      await ctx.writeFile(values.out, text);
      ctx.err(`wrote ${values.out} (${format}, ${trace.contexts.length} contexts)`);
    } else {
      ctx.out(text);
    }
    return 0;
  };
}

/** A context id as given, or the context of a run id. */
export async function resolveTarget(
  store: ForgeStore,
  target: string,
  resolveRun?: RunResolver,
): Promise<string> {
  if (/^[1-9][0-9]*$/.test(target)) return target;
  const found = resolveRun ? await resolveRun(store, target) : undefined;
  if (!found) {
    throw new UsageError(
      `${JSON.stringify(target)} is neither a context id nor a run id found in the store`,
    );
  }
  return found;
}
