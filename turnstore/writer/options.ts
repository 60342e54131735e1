/**
 * What a record writer is given: its options, where it opens, how it forks,
 * and what it needs of a record type and of a key format.
 *
 * @module
 */
import type { ContextId, TurnId } from "../core/ids.ts";
import type { ForgeStore } from "../core/types.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import type { PersistenceMode, RetryPolicy } from "./policy.ts";

/**
 * What a writer needs of a record type: the part of `RecordType`
 * (`@forge/turnstore/records`) it uses, so this module loads no record DSL.
 */
export interface WritableRecord<V> {
  /** Registry type id. */
  readonly typeId: string;
  /** Registry version. */
  readonly version: number;
  /** Validates and encodes a value; throws naming the bad field. */
  encode(value: V): Uint8Array;
}

/**
 * Makes the idempotency key of one write from its position in the writer
 * (1 for the first write, counted from `open`'s `sequence`) and its event
 * name. Called synchronously when the write is asked for. Keys are scoped to
 * one context, so the same function may serve a writer and its forks.
 */
export type WriteKey = (sequence: number, event: string) => string;

/** Options of {@link RecordWriter}. */
export interface RecordWriterOptions {
  /** The store; may be absent only in mode `off`. */
  readonly store?: ForgeStore;
  /** The mode. */
  readonly mode: PersistenceMode;
  /** The idempotency key of each write. */
  readonly key: WriteKey;
  /** Names the writer in messages, e.g. "session s-1"; default "context <id>". */
  readonly label?: string;
  /** Published once by `RecordWriter.open`, so readers can decode the records. */
  readonly bundle?: RegistryBundle;
  /** Receives each write that failed for good in mode `best_effort`. */
  readonly onWarning?: (message: string, error: unknown) => void;
  /** Retry policy; default `DEFAULT_RETRY`. */
  readonly retry?: RetryPolicy;
  /**
   * Most writes in flight at once, 1 or more. Default:
   * {@link DEFAULT_PIPELINE_WINDOW} on the in-process backends whose appends
   * keep call order ("memory", "kv", "fs"), 1 on others. Writes released
   * together go to the store together: when the window cannot take all of
   * them, they wait until it can, or until it is empty and then go a full
   * window at a time (never one write per answer that frees a place).
   */
  readonly pipelineWindow?: number;
  /**
   * How long write-behind records ({@link RecordWriter.enqueue}) may wait to
   * be handed to the store together. Default {@link DEFAULT_WRITE_BEHIND_HOLD}
   * when the writer pipelines (`pipelineWindow` above 1); `NO_HOLD` sends each
   * record at once. An awaited `append`, `flush`, `settle`, `fork` and `close`
   * release held records at once.
   */
  readonly hold?: WriteBehindHold;
}

/**
 * The bound on holding write-behind records: the held records are handed to
 * the store, in order and in one tick (so a group-commit store takes them in
 * one commit or one sync), when the oldest has waited `maxMs`, when
 * `maxRecords` are held, or at once when an awaited call needs them; a
 * release that finds the pipeline window too full to take it whole waits
 * for room, as writes beyond the window always have.
 *
 * What it changes in mode `required`: a failing store is noticed at most one
 * hold after the failing record was queued (at most `maxRecords` records or
 * `maxMs` later, plus the store's answer and the retries), so a caller that
 * checks {@link RecordWriter.throwIfFailed} between steps may take that many
 * more steps before it stops. An awaited call never waits on a hold.
 */
export interface WriteBehindHold {
  /** Longest a record waits before it is handed to the store, in ms (0: not held). */
  readonly maxMs: number;
  /** Most records held at once, 1 or more (1: not held); the one that reaches it releases all. */
  readonly maxRecords: number;
}

/** No hold: each write-behind record is handed to the store when it is queued. */
export const NO_HOLD: WriteBehindHold = Object.freeze({ maxMs: 0, maxRecords: 1 });

/**
 * The default hold. Measured on the agent's write-behind load (see
 * bench/README.md, "agent write path"): 2 ms or 128 records took a lean
 * 2,000-record session on kv from 92–183 commits to 28–60. Once kv stored a
 * commit's turns of a context in a few rows (turn packs), a commit's own cost
 * (~150 µs on the caller's thread, 250–400 µs on SQLite's) outweighed its
 * records', and 5 ms or 256 records cut the other threads' CPU per record
 * by about a third again (eighth pass there); longer holds measured no better.
 */
export const DEFAULT_WRITE_BEHIND_HOLD: WriteBehindHold = Object.freeze({
  maxMs: 5,
  maxRecords: 256,
});

/** Throws TypeError unless `hold` is a usable bound. */
export function checkHold(hold: WriteBehindHold): void {
  if (
    typeof hold !== "object" || hold === null || !(hold.maxMs >= 0) ||
    !Number.isFinite(hold.maxMs) || !Number.isInteger(hold.maxRecords) || hold.maxRecords < 1
  ) {
    throw new TypeError(
      `hold.maxMs must be a finite number of 0 or more and hold.maxRecords an integer of 1 or ` +
        `more, got ${JSON.stringify(hold)}`,
    );
  }
}

/** Where `RecordWriter.open` starts. Give at most one of `forkFrom` and `contextId`. */
export interface OpenWriterOptions {
  /** Start a new context forked from this turn ("0" or absent: a new empty context). */
  readonly forkFrom?: TurnId;
  /** Go on appending to this existing context, from its current head. */
  readonly contextId?: ContextId;
  /**
   * Writes already made to the context under this writer's key function; the
   * next write's key gets `sequence + 1`. Use it when resuming a context, so
   * new writes do not reuse the keys of earlier ones. Default 0.
   */
  readonly sequence?: number;
}

/** Options of {@link RecordWriter.fork}; what is not given is the parent writer's. */
export interface ForkWriterOptions {
  /** Fork from this turn instead of the parent writer's head. */
  readonly at?: TurnId;
  /** The child's key function. */
  readonly key?: WriteKey;
  /** The child's label. */
  readonly label?: string;
  /** The child's warning sink. */
  readonly onWarning?: (message: string, error: unknown) => void;
}

/**
 * Default in-flight writes on backends that keep call order. A wider window
 * lets the kv store chain more records into each commit: 256 took the
 * agent-like write-behind load from ~50 to ~39 µs of CPU per record on kv
 * (and left fs, which batches by sync, where it was); 256 records of two
 * mutations each still fit one KV commit.
 */
export const DEFAULT_PIPELINE_WINDOW = 256;
