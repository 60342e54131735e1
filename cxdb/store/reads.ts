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
import { foreignCursor } from "@forge/turnstore/backend";
import type { CxdbClient } from "../client/client.ts";
import type { CxdbHttpClient, HttpTurn } from "../http/client.ts";
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
    return page.turns.map((t) => fromHttp(index, contextId, t));
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
      if (t?.turn_id === turnId) return fromHttp(index, meta.contextId, t);
    }
  }
  const { meta: m, payload } = await index.readByFork(turnId);
  return storedTurn(m, payload);
}

function fromHttp(index: TurnIndex, contextId: string, t: HttpTurn): StoredTurn {
  const payload = t.bytes_b64 !== undefined ? fromBase64(t.bytes_b64) : new Uint8Array();
  const meta = index.noteWire(contextId, {
    turnId: t.turn_id,
    parentTurnId: t.parent_turn_id,
    depth: t.depth,
    typeId: t.declared_type.type_id,
    typeVersion: t.declared_type.type_version,
    encoding: 1,
    compression: 0,
    uncompressedLength: payload.length,
    contentHash: t.content_hash_b3 ?? blake3Hex(payload),
  });
  return storedTurn(meta, payload);
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
