/**
 * What the CXDB store knows of turns: each turn's metadata and, per context,
 * which turn sits at which depth, learnt from every answer the server gives
 * and filled from the server on demand. It also translates depths: CXDB
 * numbers a first turn 0, the contract 1 (an empty context is head "0",
 * depth 0 in both).
 *
 * @module
 */
import { BackendError, blake3Hex, NotFoundError, ROOT_TURN_ID } from "@forge/turnstore";
import type { ContextHead, StoredTurn } from "@forge/turnstore";
import type { CxdbClient } from "../client/client.ts";
import type { WireHead, WireTurn } from "../protocol/wire.ts";
import type { CxdbCall } from "./failures.ts";
import { Chain, type TurnMeta, TurnTable } from "./turn_table.ts";

export { Chain, type TurnMeta, TurnTable } from "./turn_table.ts";

/** A context head from the server's, with the contract's depth. */
export function contextHead(h: WireHead): ContextHead {
  return {
    contextId: h.contextId,
    headTurnId: h.headTurnId,
    headDepth: h.headTurnId === ROOT_TURN_ID ? 0 : h.headDepth + 1,
  };
}

/**
 * A stored turn from its metadata and payload. The payload must have the
 * turn's hash: a server (or a connection) that hands back other bytes is a
 * BackendError, never a turn with bytes it was not stored with. One hash per
 * turn read: pass `hash` when it is known, not to hash twice.
 */
export function storedTurn(
  meta: TurnMeta,
  payload: Uint8Array,
  /** The payload's BLAKE3, when the caller has computed it already. */
  hash: string = blake3Hex(payload),
): StoredTurn {
  if (hash !== meta.contentHash) {
    throw new BackendError(
      `CXDB returned ${payload.length} bytes for turn ${meta.turnId} of hash ${hash}, ` +
        `not the turn's hash ${meta.contentHash}`,
    );
  }
  return {
    turnId: meta.turnId,
    parentTurnId: meta.parentTurnId,
    depth: meta.depth,
    typeId: meta.typeId,
    typeVersion: meta.typeVersion,
    payload,
    contentHash: meta.contentHash,
  };
}

/** The store's index of turns and context chains, filled through `client`. */
export class TurnIndex {
  /** Turn id → metadata. */
  readonly turns = new TurnTable();
  /** Per context: contract depth → turn id. Valid because a context only grows at its head. */
  readonly chains = new Map<string, Chain>();
  readonly #client: CxdbClient;
  readonly #call: CxdbCall;

  /** An empty index asking `client`, through `call`, for what it lacks. */
  constructor(client: CxdbClient, call: CxdbCall) {
    this.#client = client;
    this.#call = call;
  }

  /** A context's chain, created on first use. */
  chain(contextId: string): Chain {
    let c = this.chains.get(contextId);
    if (!c) this.chains.set(contextId, c = new Chain());
    return c;
  }

  /** Notes a context's head turn at its depth; returns the head. */
  noteHead(head: ContextHead): ContextHead {
    if (head.headTurnId !== ROOT_TURN_ID) {
      this.chain(head.contextId).set(head.headDepth, head.headTurnId);
    }
    return head;
  }

  /** Notes a turn the server sent, read from `contextId`; returns its metadata. */
  noteWire(contextId: string, t: WireTurn): TurnMeta {
    const meta: TurnMeta = {
      turnId: t.turnId,
      parentTurnId: t.parentTurnId,
      depth: t.depth + 1,
      typeId: t.typeId,
      typeVersion: t.typeVersion,
      contentHash: t.contentHash,
      contextId,
    };
    this.turns.set(meta.turnId, meta);
    this.chain(contextId).set(meta.depth, meta.turnId);
    return meta;
  }

  /** Fetches a context's head; NotFound when the server does not know it. */
  async getHead(contextId: string): Promise<ContextHead> {
    const wire = await this.#call(() => this.#client.getHead(contextId), {
      resource: "context",
      id: contextId,
    });
    return this.noteHead(contextHead(wire));
  }

  /** The turn at contract depth `depth` of a context's history, or undefined past the head. */
  async chainAt(contextId: string, depth: number): Promise<string | undefined> {
    if (depth === 0) return ROOT_TURN_ID;
    const known = this.chains.get(contextId)?.get(depth);
    if (known !== undefined) return known;
    const head = await this.getHead(contextId);
    if (depth > head.headDepth) return undefined;
    const turns = await this.#call(
      () => this.#client.getLast(contextId, head.headDepth - depth + 1, false),
      { resource: "context", id: contextId },
    );
    for (const t of turns) this.noteWire(contextId, t);
    return this.chains.get(contextId)?.get(depth);
  }

  /** Reads one turn (with payload) through a throwaway fork: CTX_FORK(turn), GET_LAST(fork, 1). */
  async readByFork(turnId: string): Promise<{ meta: TurnMeta; payload: Uint8Array }> {
    const fork = await this.#call(() => this.#client.forkContext(turnId), {
      resource: "turn",
      id: turnId,
    });
    const [t] = await this.#call(() => this.#client.getLast(fork.contextId, 1, true));
    if (!t || t.turnId !== turnId) {
      throw new BackendError(
        `CXDB fork of turn ${turnId} (context ${fork.contextId}) did not head at it`,
      );
    }
    const prior = this.turns.get(turnId);
    const meta = prior ?? this.noteWire(fork.contextId, t);
    return { meta, payload: t.payload ?? new Uint8Array() };
  }

  /** A turn's metadata: from the index, else from the server. */
  async meta(turnId: string): Promise<TurnMeta> {
    if (turnId === ROOT_TURN_ID) {
      throw new NotFoundError("turn", turnId);
    }
    return this.turns.get(turnId) ?? (await this.readByFork(turnId)).meta;
  }

  /** True when the turn is in the context's history. */
  async inHistory(contextId: string, meta: TurnMeta): Promise<boolean> {
    return (await this.chainAt(contextId, meta.depth)) === meta.turnId;
  }
}
