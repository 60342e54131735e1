/**
 * A DOT pipeline runner whose every step is a typed record in a turn store:
 * parse and validate a pipeline, run it with the built-in handlers (or your
 * own), answer its human gates, resume it, and query what it did.
 *
 * This is the core a user of the runner needs. The rest is behind subpaths:
 * `@forge/attractor/graph` (the whole graph layer: routing, conditions, lint
 * rules, stylesheet, transforms, query helpers), `@forge/attractor/engine`
 * (the runner's building blocks: context, outcome and checkpoint helpers,
 * retry presets, fidelity, events hub, each built-in handler and backend,
 * run directory, recorders, the whole query API), `@forge/attractor/records`
 * (the record definitions, enums and value types, catalog and bundle) and
 * `@forge/attractor/agent` (the coding-agent backend).
 *
 * @example Run a pipeline
 * ```ts ignore
 * import { defaultHandlers, preparePipeline, runPipeline } from "@forge/attractor";
 *
 * const source = await Deno.readTextFile("examples/linear.dot");
 * const { graph } = preparePipeline(source); // parse → transforms → lint
 * const result = await runPipeline({
 *   graph,
 *   dotSource: source,
 *   logsRoot: ".forge/runs/demo",
 *   handlers: defaultHandlers(),
 * });
 * console.log(result.status);
 * ```
 *
 * @module
 */

// The graph: parse, validate, the model and its errors.
export type { Diagnostic, Edge, Graph, Node, Severity } from "./graph/types.ts";
export {
  ConditionSyntaxError,
  DotParseError,
  GraphError,
  type GraphErrorCode,
  GraphValidationError,
  StylesheetSyntaxError,
} from "./graph/errors.ts";
export { parseDot, type ParseDotOptions } from "./graph/parser.ts";
export { formatDiagnostic, validate, type ValidateOptions, validateOrRaise } from "./graph/lint.ts";
export {
  assertRunnable,
  type PreparedPipeline,
  type PrepareOptions,
  preparePipeline,
} from "./engine/prepare.ts";

// Running: options, result, events, cancellation.
export {
  type PipelineOptions,
  PipelineRun,
  runPipeline,
  type RunResult,
  type RunStatus,
  startPipeline,
} from "./engine/run.ts";
export { RunCancelled } from "./engine/stage.ts";
export type {
  EventBase,
  PipelineEvent,
  PipelineEventData,
  PipelineEventKind,
  PipelineEventListener,
} from "./engine/events.ts";
export { type Checkpoint, CheckpointError, type CheckpointOutcome } from "./engine/checkpoint.ts";
export {
  type ContextValue,
  type Outcome,
  type StageStatus,
  StatusFileError,
} from "./engine/outcome.ts";
export { RunContext } from "./engine/context.ts";
export { PersistenceError, type PersistenceMode } from "./persist/store_recorder.ts";
export { RunDirectoryError } from "./persist/rundir.ts";

// Handlers and backends: the interfaces and the built-in registry.
export {
  type BranchRunner,
  ChildPipelineError,
  type ChildPipelineRunner,
  type Handler,
  type HandlerInput,
  HandlerRegistry,
  type RunState,
} from "./engine/handler.ts";
export { defaultHandlers } from "./handlers/mod.ts";
export {
  type CodergenBackend,
  type CodergenRequest,
  type CodergenResult,
  ScriptedBackend,
  SimulationBackend,
  type StageUsage,
} from "./handlers/backend.ts";
export type { RunRecorder, WriteKey } from "./persist/recorder.ts";

// Human gates: questions, answers and the interviewers.
export type {
  Answer,
  AnswerValue,
  Interviewer,
  Question,
  QuestionOption,
  QuestionType,
} from "./interview/types.ts";
export { WaitingForAnswer } from "./interview/types.ts";
export {
  AutoApproveInterviewer,
  CallbackInterviewer,
  ConsoleInterviewer,
  type ConsoleIo,
  QueueInterviewer,
  RecordingInterviewer,
} from "./interview/interviewers.ts";
export {
  DurableInterviewer,
  InvalidAnswerError,
  type PendingAnswers,
} from "./interview/durable.ts";

// Resume.
export {
  assertRunInStore,
  checkPipelineUnchanged,
  ResumeError,
  type ResumeErrorCode,
  type ResumePoint,
  resumePointFromDirectory,
  resumePointFromStore,
  RunNotInStoreError,
  type RunNotInStoreReason,
} from "./persist/resume.ts";

// The query API: what a run did, from the store alone.
export {
  interviews,
  latestCheckpoint,
  listRuns,
  type Page,
  type PageOptions,
  readRun,
  routeDecisions,
  type RunInfo,
  type StageAttemptView,
  stageTimeline,
  type StoredCheckpoint,
} from "./query.ts";
