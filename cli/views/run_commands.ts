/**
 * `forge runs` and `forge inspect`, on the pipeline runner's query API.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { contextArg, intFlag, table, UsageError, when } from "./args.ts";
import type { ViewCommand } from "./commands.ts";
import { resolveTarget } from "./commands.ts";
import { findRunContext, isRunStatus, listRunRows, type RunStatusLabel } from "./runs.ts";
import { readRunReport, renderRunReport, renderStageSessions, stageSessions } from "./inspect.ts";
import { formatDuration } from "../trace/text.ts";

/** `forge runs`: runs newest first, paged, filtered by status and pipeline. */
export const runsCommand: ViewCommand = async (args, ctx) => {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: "string" },
      before: { type: "string" },
      status: { type: "string" },
      pipeline: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const limit = intFlag("limit", values.limit, 20, 1, 1000);
  const before = values.before === undefined ? undefined : contextArg("--before", values.before);
  if (values.status !== undefined && !isRunStatus(values.status)) {
    throw new UsageError(
      `--status must be running, waiting, succeeded, failed or cancelled, got ${values.status}`,
    );
  }
  const page = await listRunRows(ctx.store, {
    limit,
    beforeContextId: before,
    status: values.status as RunStatusLabel | undefined,
    pipeline: values.pipeline,
  });
  if (values.json) {
    ctx.out(JSON.stringify(page));
    return 0;
  }
  if (page.runs.length === 0) {
    ctx.out(
      `no runs${values.status ? ` ${values.status}` : ""}${
        values.pipeline ? ` of ${values.pipeline}` : ""
      }${before ? ` before context ${before}` : ""} in ${ctx.storeUrl}`,
    );
    return 0;
  }
  ctx.out(table(
    ["RUN", "PIPELINE", "STATUS", "STARTED", "DURATION", "STAGES", "TOKENS", "CONTEXT"],
    page.runs.map((r) => [
      r.runId,
      r.pipeline,
      r.status,
      when(r.startedAt),
      formatDuration(r.durationMs),
      `${r.stagesDone}/${r.stagesTotal ?? "?"}`,
      String(r.tokens),
      r.contextId,
    ]),
  ));
  if (page.nextBeforeContextId) {
    ctx.out(`\nmore: forge runs --before ${page.nextBeforeContextId} --limit ${limit}`);
  }
  return 0;
};

/** `forge inspect <run>`: the whole story of one run; `--stage` drills into its agent session. */
export const inspectCommand: ViewCommand = async (args, ctx) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      stage: { type: "string" },
      full: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const target = positionals[0];
  if (!target) throw new UsageError("needs a run id or a run's context id");
  const contextId = await resolveTarget(ctx.store, target, findRunContext);
  const report = await readRunReport(ctx.store, contextId);
  if (!report) throw new UsageError(`context ${contextId} holds no pipeline run`);
  if (values.stage !== undefined) {
    const rows = await stageSessions(ctx.store, report, values.stage);
    ctx.out(
      values.json
        ? JSON.stringify(rows)
        : renderStageSessions(values.stage, rows, values.full ?? false),
    );
    return 0;
  }
  ctx.out(values.json ? JSON.stringify(report) : renderRunReport(report));
  return 0;
};
