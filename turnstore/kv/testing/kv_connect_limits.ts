/**
 * What a real `denokv` server refuses before it touches its database, and
 * the error the peer answers with. The numbers are `denokv_proto`'s
 * (`proto/limits.rs`); what counts against them follows how that crate
 * converts a request (keys of checks and mutations, values, queue payloads,
 * undelivered keys and 4 bytes per backoff interval add up to one commit's
 * size). Deno's own client refuses some of these first (a 2 KiB key, a 64
 * KiB value); the server's 10 checks per commit it does not, so that is
 * where a store that ignores KV Connect's limits fails.
 *
 * @module
 */
import type { WireAtomicWrite, WireReadRange } from "./kv_connect_schema.ts";
import { Encoding, MutationKind } from "./kv_connect_schema.ts";

/** `denokv`'s limits on one request (see {@link DENOKV_LIMITS}). */
export interface DenoKvLimits {
  /** Longest key a mutation may write. */
  readonly writeKeyBytes: number;
  /** Longest key a read or a check may name. */
  readonly readKeyBytes: number;
  /** Largest value. */
  readonly valueBytes: number;
  /** Most ranges in one snapshot read. */
  readonly readRanges: number;
  /** Most entries all ranges of one snapshot read may ask for. */
  readonly readEntries: number;
  /** Most checks in one atomic write. */
  readonly checks: number;
  /** Most mutations plus enqueues in one atomic write. */
  readonly mutations: number;
  /** Most bytes one atomic write may carry (see the module doc). */
  readonly totalMutationBytes: number;
  /** Most keys a queue message may name for undelivered delivery. */
  readonly queueUndeliveredKeys: number;
  /** Most backoff intervals of a queue message. */
  readonly queueBackoffIntervals: number;
  /** Longest backoff interval, in ms. */
  readonly queueBackoffMs: number;
}

/** `denokv`'s limits on one request, from `denokv_proto`'s limits.rs. */
export const DENOKV_LIMITS: DenoKvLimits = Object.freeze({
  /** Longest key a mutation may write. */
  writeKeyBytes: 100 * 1024,
  /** Longest key a read or a check may name. */
  readKeyBytes: 100 * 1024 + 1,
  /** Largest value. */
  valueBytes: 1024 * 1024 * 1024,
  /** Most ranges in one snapshot read. */
  readRanges: 10,
  /** Most entries all ranges of one snapshot read may ask for. */
  readEntries: 1000,
  /** Most checks in one atomic write. */
  checks: 10,
  /** Most mutations plus enqueues in one atomic write. */
  mutations: 1000,
  /** Most bytes one atomic write may carry (see the module doc). */
  totalMutationBytes: 819_200,
  /** Most keys a queue message may name for undelivered delivery. */
  queueUndeliveredKeys: 10,
  /** Most backoff intervals of a queue message. */
  queueBackoffIntervals: 10,
  /** Longest backoff interval, in ms. */
  queueBackoffMs: 3_600_000,
});

/** A request the peer refuses: answered with `status` and `message` as plain text. */
export class KvConnectPeerError extends Error {
  /** A stable name of the reason, e.g. "TooManyChecks". */
  readonly code: string;
  /** The HTTP status the peer answers with (4xx). */
  readonly status: number;

  /** Makes an error with a stable `code`, an HTTP `status` and a human-readable message. */
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "KvConnectPeerError";
    this.code = code;
    this.status = status;
  }
}

const L = DENOKV_LIMITS;

/** Throws a {@link KvConnectPeerError} when a snapshot read exceeds `denokv`'s limits. */
export function checkReadLimits(ranges: readonly WireReadRange[]): void {
  if (ranges.length > L.readRanges) {
    throw new KvConnectPeerError(
      "TooManyReadRanges",
      `too many read ranges: ${ranges.length} > ${L.readRanges}`,
    );
  }
  let total = 0;
  for (const r of ranges) {
    if (!Number.isInteger(r.limit) || r.limit <= 0) {
      throw new KvConnectPeerError(
        "InvalidReadRangeLimit",
        `invalid read range limit ${r.limit}`,
      );
    }
    if (r.start.length > L.readKeyBytes || r.end.length > L.readKeyBytes) {
      throw new KvConnectPeerError("KeyTooLong", `read range key longer than ${L.readKeyBytes}`);
    }
    total += r.limit;
  }
  if (total > L.readEntries) {
    throw new KvConnectPeerError(
      "ReadRangeTooLarge",
      `read asks for ${total} entries, more than ${L.readEntries}`,
    );
  }
}

/** Throws a {@link KvConnectPeerError} when an atomic write exceeds `denokv`'s limits or is malformed. */
export function checkWriteLimits(write: WireAtomicWrite): void {
  if (write.checks.length > L.checks) {
    throw new KvConnectPeerError(
      "TooManyChecks",
      `too many checks: ${write.checks.length} > ${L.checks}`,
    );
  }
  const count = write.mutations.length + write.enqueues.length;
  if (count > L.mutations) {
    throw new KvConnectPeerError(
      "TooManyMutations",
      `too many mutations: ${count} > ${L.mutations}`,
    );
  }
  let total = 0;
  for (const c of write.checks) {
    if (c.key.length > L.readKeyBytes) {
      throw new KvConnectPeerError("KeyTooLong", `check key longer than ${L.readKeyBytes}`);
    }
    if (c.versionstamp.length !== 0 && c.versionstamp.length !== 10) {
      throw new KvConnectPeerError(
        "InvalidVersionstamp",
        `a check's versionstamp must be empty or 10 bytes, not ${c.versionstamp.length}`,
      );
    }
    total += c.key.length;
  }
  for (const m of write.mutations) {
    if (m.key.length > L.writeKeyBytes) {
      throw new KvConnectPeerError("KeyTooLong", `mutation key longer than ${L.writeKeyBytes}`);
    }
    const size = m.value?.data.length ?? 0;
    if (size > L.valueBytes) {
      throw new KvConnectPeerError("ValueTooLong", `value longer than ${L.valueBytes}`);
    }
    total += m.key.length + size;
    checkMutationShape(m.kind, m.value, expireAtMs(m.expire_at_ms));
  }
  for (const e of write.enqueues) {
    total += e.payload.length;
    if (e.keys_if_undelivered.length > L.queueUndeliveredKeys) {
      throw new KvConnectPeerError("TooManyQueueUndeliveredKeys", "too many undelivered keys");
    }
    for (const k of e.keys_if_undelivered) total += k.length;
    if (e.backoff_schedule.length > L.queueBackoffIntervals) {
      throw new KvConnectPeerError("TooManyQueueBackoffIntervals", "too many backoff intervals");
    }
    for (const ms of e.backoff_schedule) {
      if (ms > L.queueBackoffMs) {
        throw new KvConnectPeerError("QueueBackoffIntervalTooLarge", "backoff interval too long");
      }
      total += 4;
    }
  }
  if (total > L.totalMutationBytes) {
    throw new KvConnectPeerError(
      "AtomicWriteTooLarge",
      `atomic write carries ${total} bytes, more than ${L.totalMutationBytes}`,
    );
  }
}

/** An expiry on the wire as a plain number of ms (protobufjs gives a Long for int64). */
export function expireAtMs(v: number | { toNumber(): number }): number {
  return typeof v === "number" ? v : v.toNumber();
}

function checkMutationShape(
  kind: number,
  value: { data: Uint8Array; encoding: number } | null | undefined,
  expireAt: number,
): void {
  if (expireAt < -1) {
    throw new KvConnectPeerError("InvalidMutationExpireAt", `invalid expiry ${expireAt}`);
  }
  const known = kind === MutationKind.SET || kind === MutationKind.DELETE ||
    kind === MutationKind.SUM || kind === MutationKind.MIN || kind === MutationKind.MAX ||
    kind === MutationKind.SET_SUFFIX_VERSIONSTAMPED_KEY;
  if (!known || (kind !== MutationKind.DELETE && !value)) {
    throw new KvConnectPeerError("InvalidMutationKind", `invalid mutation kind ${kind}`);
  }
  if (!value || kind === MutationKind.DELETE) return;
  // denokv decodes every operand: an unknown encoding or an LE64 of the wrong length is refused.
  const { encoding, data } = value;
  if (encoding !== Encoding.V8 && encoding !== Encoding.LE64 && encoding !== Encoding.BYTES) {
    throw new KvConnectPeerError("DecodeError", `unknown value encoding ${encoding}`);
  }
  if (encoding === Encoding.LE64 && data.length !== 8) {
    throw new KvConnectPeerError("DecodeError", `a u64 value must be 8 bytes, not ${data.length}`);
  }
}
