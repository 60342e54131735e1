/**
 * Version 3 of four pipeline record types, written by the runner: stage
 * lifecycles carry duration, stage index and usage; route decisions name the
 * selection step; checkpoints name the DOT source and lineage so a run
 * resumes from its latest checkpoint alone; interviews carry the free-text
 * answer and how long the human took (version 3 of run lifecycles, which
 * names the run directory, is in records.ts beside version 2, whose fields
 * it keeps). Tags of version 2 keep their wire types; new fields take new
 * tags.
 *
 * @module
 */
import {
  defineEnum,
  type EnumType,
  f,
  type RecordType,
  typedRecord,
} from "@forge/turnstore/records";
import { InterviewLifecycleKind, OutcomeStatus, StageLifecycleKind } from "./record_enums.ts";

/** How the runner chose where to go after a stage. */
export type RouteStep =
  | "condition"
  | "preferred_label"
  | "suggested_next_id"
  | "weight"
  | "lexical"
  | "retry_target"
  | "fallback_retry_target"
  | "goal_gate_retry"
  | "none";

/** The route steps: the spec's five edge-selection steps, then the jumps. */
export const RouteSelectionStep: EnumType<RouteStep> = defineEnum(
  "forge.attractor.RouteSelectionStep",
  {
    condition: 1,
    preferred_label: 2,
    suggested_next_id: 3,
    weight: 4,
    lexical: 5,
    retry_target: 6,
    fallback_retry_target: 7,
    goal_gate_retry: 8,
    none: 9,
  },
);

/** A stage or run status as records store it. */
export type RecordStatus =
  | "success"
  | "partial_success"
  | "retry"
  | "fail"
  | "skipped"
  | "cancelled";

/** The value of a `StageLifecycleV3` record. */
export interface StageLifecycleV3Value {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** Attempt number, from 1. */
  attempt: number;
  /** Free-form notes from the handler. */
  notes?: string;
  /** Whether another attempt follows. */
  willRetry?: boolean;
  /** Number of the next attempt. */
  nextAttempt?: number;
  /** Backoff before the next attempt. */
  delayMs?: number;
  /** Which lifecycle event this is. */
  kind: "started" | "completed" | "failed" | "retrying";
  /** When it happened. */
  at: number;
  /** The outcome. */
  status?: RecordStatus;
  /** Context forked for this attempt, when retried. */
  attemptContextId?: string;
  /** Why the stage failed. */
  failureReason?: string;
  /** How long the attempt ran. */
  durationMs?: number;
  /** Position of the stage in the run, from 0. */
  stageIndex: number;
  /** The handler type that ran it. */
  handlerType?: string;
  /** Input tokens the stage used. */
  inputTokens?: number;
  /** Output tokens the stage used. */
  outputTokens?: number;
  /** Total tokens the stage used. */
  totalTokens?: number;
  /** Cost in millionths of a US dollar, when known. */
  costMicroUsd?: number;
}

/** A stage attempt started, completed, failed or is being retried; with duration and usage. */
export const StageLifecycleV3: RecordType<StageLifecycleV3Value> = typedRecord<
  StageLifecycleV3Value
>()({
  typeId: "forge.attractor.stage_lifecycle",
  version: 3,
  fields: {
    runId: f.string(3),
    nodeId: f.string(4),
    stageAttemptId: f.string(5),
    attempt: f.u32(6),
    notes: f.string(8).optional(),
    willRetry: f.bool(9).optional(),
    nextAttempt: f.u32(10).optional(),
    delayMs: f.durationMs(11, { doc: "backoff before the next attempt" }).optional(),
    kind: f.enum(20, StageLifecycleKind),
    at: f.unixMs(21),
    status: f.enum(22, OutcomeStatus).optional(),
    attemptContextId: f.id(23, { doc: "context forked for this attempt, when retried" })
      .optional(),
    failureReason: f.string(24).optional(),
    durationMs: f.durationMs(25, { doc: "how long the attempt ran" }).optional(),
    stageIndex: f.u32(26),
    handlerType: f.string(27).optional(),
    inputTokens: f.u64(28).optional(),
    outputTokens: f.u64(29).optional(),
    totalTokens: f.u64(30).optional(),
    costMicroUsd: f.u64(31, { doc: "cost in millionths of a US dollar" }).optional(),
  },
});

/** The value of a `RouteDecisionV3` record. */
export interface RouteDecisionV3Value {
  /** The run this record belongs to. */
  runId: string;
  /** The node the route leaves. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** The edge taken, "from->to". */
  selectedEdge?: string;
  /** Whether the route restarts a loop. */
  loopRestart: boolean;
  /** Why the run terminated here, when it did. */
  terminatedReason?: string;
  /** When it happened. */
  at: number;
  /** Outcome of the run when it terminated here. */
  terminatedStatus?: RecordStatus;
  /** The node the route goes to. */
  targetNode?: string;
  /** The edge condition that matched. */
  condition?: string;
  /** Which step chose the route. */
  step: RouteStep;
  /** The edge's label. */
  edgeLabel?: string;
  /** The stage status routed on. */
  outcomeStatus?: RecordStatus;
}

/** Which edge (or jump) the runner took after a stage, and which rule chose it. */
export const RouteDecisionV3: RecordType<RouteDecisionV3Value> = typedRecord<
  RouteDecisionV3Value
>()({
  typeId: "forge.attractor.route_decision",
  version: 3,
  fields: {
    runId: f.string(2),
    nodeId: f.string(3),
    stageAttemptId: f.string(4),
    selectedEdge: f.string(5).optional(),
    loopRestart: f.bool(6),
    terminatedReason: f.string(8).optional(),
    at: f.unixMs(20),
    terminatedStatus: f.enum(21, OutcomeStatus).optional(),
    targetNode: f.string(22).optional(),
    condition: f.string(23, { doc: "the edge condition that matched" }).optional(),
    step: f.enum(24, RouteSelectionStep),
    edgeLabel: f.string(25).optional(),
    outcomeStatus: f.enum(26, OutcomeStatus).optional(),
  },
});

/** The value of a `CheckpointSavedV3` record. */
export interface CheckpointSavedV3Value {
  /** The run this record belongs to. */
  runId: string;
  /** The node just completed. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** The checkpoint's id. */
  checkpointId: string;
  /** When it happened. */
  at: number;
  /** The checkpoint itself, as JSON (when small). */
  state?: string;
  /** Blob holding the checkpoint JSON when large. */
  stateBlobHash?: string;
  /** BLAKE3 of the checkpoint JSON. */
  stateHash: string;
  /** Nodes completed when the checkpoint was taken. */
  completedNodes: string[];
  /** The node a resumed run starts at. */
  nextNodeId?: string;
  /** Blob holding the DOT source the run executes. */
  dotSourceHash: string;
  /** The pipeline (digraph id). */
  graphId: string;
  /** Which attempt of the restart lineage. */
  lineageAttempt: number;
  /** Stages run so far. */
  stageIndex: number;
  /** The node whose human gate the run waits on. */
  waitingOn?: string;
  /** The run's final status, once finished. */
  finalStatus?: RecordStatus;
}

/** A whole checkpoint, naming the DOT source blob, so a run resumes from the store alone. */
export const CheckpointSavedV3: RecordType<CheckpointSavedV3Value> = typedRecord<
  CheckpointSavedV3Value
>()({
  typeId: "forge.attractor.checkpoint_saved",
  version: 3,
  fields: {
    runId: f.string(2),
    nodeId: f.string(3),
    stageAttemptId: f.string(4),
    checkpointId: f.string(5),
    at: f.unixMs(20),
    state: f.json(21, { doc: "the checkpoint itself, as JSON" }).optional(),
    stateBlobHash: f.hash(22, { doc: "blob holding the checkpoint JSON when large" })
      .optional(),
    stateHash: f.hash(23, { doc: "BLAKE3 of the checkpoint JSON" }),
    completedNodes: f.array(24, "string"),
    nextNodeId: f.string(25).optional(),
    dotSourceHash: f.hash(26, { doc: "blob holding the DOT source" }),
    graphId: f.string(27),
    lineageAttempt: f.u32(28),
    stageIndex: f.u32(29),
    waitingOn: f.string(30).optional(),
    finalStatus: f.enum(31, OutcomeStatus).optional(),
  },
});

/** The value of an `InterviewLifecycleV3` record. */
export interface InterviewLifecycleV3Value {
  /** The run this record belongs to. */
  runId: string;
  /** The gate node. */
  nodeId: string;
  /** The option key chosen. */
  selected?: string;
  /** The answer taken when nobody answered. */
  defaultSelected?: string;
  /** Which lifecycle event this is. */
  kind: "started" | "completed" | "timeout";
  /** When it happened. */
  at: number;
  /** The question asked. */
  question?: string;
  /** The answers offered (labels). */
  options?: string[];
  /** The option keys, in the order of `options`. */
  optionKeys?: string[];
  /** The label of the option chosen. */
  selectedLabel?: string;
  /** Free text of the answer. */
  answerText?: string;
  /** How long the human took. */
  durationMs?: number;
  /** The stage attempt. */
  stageAttemptId?: string;
}

/** A human gate's question, options and answer. */
export const InterviewLifecycleV3: RecordType<InterviewLifecycleV3Value> = typedRecord<
  InterviewLifecycleV3Value
>()({
  typeId: "forge.attractor.interview_lifecycle",
  version: 3,
  fields: {
    runId: f.string(3),
    nodeId: f.string(4),
    selected: f.string(5).optional(),
    defaultSelected: f.string(6).optional(),
    kind: f.enum(20, InterviewLifecycleKind),
    at: f.unixMs(21),
    question: f.string(22).optional(),
    options: f.array(23, "string").optional(),
    optionKeys: f.array(24, "string").optional(),
    selectedLabel: f.string(25).optional(),
    answerText: f.string(26).optional(),
    durationMs: f.durationMs(27).optional(),
    stageAttemptId: f.string(28).optional(),
  },
});
