/**
 * Lost-append recovery. An append is never simply re-sent after its
 * connection dropped: the client first looks at the context's newest turns
 * for a turn it cannot otherwise account for with the same type, version,
 * BLAKE3 hash (and parent), created after the append was sent; if there is
 * one the append did happen and its lost answer is rebuilt, else it is sent
 * again.
 *
 * @module
 */
import { toHex } from "@forge/turnstore";
import {
  decodeTurns,
  encodeGetLast,
  MsgType,
  type WireAppended,
  type WireTurn,
} from "../protocol/wire.ts";
import { ConnectionDroppedError } from "./errors.ts";
import type { Pending } from "./pending.ts";
import type { Transport } from "./transport.ts";

/** Newest turns asked for first; the window grows fourfold up to {@link MAX_WINDOW}. */
export const FIRST_WINDOW = 64;
/** The largest window of newest turns searched for a lost append. */
export const MAX_WINDOW = 65_536;

/** What identifies the turn an append created. */
export interface LostAppend {
  /** Context appended to. */
  readonly contextId: string;
  /** Parent asked for; "0" = the head at the time. */
  readonly parentTurnId: string;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** BLAKE3 of the payload, hex. */
  readonly contentHash: string;
}

/**
 * The turn among `turns` (newest of a context) that an append of `a` sent
 * when the client had seen turns up to `watermark` created and no answer has
 * claimed yet, or undefined.
 */
export function findLostTurn(
  transport: Transport,
  turns: WireTurn[],
  a: LostAppend,
  watermark: bigint,
): WireTurn | undefined {
  return turns.find((t) =>
    BigInt(t.turnId) > watermark && !transport.isClaimed(t.turnId) &&
    t.typeId === a.typeId && t.typeVersion === a.typeVersion &&
    t.contentHash === a.contentHash &&
    (a.parentTurnId === "0" || t.parentTurnId === a.parentTurnId)
  );
}

/**
 * Decides whether the unanswered append `p` happened: looks for a turn it can
 * account for among the context's newest turns, answers `p` from it, and
 * re-sends `p` only when there is none.
 */
export async function recoverLostAppend(transport: Transport, p: Pending): Promise<void> {
  const a = p.append!;
  const watermark = BigInt(p.watermark);
  const identity: LostAppend = {
    ...a,
    contentHash: typeof a.contentHash === "string" ? a.contentHash : toHex(a.contentHash),
  };
  try {
    let limit = FIRST_WINDOW;
    for (;;) {
      const op = `GET_LAST (context ${a.contextId}, checking whether ${p.op} was stored)`;
      const answer = await transport.submit(
        MsgType.GET_LAST,
        0,
        encodeGetLast(a.contextId, limit, false),
        op,
        {},
        undefined,
        { isolated: p.isolated, front: p.isolated },
      ).catch((error) => {
        throw error instanceof ConnectionDroppedError
          ? new ConnectionDroppedError(p.op, { cause: error })
          : error;
      });
      if (p.settled) return;
      const turns = decodeTurns(answer, false);
      const match = findLostTurn(transport, turns, identity, watermark);
      if (match) {
        transport.claim(match.turnId);
        transport.stats.recoveredAppends++;
        const rebuilt: WireAppended = {
          contextId: a.contextId,
          turnId: match.turnId,
          depth: match.depth,
          contentHash: match.contentHash,
        };
        transport.ok(p, rebuilt);
        return;
      }
      const reachedWatermark = turns.length < limit ||
        (turns.length > 0 && BigInt(turns[0].turnId) <= watermark);
      if (reachedWatermark || limit >= MAX_WINDOW) break;
      limit *= 4;
    }
    if (p.settled) return;
    transport.stats.resentAppends++;
    transport.requeue(p);
  } catch (error) {
    transport.fail(p, error as Error);
  }
}
