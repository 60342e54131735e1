/**
 * The pipeline runner whole, as building blocks: the engine (context,
 * outcome, checkpoint, events, retry presets, fidelity, the handler
 * registry), every built-in handler and backend, the interviewers, the run
 * directory, recorders, resume and the whole query API.
 *
 * `@forge/attractor` exports the core of this; import
 * `@forge/attractor/engine` to build on the parts.
 *
 * @module
 */
export * from "./engine/outcome.ts";
export * from "./engine/context.ts";
export * from "./engine/checkpoint.ts";
export * from "./engine/events.ts";
export * from "./engine/retry.ts";
export * from "./engine/handler.ts";
export * from "./engine/fidelity.ts";
export { retryPolicyOf, RunCancelled } from "./engine/stage.ts";
export * from "./engine/prepare.ts";
export * from "./engine/run.ts";
export * from "./handlers/mod.ts";
export * from "./interview/types.ts";
export * from "./interview/interviewers.ts";
export * from "./interview/durable.ts";
export * from "./persist/recorder.ts";
export * from "./persist/store_recorder.ts";
export * from "./persist/rundir.ts";
export * from "./persist/resume.ts";
export * from "./persist/checkpoint_state.ts";
export { fileProblem } from "./persist/file_problem.ts";
export { recordSources, type StageRef } from "./persist/run_records.ts";
export * from "./query.ts";
