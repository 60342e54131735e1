/**
 * The pipeline record families: what a DOT pipeline run writes to the turn
 * store, one context per run attempt (parallel branches and stage retries in
 * contexts forked from it). Type ids match the Rust Forge so either project
 * can read the other's traces through a CXDB server; versions are new, and no
 * tag the Rust Forge registered changes its wire type, so both bundles can
 * live on one server.
 *
 * What this version adds over the Rust Forge: timestamps are `unix_ms`, kinds
 * and statuses are enums, hashes are 32 raw bytes, context and turn ids are
 * u64, a checkpoint carries the whole state (so a run resumes from the store
 * alone), and forked branch/retry contexts are named in the records that
 * start them.
 *
 * @module
 */
import {
  contentAddressedBundle,
  f,
  RecordCatalog,
  type RecordType,
  type RegistryBundle,
  typedRecord,
} from "@forge/turnstore/records";

import {
  InterviewLifecycleKind,
  OutcomeStatus,
  ParallelLifecycleKind,
  RunLifecycleKind,
  StageLifecycleKind,
} from "./record_enums.ts";
import {
  CheckpointSavedV3,
  InterviewLifecycleV3,
  RouteDecisionV3,
  StageLifecycleV3,
} from "./records_v3.ts";
import { CheckpointSavedV4 } from "./records_v4.ts";
import { CheckpointSavedV5 } from "./records_v5.ts";
export * from "./record_enums.ts";
export * from "./records_v3.ts";
export * from "./records_v4.ts";
export * from "./records_v5.ts";
export { ATTRACTOR_KEY_NAMESPACE, attractorIdempotencyKey } from "./keys.ts";

/** The value of a `RunLifecycle` record. */
export interface RunLifecycleValue {
  /** The run this record belongs to. */
  runId: string;
  /** The pipeline graph being run. */
  graphId: string;
  /** The first run of a chain of restarts. */
  lineageRootRunId?: string;
  /** Which attempt of the lineage this run is (1 for the first). */
  lineageAttempt: number;
  /** Why the run ended or restarted. */
  reason?: string;
  /** The node a restart goes back to. */
  restartTarget?: string;
  /** Which lifecycle event this is. */
  kind: "initialized" | "resumed" | "finalized";
  /** When it happened. */
  at: number;
  /** The outcome. */
  status?: "success" | "partial_success" | "retry" | "fail" | "skipped" | "cancelled";
  /** BLAKE3 of the DOT source. */
  dotSourceHash?: string;
  /** BLAKE3 of the graph snapshot. */
  graphSnapshotHash?: string;
  /** Checkpoint a resumed run continues from. */
  resumedFromCheckpointId?: string;
}

// Version 2's fields, which version 3 (records_v3.ts) keeps tag for tag.
const RUN_LIFECYCLE_V2_FIELDS = {
  runId: f.string(3),
  graphId: f.string(4),
  lineageRootRunId: f.string(5).optional(),
  lineageAttempt: f.u32(6),
  reason: f.string(8).optional(),
  restartTarget: f.string(9).optional(),
  kind: f.enum(20, RunLifecycleKind),
  at: f.unixMs(21),
  status: f.enum(22, OutcomeStatus).optional(),
  dotSourceHash: f.hash(23).optional(),
  graphSnapshotHash: f.hash(24).optional(),
  resumedFromCheckpointId: f.string(25, { doc: "checkpoint a resumed run continues from" })
    .optional(),
} as const;

/** A run attempt was initialized, resumed or finalized. */
export const RunLifecycle: RecordType<RunLifecycleValue> = typedRecord<RunLifecycleValue>()({
  typeId: "forge.attractor.run_lifecycle",
  version: 2,
  fields: RUN_LIFECYCLE_V2_FIELDS,
});

/** The value of a `RunLifecycleV3` record: version 2's, and the run directory. */
export interface RunLifecycleV3Value extends RunLifecycleValue {
  /**
   * The run directory (absolute) the run writes its files to, on
   * `initialized` and `resumed`: a command that finds the run in the store
   * continues it there, not in a second directory.
   */
  runDir?: string;
}

/**
 * A run attempt was initialized, resumed or finalized (version 3: version
 * 2's tags unchanged, the run directory on a new one).
 */
export const RunLifecycleV3: RecordType<RunLifecycleV3Value> = typedRecord<
  RunLifecycleV3Value
>()({
  typeId: "forge.attractor.run_lifecycle",
  version: 3,
  fields: {
    ...RUN_LIFECYCLE_V2_FIELDS,
    runDir: f.string(26, { doc: "the run directory the run writes its files to" }).optional(),
  },
});

/** The value of a `StageLifecycle` record. */
export interface StageLifecycleValue {
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
  status?: "success" | "partial_success" | "retry" | "fail" | "skipped" | "cancelled";
  /** Context forked for this attempt, when retried. */
  attemptContextId?: string;
  /** Why the stage failed. */
  failureReason?: string;
}

/** A stage (node attempt) started, completed, failed or is being retried. */
export const StageLifecycle: RecordType<StageLifecycleValue> = typedRecord<
  StageLifecycleValue
>()({
  typeId: "forge.attractor.stage_lifecycle",
  version: 2,
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
  },
});

/** The value of a `ParallelLifecycle` record. */
export interface ParallelLifecycleValue {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** How many branches the fan-out starts. */
  branchCount?: number;
  /** The branch. */
  branchId?: string;
  /** Position of the branch, from 0. */
  branchIndex?: number;
  /** The node the branch or route goes to. */
  targetNode?: string;
  /** Free-form notes from the handler. */
  notes?: string;
  /** Branches that succeeded. */
  successCount?: number;
  /** Branches that failed. */
  failureCount?: number;
  /** Which lifecycle event this is. */
  kind: "started" | "branch_started" | "branch_completed" | "completed";
  /** When it happened. */
  at: number;
  /** The outcome. */
  status?: "success" | "partial_success" | "retry" | "fail" | "skipped" | "cancelled";
  /** Context forked for the branch. */
  branchContextId?: string;
}

/** A parallel fan-out and its branches; each branch runs in a forked context. */
export const ParallelLifecycle: RecordType<ParallelLifecycleValue> = typedRecord<
  ParallelLifecycleValue
>()({
  typeId: "forge.attractor.parallel_lifecycle",
  version: 2,
  fields: {
    runId: f.string(3),
    nodeId: f.string(4),
    branchCount: f.u32(5).optional(),
    branchId: f.string(6).optional(),
    branchIndex: f.u32(7).optional(),
    targetNode: f.string(8).optional(),
    notes: f.string(10).optional(),
    successCount: f.u32(11).optional(),
    failureCount: f.u32(12).optional(),
    kind: f.enum(20, ParallelLifecycleKind),
    at: f.unixMs(21),
    status: f.enum(22, OutcomeStatus).optional(),
    branchContextId: f.id(23, { doc: "context forked for the branch" }).optional(),
  },
});

/** The value of a `InterviewLifecycle` record. */
export interface InterviewLifecycleValue {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** The answer chosen. */
  selected?: string;
  /** The answer taken when nobody answered. */
  defaultSelected?: string;
  /** Which lifecycle event this is. */
  kind: "started" | "completed" | "timeout";
  /** When it happened. */
  at: number;
  /** The question asked. */
  question?: string;
  /** The answers offered. */
  options?: string[];
}

/** A human-in-the-loop question asked and answered (or timed out). */
export const InterviewLifecycle: RecordType<InterviewLifecycleValue> = typedRecord<
  InterviewLifecycleValue
>()({
  typeId: "forge.attractor.interview_lifecycle",
  version: 2,
  fields: {
    runId: f.string(3),
    nodeId: f.string(4),
    selected: f.string(5).optional(),
    defaultSelected: f.string(6).optional(),
    kind: f.enum(20, InterviewLifecycleKind),
    at: f.unixMs(21),
    question: f.string(22).optional(),
    options: f.array(23, "string").optional(),
  },
});

/** The value of a `CheckpointSaved` record. */
export interface CheckpointSavedValue {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** The checkpoint, as named in checkpoint files. */
  checkpointId: string;
  /** When it happened. */
  at: number;
  /** The checkpoint itself, as JSON. */
  state?: string;
  /** Blob holding the checkpoint JSON when large. */
  stateBlobHash?: string;
  /** BLAKE3 of the checkpoint JSON. */
  stateHash: string;
  /** Nodes completed when the checkpoint was taken. */
  completedNodes: string[];
  /** The node a resumed run starts at. */
  nextNodeId?: string;
}

/**
 * A checkpoint, whole: the state a resumed run starts from. Small states are
 * inline JSON; large ones are a blob named by hash.
 */
export const CheckpointSaved: RecordType<CheckpointSavedValue> = typedRecord<
  CheckpointSavedValue
>()({
  typeId: "forge.attractor.checkpoint_saved",
  version: 2,
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
  },
});

/** The value of a `RouteDecision` record. */
export interface RouteDecisionValue {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** The edge taken. */
  selectedEdge?: string;
  /** Whether the route restarts a loop. */
  loopRestart: boolean;
  /** Why the run terminated here, when it did. */
  terminatedReason?: string;
  /** When it happened. */
  at: number;
  /** Outcome of the run when it terminated here. */
  terminatedStatus?: "success" | "partial_success" | "retry" | "fail" | "skipped" | "cancelled";
  /** The node the branch or route goes to. */
  targetNode?: string;
  /** The edge condition that matched. */
  condition?: string;
}

/** Which edge the runner took after a stage, and why. */
export const RouteDecision: RecordType<RouteDecisionValue> = typedRecord<RouteDecisionValue>()({
  typeId: "forge.attractor.route_decision",
  version: 2,
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
  },
});

/** The value of a `StageToAgentLink` record. */
export interface StageToAgentLinkValue {
  /** The run this record belongs to. */
  runId: string;
  /** The graph node. */
  nodeId: string;
  /** The stage attempt, unique within the run. */
  stageAttemptId: string;
  /** The agent session that ran the stage. */
  agentSessionId: string;
  /** The conversation thread the agent continued, when shared. */
  threadKey?: string;
  /** When it happened. */
  at: number;
  /** The pipeline run's context. */
  pipelineContextId: string;
  /** The agent session's context. */
  agentContextId: string;
  /** The agent context's head when the stage ended. */
  agentHeadTurnId?: string;
  /** Pipeline turn the agent context was forked from. */
  agentBaseTurnId?: string;
}

/** Links a pipeline stage to the agent session that ran it (a join across contexts). */
export const StageToAgentLink: RecordType<StageToAgentLinkValue> = typedRecord<
  StageToAgentLinkValue
>()({
  typeId: "forge.link.stage_to_agent",
  version: 2,
  fields: {
    runId: f.string(2),
    nodeId: f.string(4),
    stageAttemptId: f.string(5),
    agentSessionId: f.string(6),
    threadKey: f.string(11).optional(),
    at: f.unixMs(20),
    pipelineContextId: f.id(21),
    agentContextId: f.id(22),
    agentHeadTurnId: f.id(23).optional(),
    agentBaseTurnId: f.id(24, { doc: "pipeline turn the agent context was forked from" })
      .optional(),
  },
});

/** The value of a `DotSource` record. */
export interface DotSourceValue {
  /** The run this record belongs to. */
  runId: string;
  /** The DOT source, inline when small. */
  dotSource?: string;
  /** Size in bytes. */
  sizeBytes: number;
  /** When it happened. */
  at: number;
  /** BLAKE3 of the content. */
  contentHash: string;
  /** Blob holding the source when large. */
  blobHash?: string;
}

/** The DOT source a run was started from. */
export const DotSource: RecordType<DotSourceValue> = typedRecord<DotSourceValue>()({
  typeId: "forge.attractor.dot_source",
  version: 2,
  fields: {
    runId: f.string(2),
    dotSource: f.string(3).optional(),
    sizeBytes: f.u64(6),
    at: f.unixMs(20),
    contentHash: f.hash(21),
    blobHash: f.hash(22, { doc: "blob holding the source when large" }).optional(),
  },
});

/** The value of a `GraphSnapshot` record. */
export interface GraphSnapshotValue {
  /** The run this record belongs to. */
  runId: string;
  /** Size in bytes. */
  sizeBytes: number;
  /** When it happened. */
  at: number;
  /** The graph as JSON, inline when small. */
  graph?: string;
  /** BLAKE3 of the content. */
  contentHash: string;
  /** blobHash */
  blobHash?: string;
}

/** The parsed, transformed graph a run executes. */
export const GraphSnapshot: RecordType<GraphSnapshotValue> = typedRecord<GraphSnapshotValue>()({
  typeId: "forge.attractor.graph_snapshot",
  version: 2,
  fields: {
    runId: f.string(2),
    sizeBytes: f.u64(6),
    at: f.unixMs(20),
    graph: f.json(21).optional(),
    contentHash: f.hash(22),
    blobHash: f.hash(23).optional(),
  },
});

/** Every pipeline record type. */
export const ATTRACTOR_RECORD_TYPES: readonly RecordType[] = [
  RunLifecycle,
  StageLifecycle,
  ParallelLifecycle,
  InterviewLifecycle,
  CheckpointSaved,
  RouteDecision,
  StageToAgentLink,
  DotSource,
  GraphSnapshot,
  StageLifecycleV3,
  InterviewLifecycleV3,
  CheckpointSavedV3,
  RouteDecisionV3,
  CheckpointSavedV4,
  CheckpointSavedV5,
  RunLifecycleV3,
];

/** A catalog that decodes pipeline turns. */
export const attractorCatalog: RecordCatalog = new RecordCatalog(ATTRACTOR_RECORD_TYPES);

/** The registry bundle of the pipeline records; its id changes whenever they do. */
export const attractorBundle: RegistryBundle = contentAddressedBundle(
  "forge.attractor.deno",
  ATTRACTOR_RECORD_TYPES,
);
