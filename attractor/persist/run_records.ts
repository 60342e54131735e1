/**
 * Builds the typed records of a run and hands them to its recorder: one
 * function per event, so the engine reads as the spec's loop and the record
 * shapes live in one place.
 *
 * @module
 */
import { blake3Hex } from "@forge/turnstore";
import {
  CheckpointSavedV4,
  DotSource,
  GraphSnapshot,
  RouteDecisionV3,
  type RouteStep,
  RunLifecycle,
  StageLifecycleV3,
} from "../records.ts";
import type { Checkpoint } from "../engine/checkpoint.ts";
import type { Outcome } from "../engine/outcome.ts";
import type { StageUsage } from "../handlers/backend.ts";
import type { RunRecorder } from "./recorder.ts";
import { encodeCheckpointState } from "./checkpoint_state.ts";

/** Inline payloads above this size go to a blob instead. */
const INLINE_LIMIT = 48 * 1024;
const encoder = new TextEncoder();

/** Identifies a stage attempt in records. */
export interface StageRef {
  /** The run. */
  readonly runId: string;
  /** The node. */
  readonly nodeId: string;
  /** The stage attempt id. */
  readonly stageAttemptId: string;
  /** Attempt number, from 1. */
  readonly attempt: number;
  /** Position of the stage in the run. */
  readonly stageIndex: number;
  /** The handler type. */
  readonly handlerType: string;
}

/** Writes the DOT source and graph snapshot (blobs by hash, inline when small). */
export async function recordSources(
  recorder: RunRecorder,
  runId: string,
  dotSource: string,
  graphJson: string,
): Promise<{ dotHash: string; graphHash: string }> {
  const dotBytes = encoder.encode(dotSource);
  const graphBytes = encoder.encode(graphJson);
  const dotHash = blake3Hex(dotBytes);
  const graphHash = blake3Hex(graphBytes);
  if (!recorder.enabled) return { dotHash, graphHash };
  // The DOT source is always a blob: resume reads it by the hash a checkpoint names.
  await recorder.putBlob(dotBytes);
  const graphBlob = graphBytes.length > INLINE_LIMIT
    ? await recorder.putBlob(graphBytes)
    : undefined;
  const at = Date.now();
  recorder.enqueue(DotSource, { nodeId: "", attempt: 0, kind: "dot_source" }, {
    runId,
    dotSource: dotBytes.length <= INLINE_LIMIT ? dotSource : undefined,
    sizeBytes: dotBytes.length,
    at,
    contentHash: dotHash,
    blobHash: dotHash,
  });
  recorder.enqueue(GraphSnapshot, { nodeId: "", attempt: 0, kind: "graph_snapshot" }, {
    runId,
    sizeBytes: graphBytes.length,
    at,
    graph: graphBytes.length <= INLINE_LIMIT ? graphJson : undefined,
    contentHash: graphHash,
    blobHash: graphBlob,
  });
  return { dotHash, graphHash };
}

/** Writes a run lifecycle record. */
export function recordRun(
  recorder: RunRecorder,
  value: Parameters<typeof RunLifecycle.encode>[0],
): void {
  recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: `run_${value.kind}` }, value);
}

/**
 * Holds a stage `started` record (it goes to the store with the stage's
 * other records); the returned function resolves with its turn id.
 */
export function recordStageStarted(
  recorder: RunRecorder,
  stage: StageRef,
): () => Promise<string | undefined> {
  return recorder.enqueue(
    StageLifecycleV3,
    { nodeId: stage.nodeId, attempt: stage.attempt, kind: "stage_started" },
    {
      runId: stage.runId,
      nodeId: stage.nodeId,
      stageAttemptId: stage.stageAttemptId,
      attempt: stage.attempt,
      kind: "started",
      at: Date.now(),
      stageIndex: stage.stageIndex,
      handlerType: stage.handlerType,
    },
  );
}

/** Writes how a stage attempt ended: completed, failed, or retrying after a delay. */
export function recordStageEnded(
  recorder: RunRecorder,
  stage: StageRef,
  kind: "completed" | "failed" | "retrying",
  outcome: Outcome | { status: "cancelled"; failureReason?: string; notes?: string },
  extra: { durationMs: number; delayMs?: number; usage?: StageUsage },
): void {
  const usage = extra.usage;
  recorder.enqueue(
    StageLifecycleV3,
    { nodeId: stage.nodeId, attempt: stage.attempt, kind: `stage_${kind}` },
    {
      runId: stage.runId,
      nodeId: stage.nodeId,
      stageAttemptId: stage.stageAttemptId,
      attempt: stage.attempt,
      kind,
      at: Date.now(),
      status: outcome.status,
      notes: outcome.notes || undefined,
      failureReason: outcome.failureReason || undefined,
      willRetry: kind === "retrying" ? true : undefined,
      nextAttempt: kind === "retrying" ? stage.attempt + 1 : undefined,
      delayMs: extra.delayMs,
      durationMs: Math.max(0, Math.round(extra.durationMs)),
      stageIndex: stage.stageIndex,
      handlerType: stage.handlerType,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
      totalTokens: usage?.totalTokens,
      costMicroUsd: usage?.costUsd === undefined ? undefined : Math.round(usage.costUsd * 1e6),
    },
  );
}

/** Writes a route decision. */
export function recordRoute(
  recorder: RunRecorder,
  stage: Pick<StageRef, "runId" | "nodeId" | "stageAttemptId" | "attempt">,
  route: {
    step: RouteStep;
    from: string;
    to?: string;
    label?: string;
    condition?: string;
    loopRestart?: boolean;
    status?: Outcome["status"];
    terminatedReason?: string;
    terminatedStatus?: Outcome["status"];
  },
): void {
  recorder.enqueue(
    RouteDecisionV3,
    { nodeId: stage.nodeId, attempt: stage.attempt, kind: "route" },
    {
      runId: stage.runId,
      nodeId: stage.nodeId,
      stageAttemptId: stage.stageAttemptId,
      selectedEdge: route.to ? `${route.from}->${route.to}` : undefined,
      loopRestart: route.loopRestart ?? false,
      terminatedReason: route.terminatedReason,
      terminatedStatus: route.terminatedStatus,
      at: Date.now(),
      targetNode: route.to,
      condition: route.condition || undefined,
      step: route.step,
      edgeLabel: route.label || undefined,
      outcomeStatus: route.status,
    },
  );
}

/**
 * Writes the whole checkpoint (JSON text when small, deflated when larger —
 * inline either way up to ~400 KB of JSON; a blob beyond) and releases it with
 * every record held since the last one.
 */
export async function recordCheckpoint(
  recorder: RunRecorder,
  checkpoint: Checkpoint,
  json: string,
  info: { stageAttemptId: string; dotHash: string; graphId: string; checkpointId: string },
): Promise<void> {
  if (!recorder.enabled) return;
  const encoded = encodeCheckpointState(json);
  const blob = encoded.blob ? await recorder.putBlob(encoded.blob) : undefined;
  recorder.enqueue(
    CheckpointSavedV4,
    { nodeId: checkpoint.current_node, attempt: 0, kind: "checkpoint" },
    {
      runId: checkpoint.run_id,
      nodeId: checkpoint.current_node,
      stageAttemptId: info.stageAttemptId,
      checkpointId: info.checkpointId,
      at: Date.now(),
      ...encoded.fields,
      // A blob that could not be stored (best_effort) leaves the state inline.
      ...(encoded.blob && (blob ? { stateBlobHash: blob } : { stateBytes: encoded.blob })),
      completedNodes: [...checkpoint.completed_nodes],
      nextNodeId: checkpoint.next_node,
      dotSourceHash: info.dotHash,
      graphId: info.graphId,
      lineageAttempt: checkpoint.lineage_attempt,
      stageIndex: checkpoint.stage_index,
      waitingOn: checkpoint.waiting_on,
      finalStatus: checkpoint.final_status,
    },
  );
  // The stage's held records and its checkpoint go to the store together: one commit.
  recorder.release();
}
