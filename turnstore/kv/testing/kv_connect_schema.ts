/**
 * The KV Connect data path messages, as protobufjs types parsed at load
 * time from the schema below. The schema is written here in our own words;
 * only the message shapes, field numbers, types and enum values follow
 * denokv's `proto/schema/datapath.proto`, because those are the wire format
 * Deno's remote client speaks.
 *
 * @module
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto3";
package forge.kvconnect;

// A read of up to ten key ranges, all from one snapshot.
message SnapshotRead { repeated ReadRange ranges = 1; }

// start is inclusive, end exclusive; reverse walks from end towards start.
message ReadRange {
  bytes start = 1;
  bytes end = 2;
  int32 limit = 3;
  bool reverse = 4;
}

message SnapshotReadOutput {
  repeated ReadRangeOutput ranges = 1;   // one per requested range, same order
  bool read_disabled = 2;
  bool read_is_strongly_consistent = 4;
  ReadStatus status = 8;                 // read by clients of protocol version 3
}

message ReadRangeOutput { repeated Entry values = 1; }

enum ReadStatus {
  READ_STATUS_UNSPECIFIED = 0;
  READ_SUCCESS = 1;
  READ_DISABLED = 2;
}

// An entry as stored: the encoded key, the value bytes and how they are encoded.
message Entry {
  bytes key = 1;
  bytes value = 2;
  Encoding encoding = 3;
  bytes versionstamp = 4;                // 10 bytes
}

enum Encoding {
  ENCODING_UNSPECIFIED = 0;
  V8 = 1;                                // V8 ValueSerializer bytes
  LE64 = 2;                              // a Deno.KvU64, 8 bytes little-endian
  BYTES = 3;                             // a Uint8Array, as is
}

message AtomicWrite {
  repeated Check checks = 1;
  repeated Mutation mutations = 2;
  repeated Enqueue enqueues = 3;
}

// Passes when the key's versionstamp equals this one; an empty one means "absent".
message Check {
  bytes key = 1;
  bytes versionstamp = 2;
}

message Mutation {
  bytes key = 1;
  Value value = 2;
  MutationKind kind = 3;
  int64 expire_at_ms = 4;                // 0 (or -1): never
  bytes sum_min = 5;                     // bounds of a V8 number/bigint sum
  bytes sum_max = 6;
  bool sum_clamp = 7;
}

message Value {
  bytes data = 1;
  Encoding encoding = 2;
}

enum MutationKind {
  KIND_UNSPECIFIED = 0;
  SET = 1;
  DELETE = 2;
  SUM = 3;
  MAX = 4;
  MIN = 5;
  SET_SUFFIX_VERSIONSTAMPED_KEY = 9;
}

message Enqueue {
  bytes payload = 1;
  int64 deadline_ms = 2;
  repeated bytes keys_if_undelivered = 3;
  repeated uint32 backoff_schedule = 4;
}

message AtomicWriteOutput {
  WriteStatus status = 1;
  bytes versionstamp = 2;
  repeated uint32 failed_checks = 4;
}

enum WriteStatus {
  WRITE_STATUS_UNSPECIFIED = 0;
  WRITE_SUCCESS = 1;
  WRITE_CHECK_FAILURE = 2;
  WRITE_DISABLED = 5;
}

message Watch { repeated WatchKey keys = 1; }
message WatchKey { bytes key = 1; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;

/** The protobufjs types of the data path messages the peer reads and writes. */
export const KvConnectMessages = {
  SnapshotRead: root.lookupType("forge.kvconnect.SnapshotRead"),
  SnapshotReadOutput: root.lookupType("forge.kvconnect.SnapshotReadOutput"),
  AtomicWrite: root.lookupType("forge.kvconnect.AtomicWrite"),
  AtomicWriteOutput: root.lookupType("forge.kvconnect.AtomicWriteOutput"),
} as const;

/** Value encodings, as numbered on the wire. */
export const Encoding = { V8: 1, LE64: 2, BYTES: 3 } as const;

/** Mutation kinds, as numbered on the wire. */
export const MutationKind = {
  SET: 1,
  DELETE: 2,
  SUM: 3,
  MAX: 4,
  MIN: 5,
  SET_SUFFIX_VERSIONSTAMPED_KEY: 9,
} as const;

/** Atomic write outcomes, as numbered on the wire. */
export const WriteStatus = { SUCCESS: 1, CHECK_FAILURE: 2 } as const;

/** Snapshot read outcomes, as numbered on the wire. */
export const ReadStatus = { SUCCESS: 1 } as const;

/** A decoded read range. */
export interface WireReadRange {
  /** First key, inclusive. */
  readonly start: Uint8Array;
  /** Key after the last, exclusive. */
  readonly end: Uint8Array;
  /** Most entries to return. */
  readonly limit: number;
  /** Walk from the end. */
  readonly reverse: boolean;
}

/** A decoded check. */
export interface WireCheck {
  /** The key checked. */
  readonly key: Uint8Array;
  /** Expected versionstamp; empty for "absent". */
  readonly versionstamp: Uint8Array;
}

/** A decoded mutation. */
export interface WireMutation {
  /** The key mutated. */
  readonly key: Uint8Array;
  /** The operand; absent on the wire means none. */
  readonly value?: { readonly data: Uint8Array; readonly encoding: number } | null;
  /** A {@link MutationKind} number. */
  readonly kind: number;
  /** Expiry in ms since the epoch, as a number or a protobufjs Long. */
  readonly expire_at_ms: number | { toNumber(): number };
  /** Lower bound of a V8 sum (empty when none). */
  readonly sum_min: Uint8Array;
  /** Upper bound of a V8 sum (empty when none). */
  readonly sum_max: Uint8Array;
}

/** A decoded enqueue (only its size and count matter to the peer). */
export interface WireEnqueue {
  /** The message payload. */
  readonly payload: Uint8Array;
  /** Keys written if delivery fails for good. */
  readonly keys_if_undelivered: Uint8Array[];
  /** Retry delays in ms. */
  readonly backoff_schedule: number[];
}

/** A decoded atomic write. */
export interface WireAtomicWrite {
  /** Checks, all of which must pass. */
  readonly checks: WireCheck[];
  /** Mutations, applied in order. */
  readonly mutations: WireMutation[];
  /** Queue messages. */
  readonly enqueues: WireEnqueue[];
}
