/**
 * The `forge` command line and what it runs on: the catalogs of every record
 * type the project writes, and the renderers of stored turns. It opens
 * stores with `openStore` of `@forge/stores`.
 *
 * @module
 */
export { presentProjectRecord, PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";
export { type CliContext, type CliIo, DEFAULT_STORE, runCli } from "./cli.ts";
export { decodeTurn, renderTurn, turnToJson } from "./render.ts";
export {
  assertStoreExists,
  localStorePath,
  NotAStoreError,
  type StoreCheckOptions,
  StoreMissingError,
} from "./store_exists.ts";
/** Listings, run reports and traces, as data (what `forge runs|sessions|inspect|trace` print). */
export {
  listSessions,
  type ListSessionsOptions,
  type SessionPage,
  type SessionRow,
} from "./views/sessions.ts";
export {
  findRunContext,
  listRunRows,
  type ListRunsOptions,
  type RunPage,
  type RunRow,
  type RunStatusLabel,
} from "./views/runs.ts";
export { type RunAttempt, runAttempts } from "./views/attempts.ts";
export {
  type InterviewView,
  readRunReport,
  renderRunReport,
  type RunReport,
  type StageUsageRow,
} from "./views/inspect.ts";
export {
  type ContextKind,
  type FieldDescriptors,
  readTrace,
  type ReadTraceOptions,
  type RecordPresenter,
  type Trace,
  type TraceContext,
  type TraceLink,
  type TraceTurn,
} from "./trace/model.ts";
export { timeline, type TimelineRow } from "./trace/timeline.ts";
export { renderTraceText } from "./trace/text.ts";
export { renderTraceDot } from "./trace/dot.ts";
export { type PageData, pageData, renderTraceHtml } from "./trace/html.ts";
export { type ProgressOptions, ProgressRenderer, stdoutProgress } from "./progress.ts";
