/**
 * The messages between a {@link ThreadStore} and its worker. Calls made in
 * one tick travel as one `calls` message, answers ready together as one
 * `answers` message. The hot path — appends and their answers — travels as
 * one JSON string per message plus the payload bytes packed into a few
 * buffers: posting a string costs a fraction of posting the same entries as
 * arrays (the worker-to-caller direction most: ~3×, measured on Deno 2.9).
 * Every other call and answer is plain data for structured clone, referred to
 * by its index in `extras`.
 *
 * @module
 */
import type { CommitStats } from "../kv/budget.ts";
import type { WireError } from "./wire_errors.ts";

/** The ForgeStore methods the worker forwards, and nothing else. */
export const STORE_METHODS = [
  "createContext",
  "forkContext",
  "appendTurn",
  "getHead",
  "listTurns",
  "getTurn",
  "listContexts",
  "putBlob",
  "getBlob",
  "hasBlob",
  "attachFs",
  "getFsRoot",
  "publishRegistryBundle",
  "getRegistryBundle",
] as const;

/** One forwarded method's name. */
export type StoreMethod = typeof STORE_METHODS[number];

/** The method slot of an append sent on the packed path. */
export const PACKED_APPEND = -1;

/**
 * An append on the packed path: its payload is bytes `offset` to
 * `offset + length` of buffer `buffer` of the message; absent options are null.
 */
export type PackedAppend = readonly [
  id: number,
  method: typeof PACKED_APPEND,
  contextId: string,
  typeId: string,
  typeVersion: number,
  buffer: number,
  offset: number,
  length: number,
  idempotencyKey: string | null,
  parentTurnId: string | null,
  fsRootHash: string | null,
];

/** Any other call: its arguments are `extras[extra]` of the message. */
export type CloneCall = readonly [id: number, method: number, extra: number];

/** One entry of a `calls` message's JSON. */
export type CallEntry = PackedAppend | CloneCall;

/** Answer kinds. */
export const ANSWER_APPENDED = 0;
/** A failure: the entry carries the error as plain data. */
export const ANSWER_FAILED = 1;
/** Any other result: `extras[extra]` of the message. */
export const ANSWER_VALUE = 2;

/** One entry of an `answers` message's JSON. */
export type AnswerEntry =
  | readonly [
    id: number,
    kind: typeof ANSWER_APPENDED,
    contextId: string,
    turnId: string,
    parentTurnId: string,
    depth: number,
    contentHash: string,
    deduplicated: boolean,
  ]
  | readonly [id: number, kind: typeof ANSWER_FAILED, error: WireError]
  | readonly [id: number, kind: typeof ANSWER_VALUE, extra: number];

/** Caller → worker. */
export type ToWorker =
  | { readonly t: "open"; readonly url: string; readonly countCommits: boolean }
  | {
    readonly t: "calls";
    /** JSON of the {@link CallEntry} list. */
    readonly json: string;
    /** The packed payloads. */
    readonly buffers: readonly ArrayBuffer[];
    /** Arguments of the other calls. */
    readonly extras: readonly unknown[];
  }
  | { readonly t: "close" };

/** Worker → caller. */
export type FromWorker =
  | { readonly t: "ready" }
  | { readonly t: "opened"; readonly backend: string }
  | { readonly t: "open_failed"; readonly error: WireError }
  | {
    readonly t: "answers";
    /** JSON of the {@link AnswerEntry} list. */
    readonly json: string;
    /** Values of the other answers. */
    readonly extras?: readonly unknown[];
    /** What each kv commit since the last message carried, when counted. */
    readonly commits?: readonly CommitStats[];
  }
  | { readonly t: "closed"; readonly error?: WireError };
