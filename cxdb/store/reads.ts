/**
 * The CXDB store's reads that have no binary route: a page of history
 * before a turn (beforeTurnId paging) and one turn by id (getTurn). They use
 * the HTTP read API when configured, the store's index of what it has seen,
 * and otherwise a throwaway fork (CTX_FORK of the turn, then GET_LAST).
 *
 * @module
 */
import { blake3Hex, ROOT_TURN_ID } from "@forge/turnstore";
import type { StoredTurn } from "@forge/turnstore";
import { BackendError, foreignCursor } from "@forge/turnstore/backend";
import type { CxdbClient } from "../client/client.ts";
import type { CxdbHttpClient, HttpTurn } from "../http/client.ts";
import { base64Bytes } from "../http/shapes.ts";
import type { CxdbCall } from "./failures.ts";
import { storedTurn, type TurnIndex } from "./turn_index.ts";

/** What the reads use: the store's index, its clients and its call wrapper. */
export interface ReadRoutes {
  readonly index: TurnIndex;
  readonly client: CxdbClient;
  readonly http?: CxdbHttpClient;
  readonly call: CxdbCall;
}

/** A page of a context's history (validated arguments), oldest → newest. */
export async function listTurnsPage(
  r: ReadRoutes,
  contextId: string,
  beforeTurnId: string | undefined,
  limit: number,
): Promise<StoredTurn[]> {
  const { index, client, call } = r;
  if (beforeTurnId === undefined) {
    const turns = await call(() => client.getLast(contextId, limit, true), {
      resource: "context",
      id: contextId,
    });
    return turns.map((t) => storedTurn(index.noteWire(contextId, t), t.payload!));
  }
  if (beforeTurnId === ROOT_TURN_ID) {
    await index.getHead(contextId);
    return [];
  }
  await index.getHead(contextId);
  const before = await index.meta(beforeTurnId);
  if (!(await index.inHistory(contextId, before))) throw foreignCursor(contextId, beforeTurnId);
  if (before.parentTurnId === ROOT_TURN_ID) return [];
  if (r.http) {
    const page = await call(
      () =>
        r.http!.turns(contextId, {
          beforeTurnId,
          limit,
          view: "raw",
          bytesRender: "base64",
        }),
      { resource: "turn", id: beforeTurnId },
    );
    // The page must be the history just below the cursor, each turn the
    // child of the one before: a page that is not (a broken proxy, a
    // server that lost track) is refused before anything of it is noted.
    const payloads = page.turns.map((t) => checkedPayload(r, t));
    let parent = page.turns[0]?.parent_turn_id;
    page.turns.forEach((t, i) => {
      if (
        t.parent_turn_id !== parent ||
        (i === page.turns.length - 1 && t.turn_id !== before.parentTurnId)
      ) {
        throw new BackendError(
          `CXDB at ${r.client.address}: the HTTP page of context ${contextId} before turn ${beforeTurnId} ` +
            `is not that turn's history (turn ${t.turn_id} at position ${i})`,
        );
      }
      parent = t.turn_id;
    });
    return page.turns.map((t, i) => fromHttp(index, contextId, t, payloads[i]));
  }
  // No HTTP: the history before a turn is its parent's history.
  const fork = await call(() => client.forkContext(before.parentTurnId));
  const turns = await call(() => client.getLast(fork.contextId, limit, true));
  return turns.map((t) => storedTurn(index.noteWire(contextId, t), t.payload!));
}

/** One turn by id (validated, not the root). */
export async function readTurn(r: ReadRoutes, turnId: string): Promise<StoredTurn> {
  const { index, client, call } = r;
  const meta = index.turns.get(turnId);
  if (meta) {
    // Cheapest routes first: the turn heads its context, or its child is known (HTTP page before it).
    let child = index.chains.get(meta.contextId)?.get(meta.depth + 1);
    if (!child) {
      const head = await index.getHead(meta.contextId).catch(() => undefined);
      if (head?.headTurnId === turnId) {
        const [newest] = await call(() => client.getLast(meta.contextId, 1, true));
        if (newest?.turnId === turnId) return storedTurn(meta, newest.payload!);
      } else if (head && r.http && head.headDepth > meta.depth) {
        child = await index.chainAt(meta.contextId, meta.depth + 1).catch(() => undefined);
      }
    }
    if (child && r.http) {
      const page = await r.http.turns(meta.contextId, {
        beforeTurnId: child,
        limit: 1,
        view: "raw",
        bytesRender: "base64",
      }).catch(() => undefined);
      const t = page?.turns[0];
      if (t?.turn_id === turnId) return fromHttp(index, meta.contextId, t, checkedPayload(r, t));
    }
  }
  const { meta: m, payload } = await index.readByFork(turnId);
  return storedTurn(m, payload);
}

/**
 * A turn's payload from an HTTP page, checked against the hash the page gives
 * and against the hash the store already knows for that turn: never bytes
 * other than those the turn was stored with.
 */
function checkedPayload(r: ReadRoutes, t: HttpTurn): CheckedPayload {
  const op = `CXDB at ${r.client.address}: turn ${t.turn_id} read over HTTP`;
  const payload = t.bytes_b64 !== undefined ? base64Bytes(op, t.bytes_b64) : new Uint8Array();
  const known = r.index.turns.get(t.turn_id)?.contentHash;
  const hash = blake3Hex(payload);
  for (const want of [t.content_hash_b3, known]) {
    if (want !== undefined && want !== hash) {
      throw new BackendError(`${op} has bytes of hash ${hash}, expected ${want}`);
    }
  }
  return { payload, hash };
}

/** An HTTP turn's payload and its BLAKE3, computed once. */
interface CheckedPayload {
  readonly payload: Uint8Array;
  readonly hash: string;
}

function fromHttp(
  index: TurnIndex,
  contextId: string,
  t: HttpTurn,
  { payload, hash }: CheckedPayload,
): StoredTurn {
  const meta = index.noteWire(contextId, {
    turnId: t.turn_id,
    parentTurnId: t.parent_turn_id,
    depth: t.depth,
    typeId: t.declared_type.type_id,
    typeVersion: t.declared_type.type_version,
    encoding: 1,
    compression: 0,
    uncompressedLength: payload.length,
    contentHash: hash,
  });
  return storedTurn(meta, payload, hash);
}
