/**
 * One request of the CXDB binary client, from submission to its answer.
 *
 * @module
 */
import type { AppendRequest } from "../protocol/wire.ts";
import type { ArenaChunk } from "./arena.ts";

/** What recovery matches a lost append's turn by (its request: contentHash is 32 bytes). */
export type AppendIdentity = Pick<
  AppendRequest,
  "contextId" | "parentTurnId" | "typeId" | "typeVersion" | "contentHash" | "fsRootHash"
>;

/**
 * Where a request's outcome goes: a promise's resolve and reject, or an
 * object of the caller's (the turn store's appends) that finishes the call
 * itself, which saves a promise and a microtask hop per request. Called from
 * the read loop, so neither method may throw.
 */
export interface RequestSink<T = unknown> {
  /** The answer's payload; for APPEND_TURN, the decoded {@link WireAppended}. */
  answered(answer: T): void;
  /** The request failed (a typed client error, or a protocol error). */
  failed(error: Error): void;
  /**
   * For an append: its content hash as hex, which the decoded answer then
   * reuses when the server echoes the same hash (no second hex string).
   */
  readonly sentHashHex?: string;
}

/** One request, from submission to its answer. Methods, not closures: there is one per append. */
export class Pending {
  sent = false;
  settled = false;
  /** Highest turn id this client had seen when the request was sent (decimal; parsed only to recover). */
  watermark = "0";
  /** performance.now() after which the request times out. */
  deadline = Infinity;
  timeoutMs = 0;
  /** Its place among the transport's ordered deadlines (deadlines.ts), or -1. */
  slot = -1;
  /** When it was last sent, in the transport's order of sends (in_flight.ts). */
  sentSeq = 0;
  onAbort?: () => void;
  signal?: AbortSignal;
  #op: string | (() => string) | undefined;

  constructor(
    /** The request id (a number: ids count up from 1, far below 2^53). */
    readonly id: number,
    readonly msgType: number,
    /** The send arena's chunk the whole frame (header included) lies in. */
    readonly chunk: ArenaChunk,
    /** Where the frame starts in `chunk.bytes`. */
    readonly at: number,
    /** The frame's length. */
    readonly size: number,
    op: string | (() => string) | undefined,
    readonly append: AppendIdentity | undefined,
    /** Send only with nothing else in flight. */
    public isolated: boolean,
    /** Gets the outcome. */
    readonly sink: RequestSink,
  ) {
    this.#op = op;
  }

  /** The whole frame, header included; the same bytes go out again on a replay. */
  get frame(): Uint8Array {
    return this.chunk.bytes.subarray(this.at, this.at + this.size);
  }

  /** The operation's description, built on first use (only errors need it). */
  get op(): string {
    if (typeof this.#op !== "string") {
      this.#op = this.#op ? this.#op() : this.append ? describeAppend(this.append) : "request";
    }
    return this.#op;
  }
}

/** How errors name an append: "APPEND_TURN (context 5, parent 0, type t v1)". */
export function describeAppend(a: AppendIdentity): string {
  const root = a.fsRootHash === undefined
    ? ""
    : `, fs root ${typeof a.fsRootHash === "string" ? a.fsRootHash : "(32 bytes)"}`;
  return `APPEND_TURN (context ${a.contextId}, parent ${a.parentTurnId}, type ${a.typeId} v${a.typeVersion}${root})`;
}
