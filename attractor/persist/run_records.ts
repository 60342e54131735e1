/**
 * Builds the typed records of a run and hands them to its recorder: one
 * function per event, so the engine reads as the spec's loop and the record
 * shapes live in one place.
 *
 * @module
 */
import { blake3Hex } from "@forge/turnstore";
import {
  CheckpointSavedV5,
  type CheckpointSavedV5Value,
  DotSource,
  GraphSnapshot,
  RouteDecisionV3,
  type RouteStep,
  RunLifecycleV3,
  StageLifecycleV3,
} from "../records.ts";
import type { Checkpoint } from "../engine/checkpoint.ts";
import type { Outcome } from "../engine/outcome.ts";
import type { StageUsage } from "../handlers/backend.ts";
import type { RunRecorder } from "./recorder.ts";
import {
  chainedStateHash,
  type CheckpointChain,
  encodeCheckpointState,
  STATE_TEXT_LIMIT,
} from "./checkpoint_state.ts";
import { diffCheckpoint } from "./checkpoint_delta.ts";

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
  value: Parameters<typeof RunLifecycleV3.encode>[0],
): void {
  recorder.enqueue(RunLifecycleV3, { nodeId: "", attempt: 0, kind: `run_${value.kind}` }, value);
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
 * At most this many deltas follow a full checkpoint state. A reader follows
 * the chain back to the full state (~4 turns listed and one delta checked and
 * applied per stage: ~0.1 ms each), a writer pays a full state (hashing and
 * deflating the whole JSON: ~0.5 ms at 1,000 stages) once per this many + 1
 * stages; 8 keeps the worst resume within ~1 ms of reading one full record.
 */
export const CHECKPOINT_FULL_EVERY = 8;

/** The last checkpoint record a recorder wrote (or resumed from): the base of the next delta. */
interface ChainHead {
  readonly checkpoint: Checkpoint;
  readonly stateHash: string;
  readonly depth: number;
  /**
   * Length of the compact JSON of the chain's last full state: what decides
   * whether the next record may be a delta, so a delta stage need not
   * stringify the whole checkpoint only to measure it.
   */
  readonly fullBytes: number;
  /** Resolves to whether its record was stored (a lost one breaks the chain: write full). */
  readonly stored: () => Promise<boolean>;
}

const chains = new WeakMap<RunRecorder, ChainHead>();

/**
 * Lets a resumed run's first checkpoint be a delta against the one it
 * resumed from (which must be the newest checkpoint of the recorder's
 * context, as the store holds it).
 */
export function continueCheckpointChain(
  recorder: RunRecorder,
  checkpoint: Checkpoint,
  chain: CheckpointChain,
): void {
  if (!recorder.enabled) return;
  chains.set(recorder, {
    checkpoint,
    stateHash: chain.stateHash,
    depth: chain.deltaDepth,
    // Without the full state's size from the reader, the resumed state's own stands in.
    fullBytes: chain.fullStateBytes ?? JSON.stringify(checkpoint).length,
    stored: () => Promise.resolve(true),
  });
}

/**
 * The state fields of a checkpoint record: a delta against `head` when the
 * chain's last full state was past {@link STATE_TEXT_LIMIT} (a small state is
 * cheap whole and keeps the record readable alone), fewer than
 * {@link CHECKPOINT_FULL_EVERY} deltas follow it, `head` was stored, and the
 * delta is under half that full state; else the full state, as compact JSON.
 */
async function stateFields(
  recorder: RunRecorder,
  checkpoint: Checkpoint,
  head: ChainHead | undefined,
): Promise<
  { fields: Partial<CheckpointSavedV5Value>; stateHash: string; depth: number; fullBytes: number }
> {
  if (
    head && head.fullBytes > STATE_TEXT_LIMIT && head.depth < CHECKPOINT_FULL_EVERY &&
    await head.stored()
  ) {
    const delta = JSON.stringify(diffCheckpoint(head.checkpoint, checkpoint));
    if (delta.length < head.fullBytes / 2) {
      const stateHash = chainedStateHash(head.stateHash, delta);
      const depth = head.depth + 1;
      return {
        fields: { stateDelta: delta, baseStateHash: head.stateHash, stateHash, deltaDepth: depth },
        stateHash,
        depth,
        fullBytes: head.fullBytes,
      };
    }
  }
  const json = JSON.stringify(checkpoint);
  const encoded = encodeCheckpointState(json);
  const blob = encoded.blob ? await recorder.putBlob(encoded.blob) : undefined;
  return {
    fields: {
      ...encoded.fields,
      // A blob that could not be stored (best_effort) leaves the state inline.
      ...(encoded.blob && (blob ? { stateBlobHash: blob } : { stateBytes: encoded.blob })),
      deltaDepth: 0,
    },
    stateHash: encoded.fields.stateHash,
    depth: 0,
    fullBytes: json.length,
  };
}

/**
 * Writes the checkpoint record (`checkpoint_saved` v5) and releases the
 * stage's held records with it. The record holds the whole state as compact
 * JSON, or — once the chain's last full state is past
 * {@link STATE_TEXT_LIMIT}, and within {@link CHECKPOINT_FULL_EVERY} of it —
 * only what changed since the previous checkpoint record.
 */
export async function recordCheckpoint(
  recorder: RunRecorder,
  checkpoint: Checkpoint,
  info: { stageAttemptId: string; dotHash: string; graphId: string; checkpointId: string },
): Promise<void> {
  if (!recorder.enabled) return;
  const state = await stateFields(recorder, checkpoint, chains.get(recorder));
  const release = recorder.enqueue(
    CheckpointSavedV5,
    { nodeId: checkpoint.current_node, attempt: 0, kind: "checkpoint" },
    {
      runId: checkpoint.run_id,
      nodeId: checkpoint.current_node,
      stageAttemptId: info.stageAttemptId,
      checkpointId: info.checkpointId,
      at: Date.now(),
      stateHash: state.stateHash,
      deltaDepth: state.depth,
      ...state.fields,
      completedCount: checkpoint.completed_nodes.length,
      nextNodeId: checkpoint.next_node,
      dotSourceHash: info.dotHash,
      graphId: info.graphId,
      lineageAttempt: checkpoint.lineage_attempt,
      stageIndex: checkpoint.stage_index,
      waitingOn: checkpoint.waiting_on,
      finalStatus: checkpoint.final_status,
    },
  );
  // Releasing it sends the stage's held records and its checkpoint together: one commit.
  const turn = release();
  chains.set(recorder, {
    checkpoint,
    stateHash: state.stateHash,
    depth: state.depth,
    fullBytes: state.fullBytes,
    stored: async () => (await turn) !== undefined,
  });
}
