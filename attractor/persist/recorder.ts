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
  /**
   * Appends a record now (after every held one, which it releases);
   * resolves with its turn id once stored (undefined when not stored).
   */
  write<V>(type: RecordType<V>, key: WriteKey, value: V): Promise<string | undefined>;
  /**
   * Holds a record (write-behind) until the next {@link release}, so the
   * records of one stage reach the store together and share one commit.
   * Returns a function that releases it (if still held) and resolves with its
   * turn id: call it only when the turn id is needed (an agent session forks
   * from the stage's turn). A held record is released at the latest
   * {@link HOLD_LIMIT_MS} after the first record was held, so a long stage's
   * `started` record is visible while it runs.
   */
  enqueue<V>(type: RecordType<V>, key: WriteKey, value: V): () => Promise<string | undefined>;
  /** Hands every held record to the store, in order, in one tick (one commit round). */
  release(): void;
  /** Resolves when every released record has been stored or has failed (held ones stay held). */
  drained(): Promise<void>;
  /** Stores bytes as a blob; resolves with the hash (undefined when not stored). */
  putBlob(bytes: Uint8Array): Promise<string | undefined>;
  /** A recorder on a new context forked from `turnId` (a parallel branch). */
  fork(turnId: string, label: string): Promise<RunRecorder>;
  /** Releases held records, waits for every write; throws the first failure in mode `required`. */
  settle(): Promise<void>;
  /** Throws the first failed write in mode `required` (without waiting). */
  throwIfFailed(): void;
}

/** How long a record may be held before it is released anyway (a long stage's `started`). */
export const HOLD_LIMIT_MS = 50;

const NOTHING = () => Promise.resolve(undefined);

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
  enqueue(): () => Promise<string | undefined> {
    return NOTHING;
  }
  /** Does nothing. */
  release(): void {}
  /** Nothing to wait for. */
  drained(): Promise<void> {
    return Promise.resolve();
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
