/**
 * One request of the CXDB binary client, from submission to its answer.
 *
 * @module
 */
import type { AppendRequest } from "../protocol/wire.ts";

/** What recovery matches a lost append's turn by (its request: contentHash is 32 bytes). */
export type AppendIdentity = Pick<
  AppendRequest,
  "contextId" | "parentTurnId" | "typeId" | "typeVersion" | "contentHash"
>;

/** One request, from submission to its answer. Methods, not closures: there is one per append. */
export class Pending {
  sent = false;
  settled = false;
  /** Highest turn id this client had seen when the request was sent (decimal; parsed only to recover). */
  watermark = "0";
  /** performance.now() after which the request times out. */
  deadline = Infinity;
  timeoutMs = 0;
  onAbort?: () => void;
  signal?: AbortSignal;
  #op: string | (() => string);

  constructor(
    readonly id: bigint,
    readonly msgType: number,
    /** The whole frame, header included; the same bytes go out again on a replay. */
    readonly frame: Uint8Array,
    op: string | (() => string),
    readonly append: AppendIdentity | undefined,
    /** Send only with nothing else in flight. */
    public isolated: boolean,
    /** Gets the answer's payload; for APPEND_TURN, the decoded {@link WireAppended}. */
    readonly resolveFn: (answer: unknown) => void,
    readonly rejectFn: (error: Error) => void,
  ) {
    this.#op = op;
  }

  /** The operation's description, built on first use (only errors need it). */
  get op(): string {
    if (typeof this.#op !== "string") this.#op = this.#op();
    return this.#op;
  }
}
