/**
 * The seam between the engine and persistence: the engine builds typed
 * records and hands them to a {@link RunRecorder}, which appends them to one
 * context of a turn store (or drops them, in mode `off`).
 *
 * @module
 */
import type { RecordType } from "@forge/turnstore";

/** Identifies a write for its idempotency key. */
export interface WriteKey {
  /** The node, or "" for run-level records. */
  readonly nodeId: string;
  /** The stage attempt number, or 0. */
  readonly attempt: number;
  /** The event kind, e.g. "stage_started". */
  readonly kind: string;
}

/** Appends a run attempt's records to its context. */
export interface RunRecorder {
  /** The context, once opened (undefined in mode `off`). */
  readonly contextId: string | undefined;
  /** The last turn appended (or the fork base); "0" before any. */
  readonly headTurnId: string;
  /** True unless persistence is off. */
  readonly enabled: boolean;
  /** Appends a record; resolves with its turn id (undefined when not stored). */
  write<V>(type: RecordType<V>, key: WriteKey, value: V): Promise<string | undefined>;
  /** Stores bytes as a blob; resolves with the hash (undefined when not stored). */
  putBlob(bytes: Uint8Array): Promise<string | undefined>;
  /** A recorder on a new context forked from `turnId` (a parallel branch). */
  fork(turnId: string, label: string): Promise<RunRecorder>;
  /** Waits for queued writes; throws the first failure in mode `required`. */
  settle(): Promise<void>;
  /** Throws the first failed write in mode `required` (without waiting). */
  throwIfFailed(): void;
}

/** A recorder that stores nothing (persistence `off`). */
export class NullRecorder implements RunRecorder {
  /** Always undefined. */
  readonly contextId: string | undefined = undefined;
  /** Always "0". */
  readonly headTurnId = "0";
  /** Always false. */
  readonly enabled = false;
  /** Does nothing. */
  write(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
  /** Does nothing. */
  putBlob(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
  /** Itself. */
  fork(): Promise<RunRecorder> {
    return Promise.resolve(this);
  }
  /** Nothing to wait for. */
  settle(): Promise<void> {
    return Promise.resolve();
  }
  /** Never fails. */
  throwIfFailed(): void {}
}
