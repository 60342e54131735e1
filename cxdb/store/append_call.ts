/**
 * One plain append of the CXDB store under way: the only promise made for it,
 * settled straight from the client's read loop (the store hands this object
 * to `CxdbClient.appendTurnTo` as the append's sink), instead of a promise per
 * layer with a microtask hop each.
 *
 * @module
 */
import type { AppendedTurn } from "@forge/turnstore";
import type { ValidAppend } from "@forge/turnstore/backend";
import type { AppendSink } from "../client/client.ts";
import type { WireAppended } from "../protocol/wire.ts";
import { type Gate, leave } from "./gate.ts";

/** What the store does with an append's outcome. */
export interface AppendFinisher {
  /** Checks the answer and records the turn; may need a read to learn the parent. */
  appended(
    req: ValidAppend,
    contentHash: string,
    answer: WireAppended,
    hash: Uint8Array,
  ): AppendedTurn | Promise<AppendedTurn>;
  /** The contract's error for a client error of this append. */
  failure(req: ValidAppend, error: Error): Error;
}

/** A plain append sent through the context's gate `gate`; leaves it when settled. */
export class AppendCall implements AppendSink {
  /** Settles with the appended turn or the contract's error. */
  readonly promise: Promise<AppendedTurn>;
  #resolve!: (turn: AppendedTurn) => void;
  #reject!: (error: unknown) => void;

  constructor(
    readonly finisher: AppendFinisher,
    readonly req: ValidAppend,
    /** The payload's BLAKE3, hex; the decoded answer reuses it when the server echoes it. */
    readonly sentHashHex: string,
    /** The same hash as bytes, as sent (the client takes it from here). */
    readonly sentHash: Uint8Array,
    readonly gate: Gate,
  ) {
    this.promise = new Promise<AppendedTurn>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** The server's answer: the turn is recorded and the caller gets it. */
  answered(answer: WireAppended): void {
    let turn: AppendedTurn | Promise<AppendedTurn>;
    try {
      turn = this.finisher.appended(this.req, this.sentHashHex, answer, this.sentHash);
    } catch (error) {
      return this.failed(error as Error, false);
    }
    if (turn instanceof Promise) {
      turn.then((t) => this.#done(t), (error) => this.failed(error, false));
    } else {
      this.#done(turn);
    }
  }

  /** The append failed; a client error becomes the contract's. */
  failed(error: Error, fromClient = true): void {
    leave(this.gate);
    this.#reject(fromClient ? this.finisher.failure(this.req, error) : error);
  }

  #done(turn: AppendedTurn): void {
    leave(this.gate);
    this.#resolve(turn);
  }
}
