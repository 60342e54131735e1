/**
 * The enums of the pipeline records, shared by every version.
 *
 * @module
 */
import { defineEnum, type EnumType } from "@forge/turnstore/records";

/** Run lifecycle kinds. */
export const RunLifecycleKind: EnumType<"initialized" | "resumed" | "finalized"> = defineEnum(
  "forge.attractor.RunLifecycleKind",
  {
    initialized: 1,
    resumed: 2,
    finalized: 3,
  },
);

/** Stage lifecycle kinds. */
export const StageLifecycleKind: EnumType<"started" | "completed" | "failed" | "retrying"> =
  defineEnum("forge.attractor.StageLifecycleKind", {
    started: 1,
    completed: 2,
    failed: 3,
    retrying: 4,
  });

/** Parallel fan-out lifecycle kinds. */
export const ParallelLifecycleKind: EnumType<
  "started" | "branch_started" | "branch_completed" | "completed"
> = defineEnum("forge.attractor.ParallelLifecycleKind", {
  started: 1,
  branch_started: 2,
  branch_completed: 3,
  completed: 4,
});

/** Human-in-the-loop interview lifecycle kinds. */
export const InterviewLifecycleKind: EnumType<"started" | "completed" | "timeout"> = defineEnum(
  "forge.attractor.InterviewLifecycleKind",
  {
    started: 1,
    completed: 2,
    timeout: 3,
  },
);

/** Outcome statuses of a stage or run (the attractor spec's outcome set). */
export const OutcomeStatus: EnumType<
  "success" | "partial_success" | "retry" | "fail" | "skipped" | "cancelled"
> = defineEnum("forge.attractor.OutcomeStatus", {
  success: 1,
  partial_success: 2,
  retry: 3,
  fail: 4,
  skipped: 5,
  cancelled: 6,
});
