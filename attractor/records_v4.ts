/**
 * Version 4 of the checkpoint record: the same whole checkpoint as version 3,
 * stored cheaply. A checkpoint grows with the run (every completed node, its
 * outcome, retries, visits): at 1,000 stages its JSON is ~85 KB, over the
 * store's inline limit, so version 3 sent it to a blob — three extra store
 * operations per stage and a blob read on resume. Version 4 stores a large
 * state as raw DEFLATE of its JSON (~8× smaller: inline again), names the
 * encoding, and keeps every tag of version 3 with its wire type, so a reader
 * of either version decodes the other's common fields.
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
import { OutcomeStatus } from "./record_enums.ts";
import type { CheckpointSavedV3Value } from "./records_v3.ts";

/**
 * How a checkpoint's state is stored: `json` (UTF-8 JSON text), or
 * `deflate_raw` (that text compressed as raw DEFLATE, RFC 1951, no header).
 */
export type CheckpointStateEncoding = "json" | "deflate_raw";

/** The checkpoint state encodings. */
export const CheckpointStateEncodingEnum: EnumType<CheckpointStateEncoding> = defineEnum(
  "forge.attractor.CheckpointStateEncoding",
  { json: 1, deflate_raw: 2 },
);

/**
 * The value of a `CheckpointSavedV4` record. Exactly one of `state`,
 * `stateBytes` and `stateBlobHash` holds the state; a version 3 value (no
 * `stateEncoding`, no `stateBytes`) reads as one of these with `json`.
 */
export interface CheckpointSavedV4Value extends CheckpointSavedV3Value {
  /** How `stateBytes` (or the blob) is encoded; absent means `json`. */
  stateEncoding?: CheckpointStateEncoding;
  /** The checkpoint JSON, encoded as `stateEncoding` says, when not plain text. */
  stateBytes?: Uint8Array;
}

/** A whole checkpoint; a large state deflated so it stays inline. */
export const CheckpointSavedV4: RecordType<CheckpointSavedV4Value> = typedRecord<
  CheckpointSavedV4Value
>()({
  typeId: "forge.attractor.checkpoint_saved",
  version: 4,
  fields: {
    runId: f.string(2),
    nodeId: f.string(3),
    stageAttemptId: f.string(4),
    checkpointId: f.string(5),
    at: f.unixMs(20),
    state: f.json(21, { doc: "the checkpoint itself, as JSON text (small states)" }).optional(),
    stateBlobHash: f.hash(22, {
      doc: "blob holding the checkpoint, encoded as state_encoding says, when too large inline",
    }).optional(),
    stateHash: f.hash(23, { doc: "BLAKE3 of the checkpoint JSON text (before encoding)" }),
    completedNodes: f.array(24, "string"),
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
      doc: "the checkpoint JSON encoded as state_encoding says (large states, kept inline)",
    }).optional(),
  },
});
