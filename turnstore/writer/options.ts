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
   * keep call order ("memory", "kv", "fs"), 1 on others.
   */
  readonly pipelineWindow?: number;
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

/** Default in-flight writes on backends that keep call order. */
export const DEFAULT_PIPELINE_WINDOW = 64;
