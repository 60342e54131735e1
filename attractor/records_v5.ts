/**
 * Version 5 of the checkpoint record: the whole checkpoint every few stages,
 * and in between only what a stage changed. A checkpoint grows with the run
 * (every completed node, its outcome, retries, visits: ~100 bytes a stage),
 * so writing it whole after every stage made each stage's store work — JSON
 * hashed, deflated, encoded, committed — grow with the run's length. A
 * version 5 record holds either a full state (as version 4 does, same tags)
 * or a delta against the previous checkpoint record of the chain, named by
 * that record's state hash; a reader takes the newest full state at or before
 * the checkpoint and applies the deltas after it. Every version 4 tag keeps
 * its wire type; `completed_nodes` (24), which restated the state, is no
 * longer written (tag kept unused), and `completed_count` replaces it.
 *
 * @module
 */
import { f, type RecordType, typedRecord } from "@forge/turnstore/records";
import { OutcomeStatus } from "./record_enums.ts";
import { type CheckpointSavedV4Value, CheckpointStateEncodingEnum } from "./records_v4.ts";

/**
 * The value of a `CheckpointSavedV5` record. A full record holds the state in
 * one of `state`, `stateBytes`, `stateBlobHash` (`deltaDepth` 0); a delta
 * record holds `stateDelta` and `baseStateHash`.
 */
export interface CheckpointSavedV5Value extends Omit<CheckpointSavedV4Value, "completedNodes"> {
  /**
   * A full record: BLAKE3 of the checkpoint JSON text. A delta record: BLAKE3
   * of `baseStateHash` (hex) and the delta text joined by a newline, which
   * chains every delta to the full state it starts from.
   */
  stateHash: string;
  /** How many nodes were completed when the checkpoint was taken. */
  completedCount: number;
  /** What changed since the checkpoint whose state hash is `baseStateHash`, as JSON. */
  stateDelta?: string;
  /** The state hash of the checkpoint record this delta applies to. */
  baseStateHash?: string;
  /** How many deltas lead from the last full state to this one (0 on a full record). */
  deltaDepth: number;
}

/**
 * A checkpoint record of any version readers take (3, 4 or 5): versions 3 and
 * 4 carry `completedNodes` and are always full; version 5 carries
 * `completedCount` and may be a delta.
 */
export type CheckpointRecordValue =
  & Omit<CheckpointSavedV5Value, "completedCount" | "deltaDepth">
  & Partial<Pick<CheckpointSavedV5Value, "completedCount" | "deltaDepth">>
  & { completedNodes?: string[] };

/** A whole checkpoint, or what changed since the previous one. */
export const CheckpointSavedV5: RecordType<CheckpointSavedV5Value> = typedRecord<
  CheckpointSavedV5Value
>()({
  typeId: "forge.attractor.checkpoint_saved",
  version: 5,
  fields: {
    runId: f.string(2),
    nodeId: f.string(3),
    stageAttemptId: f.string(4),
    checkpointId: f.string(5),
    at: f.unixMs(20),
    state: f.json(21, { doc: "a full checkpoint, as JSON text (small states)" }).optional(),
    stateBlobHash: f.hash(22, {
      doc: "blob holding a full checkpoint, encoded as state_encoding says, when too large inline",
    }).optional(),
    stateHash: f.hash(23, {
      doc:
        "full: BLAKE3 of the checkpoint JSON text; delta: BLAKE3 of base_state_hash + newline + the delta",
    }),
    nextNodeId: f.string(25).optional(),
    dotSourceHash: f.hash(26, { doc: "blob holding the DOT source" }),
    graphId: f.string(27),
    lineageAttempt: f.u32(28),
    stageIndex: f.u32(29),
    waitingOn: f.string(30).optional(),
    finalStatus: f.enum(31, OutcomeStatus).optional(),
    stateEncoding: f.enum(32, CheckpointStateEncodingEnum, {
      doc: "encoding of state_bytes or the blob: json, or deflate_raw (raw DEFLATE of the JSON)",
    }).optional(),
    stateBytes: f.bytes(33, {
      doc: "a full checkpoint's JSON encoded as state_encoding says (large states, kept inline)",
    }).optional(),
    stateDelta: f.json(34, {
      doc: "what changed since the checkpoint named by base_state_hash: set, unset, append, maps",
    }).optional(),
    baseStateHash: f.hash(35, { doc: "state_hash of the checkpoint record the delta applies to" })
      .optional(),
    deltaDepth: f.u32(36, { doc: "deltas since the last full state (0: this record is full)" }),
    completedCount: f.u32(37, { doc: "nodes completed when the checkpoint was taken" }),
  },
});
