/**
 * How a checkpoint's whole state is stored in a `checkpoint_saved` record,
 * and read back. Small states stay JSON text (readable as is in a trace);
 * larger ones are raw DEFLATE of that text: the state is mostly repeated keys
 * and node ids, so a 1,000-stage checkpoint (~85 KB) deflates to ~10 KB and
 * stays inline instead of costing a blob write per stage and a blob read on
 * resume. Only a state whose deflated form still exceeds the store's inline
 * limit goes to a blob (holding the deflated bytes).
 *
 * @module
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { blake3Hex } from "@forge/turnstore";
import type { CheckpointSavedV4Value, CheckpointStateEncoding } from "../records_v4.ts";
import type { CheckpointRecordValue } from "../records_v5.ts";
import { CheckpointError } from "../engine/checkpoint.ts";

/** Largest encoded state kept in the record itself (the store's inline payload limit). */
export const STATE_INLINE_LIMIT = 48 * 1024;
/** States up to this many bytes of JSON stay plain text: deflating them saves little. */
export const STATE_TEXT_LIMIT = 4 * 1024;
/**
 * DEFLATE level. On a 1,000-stage checkpoint (122 KB of JSON) level 3 gives
 * 15.7 KB in 0.37 ms; the default (6) 15.6 KB in 0.9 ms; level 1 22 KB in
 * 0.19 ms. The state is written after every stage, so the knee of the curve.
 */
const DEFLATE_LEVEL = 3;

/** Largest state text a reader inflates: a damaged or hostile record cannot exhaust memory. */
export const STATE_MAX_BYTES = 256 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A checkpoint state ready for a record: the fields to set, and the bytes to blob if any. */
export interface EncodedState {
  /** The record fields that hold or name the state. */
  readonly fields: Pick<
    CheckpointSavedV4Value,
    "state" | "stateBytes" | "stateEncoding" | "stateHash"
  >;
  /** Bytes to store as a blob (then named by `stateBlobHash`), when too large inline. */
  readonly blob?: Uint8Array;
}

/** Encodes a checkpoint's JSON text for a version 4 record. */
export function encodeCheckpointState(json: string): EncodedState {
  const text = encoder.encode(json);
  const stateHash = blake3Hex(text);
  if (text.length <= STATE_TEXT_LIMIT) {
    return { fields: { state: json, stateEncoding: "json", stateHash } };
  }
  const deflated = new Uint8Array(deflateRawSync(text, { level: DEFLATE_LEVEL }));
  if (deflated.length > STATE_INLINE_LIMIT) {
    return { fields: { stateEncoding: "deflate_raw", stateHash }, blob: deflated };
  }
  return { fields: { stateBytes: deflated, stateEncoding: "deflate_raw", stateHash } };
}

/**
 * The state hash of a delta record (`checkpoint_saved` v5): BLAKE3 of its
 * base's state hash and the delta text, joined by a newline. It chains each
 * delta to the full state it starts from without hashing the whole state.
 */
export function chainedStateHash(baseStateHash: string, delta: string): string {
  return blake3Hex(encoder.encode(`${baseStateHash}\n${delta}`));
}

/** Where a checkpoint record chain stands: the newest record's state hash and delta depth. */
export interface CheckpointChain {
  /** That record's state hash. */
  readonly stateHash: string;
  /** Its delta depth (0: a full record). */
  readonly deltaDepth: number;
  /**
   * Length of the compact JSON of the chain's full state, when the reader
   * had it (it decides whether the next record may be a delta).
   */
  readonly fullStateBytes?: number;
  /**
   * That record's checkpoint id, so a resumed run's next checkpoint gets a
   * new one (`nextCheckpointId`).
   */
  readonly checkpointId?: string;
}

/** Where a stored state's blob is read from. */
export interface BlobSource {
  /** The blob's bytes. */
  getBlob(hash: string): Promise<Uint8Array>;
}

/**
 * The checkpoint JSON text of a full record (version 3, 4, or 5 without a delta), from the record or its
 * blob, decoded and checked against the record's `stateHash`. Throws
 * {@link CheckpointError} naming the checkpoint when the state is missing,
 * undecodable or does not match its hash.
 */
export async function checkpointStateJson(
  store: BlobSource,
  record: CheckpointRecordValue,
): Promise<string> {
  const where = `checkpoint ${record.checkpointId} of run ${record.runId}`;
  if (record.state !== undefined && record.stateBytes === undefined) return record.state;
  const encoding: CheckpointStateEncoding = record.stateEncoding ?? "json";
  let stored = record.stateBytes;
  if (stored === undefined) {
    if (!record.stateBlobHash) throw new CheckpointError(`${where}: the record holds no state`);
    stored = await store.getBlob(record.stateBlobHash);
  }
  let text: Uint8Array;
  try {
    text = encoding === "deflate_raw"
      ? new Uint8Array(inflateRawSync(stored, { maxOutputLength: STATE_MAX_BYTES }))
      : stored;
  } catch (error) {
    throw new CheckpointError(
      `${where}: its ${encoding} state does not decode (${(error as Error).message})`,
    );
  }
  if (encoding !== "json" && blake3Hex(text) !== record.stateHash) {
    throw new CheckpointError(`${where}: its state does not match its state hash`);
  }
  try {
    return decoder.decode(text);
  } catch {
    throw new CheckpointError(`${where}: its state is not UTF-8 text`);
  }
}

/**
 * A record's value as a reader should see it: a state stored deflated inline
 * shown as JSON text under `state`, and `stateBytes` as a note of what is
 * stored. Undefined when the record holds no inline deflated state (or it
 * does not decode: the stored fields are then shown as they are).
 */
export function presentCheckpointState(
  value: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const bytes = value.stateBytes;
  if (!(bytes instanceof Uint8Array) || value.stateEncoding !== "deflate_raw") return undefined;
  try {
    const text = inflateRawSync(bytes, { maxOutputLength: STATE_MAX_BYTES });
    return {
      ...value,
      state: decoder.decode(text),
      stateBytes:
        `${bytes.length} bytes of deflate_raw, inflated into state (${text.length} bytes)`,
    };
  } catch {
    return undefined;
  }
}
