/**
 * The state an attempt starts from: a fresh one (a new run or a loop
 * restart), or the one a checkpoint describes (a resume).
 *
 * @module
 */
import type { Checkpoint } from "./checkpoint.ts";
import { CheckpointOutcomes } from "./checkpoint_outcome.ts";
import { RunContext } from "./context.ts";
import type { AttemptState } from "./traversal.ts";
import type { RunRecorder } from "../persist/recorder.ts";
import { adoptMap, mapFromObject } from "../persist/checkpoint_delta.ts";

/** A new attempt of the restart lineage (no stage run yet). */
export function freshAttempt(
  lineage: number,
  restarts: number,
  context: RunContext,
  logsRoot: string,
  recorder: RunRecorder,
): AttemptState {
  return {
    lineageAttempt: lineage,
    restarts,
    stageIndex: 0,
    context,
    completed: [],
    outcomes: new Map(),
    forms: new CheckpointOutcomes(),
    // Without a prototype: fast to fill and copy at thousands of nodes (see copyMap).
    retries: Object.create(null),
    visits: Object.create(null),
    executions: Object.create(null),
    degradeFull: false,
    logsRoot,
    recorder,
  };
}

/**
 * The attempt a checkpoint describes. Its maps and outcomes are adopted, not
 * just copied: the first checkpoint delta after the resume compares against
 * the checkpoint by reference, so `resume` must not change while the run runs.
 */
export function resumedAttempt(
  resume: Checkpoint,
  logsRoot: string,
  recorder: RunRecorder,
): AttemptState {
  const forms = new CheckpointOutcomes();
  return {
    lineageAttempt: resume.lineage_attempt || 1,
    restarts: resume.restarts,
    stageIndex: resume.stage_index,
    context: new RunContext(resume.context, resume.logs),
    completed: [...resume.completed_nodes],
    outcomes: mapFromObject(resume.node_outcomes, (o, id) => forms.adopt(o, id)),
    forms,
    retries: adoptMap(resume.node_retries),
    visits: adoptMap(resume.node_visits),
    executions: adoptMap(resume.node_executions),
    lastFidelity: resume.last_fidelity,
    degradeFull: true,
    logsRoot,
    recorder,
  };
}
