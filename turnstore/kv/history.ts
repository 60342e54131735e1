/**
 * Reads over the context chain. A context owns the turns appended to it at
 * depths above its base; everything at or below the base lives in the base
 * turn's context, and so on up. Every chain step is one key read (and the
 * immutable part of a context is cached), so reads cost O(fork levels),
 * never O(depth).
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { blake3Hex } from "../core/hash.ts";
import type { StoredTurn } from "../core/types.ts";
import { loadBytes } from "./chunks.ts";
import { loadBodies } from "./bodies.ts";
import {
  contextKey,
  type ContextValue,
  fsKey,
  RUN_PREFIX,
  runKey,
  type RunValue,
  turnKey,
  type TurnLocation,
  turnPrefix,
  type TurnValue,
} from "./keys.ts";
import { lastTurnOfRow, readTurnRow, turnInRow } from "./turn_pack.ts";
import { LruMap } from "./lru.ts";
import { retryBusy } from "./busy.ts";
import { LIST_BATCH } from "./limits.ts";

/** The immutable part of a context: where its own segment starts. */
export interface ContextInfo {
  /** Context id. */
  readonly id: bigint;
  /** Base turn; 0n when empty-based. */
  readonly base: bigint;
  /** Depth of the base turn. */
  readonly baseDepth: number;
  /** Context of the base turn; 0n when none. */
  readonly baseCtx: bigint;
}

/** Where a context's head stands. */
export interface HeadState {
  /** The head turn; the base (or 0n) while the context has no own turn. */
  readonly head: bigint;
  /** Its depth. */
  readonly depth: number;
}

/** A turn record with its place in the store. */
export interface LocatedTurn extends TurnLocation {
  /** The record. */
  readonly value: TurnValue;
}

/** Chain-aware reads over one Deno KV. */
export class History {
  readonly #kv: Deno.Kv;
  readonly #infos: LruMap<bigint, ContextInfo>;

  /** Reads from `kv`, caching up to `cacheSize` context infos. */
  constructor(kv: Deno.Kv, cacheSize = 4096) {
    this.#kv = kv;
    this.#infos = new LruMap(cacheSize);
  }

  /** Remembers a context record (it never changes, so caching it is safe). */
  remember(id: bigint, value: ContextValue): ContextInfo {
    checkContextValue(id, value);
    const info = { id, base: value.base, baseDepth: value.baseDepth, baseCtx: value.baseCtx };
    this.#infos.set(id, info);
    return info;
  }

  /** The context's record; undefined when it does not exist. */
  async context(id: bigint): Promise<ContextInfo | undefined> {
    const cached = this.#infos.get(id);
    if (cached) return cached;
    const entry = await this.#kv.get<ContextValue>(contextKey(id));
    return entry.versionstamp === null ? undefined : this.remember(id, entry.value);
  }

  /** The immutable part of a context that must exist (a chain link). */
  async info(id: bigint): Promise<ContextInfo> {
    const info = await this.context(id);
    if (!info) throw new BackendError(`context ${id} is referenced as a fork base but is missing`);
    return info;
  }

  /**
   * The context's head, read now: its deepest own turn (the last turn of its
   * last row, which may be a pack; turn_pack.ts), or its base.
   */
  head(info: ContextInfo): Promise<HeadState> {
    return retryBusy(async () => {
      const iter = this.#kv.list<TurnValue | Uint8Array>({ prefix: turnPrefix(info.id) }, {
        reverse: true,
        limit: 1,
      });
      for await (const entry of iter) {
        const last = lastTurnOfRow(entry.value);
        return { head: last.id, depth: (entry.key[2] as number) + last.count - 1 };
      }
      return { head: info.base, depth: info.baseDepth };
    }, `reading the head of context ${info.id}`);
  }

  /**
   * The row of `ctx` that holds `depth`: the row at that depth, or the pack
   * that starts below it (one reverse range read); undefined when none does.
   */
  #rowAt(ctx: bigint, depth: number): Promise<TurnValue | undefined> {
    return retryBusy(async () => {
      const iter = this.#kv.list<TurnValue | Uint8Array>(
        { prefix: turnPrefix(ctx), end: turnKey(ctx, depth + 1) },
        { reverse: true, limit: 1 },
      );
      for await (const entry of iter) {
        return turnInRow(entry.value, depth - (entry.key[2] as number));
      }
      return undefined;
    }, "reading a turn");
  }

  /**
   * A turn by id: the run that holds it (one reverse range read), then the
   * row that holds its depth (one reverse range read of limit 1, as the row
   * may be a pack starting below it); undefined for an unknown turn.
   */
  async locate(turn: bigint): Promise<LocatedTurn | undefined> {
    const where = await this.placeOf(turn);
    if (!where) return undefined;
    const value = await this.turnAt(where, turn);
    return value && { ...where, value };
  }

  /**
   * Where `turn` would be (one reverse range read): the context and depth its
   * run gives it. Past a run's end the slot is empty or holds another turn,
   * so {@linkcode turnAt} confirms the turn is there.
   */
  async placeOf(turn: bigint): Promise<TurnLocation | undefined> {
    if (turn <= 0n) return undefined;
    const run = await retryBusy(async () => {
      const iter = this.#kv.list<RunValue>({ start: RUN_PREFIX, end: runKey(turn + 1n) }, {
        reverse: true,
        limit: 1,
      });
      for await (const entry of iter) {
        const at = entry.value as Partial<RunValue> | null;
        if (
          typeof entry.key[1] !== "bigint" || at === null || typeof at !== "object" ||
          typeof at.ctx !== "bigint" || !Number.isSafeInteger(at.depth)
        ) {
          throw new BackendError(
            `kv row ["run", ${String(entry.key[1])}] is not a run record of this store ` +
              `(is the file shared with another program?)`,
          );
        }
        return { first: entry.key[1], at: entry.value };
      }
      return undefined;
    }, "locating a turn");
    if (!run) return undefined;
    return { ctx: run.at.ctx, depth: run.at.depth + Number(turn - run.first) };
  }

  /** The record of `turn` at `loc` (one reverse range read); undefined when another turn or none is there. */
  async turnAt(loc: TurnLocation, turn: bigint): Promise<TurnValue | undefined> {
    const value = await this.#rowAt(loc.ctx, loc.depth);
    return value?.id === turn ? value : undefined;
  }

  /** The context whose own segment holds `depth` in the history of `from`. */
  async segmentAt(from: ContextInfo, depth: number): Promise<ContextInfo> {
    let cur = from;
    while (depth <= cur.baseDepth && cur.baseCtx !== 0n) cur = await this.info(cur.baseCtx);
    return cur;
  }

  /**
   * True when the turn at `loc` (one that exists) is in the history of
   * `from`. The fork chain alone decides: a turn of `from`'s own segment lies
   * at or below its head, and one of an ancestor is in the history exactly
   * when the chain puts its depth in that ancestor.
   */
  async inHistory(from: ContextInfo, loc: TurnLocation): Promise<boolean> {
    if (loc.depth < 1) return false;
    return (await this.segmentAt(from, loc.depth)).id === loc.ctx;
  }

  /** The turns at depths lo..hi (inclusive) of `from`'s history, oldest first. */
  async range(from: ContextInfo, lo: number, hi: number): Promise<LocatedTurn[]> {
    const parts: LocatedTurn[][] = [];
    let cur = from;
    while (hi >= lo) {
      cur = await this.segmentAt(cur, hi);
      const segLo = Math.max(lo, cur.baseDepth + 1);
      const want = hi - segLo + 1;
      const part = await retryBusy(() => this.#segment(cur.id, segLo, hi), "reading turns");
      if (part.length !== want) {
        throw new BackendError(
          `context ${cur.id} should hold ${want} turns at depths ${segLo}..${hi}, found ${part.length}`,
        );
      }
      parts.push(part);
      hi = segLo - 1;
    }
    return parts.reverse().flat();
  }

  /**
   * The own turns of `ctx` at depths lo..hi, in one round trip: the row
   * that holds `lo` (it may be a pack that starts below it: a reverse read of
   * limit 1) and the rows that start above it (a range read), read at once
   * rather than one after the other. Rows never overlap, so the two meet
   * without a gap or a turn twice.
   */
  async #segment(ctx: bigint, lo: number, hi: number): Promise<LocatedTurn[]> {
    const [first, rest] = await Promise.all([
      this.#rowHolding(ctx, lo, hi),
      lo < hi ? this.#rowsFrom(ctx, lo + 1, hi) : [],
    ]);
    return first.length === 0 ? rest : rest.length === 0 ? first : first.concat(rest);
  }

  /** The turns from `lo` on (to at most `hi`) of the row whose key is at or below `lo`. */
  async #rowHolding(ctx: bigint, lo: number, hi: number): Promise<LocatedTurn[]> {
    const part: LocatedTurn[] = [];
    const iter = this.#kv.list<TurnValue | Uint8Array>(
      { prefix: turnPrefix(ctx), end: turnKey(ctx, lo + 1) },
      { reverse: true, limit: 1 },
    );
    for await (const entry of iter) pushRow(part, ctx, entry.key[2] as number, entry.value, lo, hi);
    return part;
  }

  /** The turns of the rows of `ctx` whose keys lie in lo..hi. */
  async #rowsFrom(ctx: bigint, lo: number, hi: number): Promise<LocatedTurn[]> {
    const part: LocatedTurn[] = [];
    const iter = this.#kv.list<TurnValue | Uint8Array>(
      { start: turnKey(ctx, lo), end: turnKey(ctx, hi + 1) },
      // Small batches: big ones make V8 keep a much larger heap while paging.
      { batchSize: Math.min(hi - lo + 1, LIST_BATCH) },
    );
    for await (const entry of iter) pushRow(part, ctx, entry.key[2] as number, entry.value, lo, hi);
    return part;
  }

  /** The tree root attached to the turn at `loc` itself. */
  async ownFsRoot(loc: TurnLocation): Promise<string | undefined> {
    const entry = await this.#kv.get<string>(fsKey(loc.ctx, loc.depth));
    return entry.versionstamp === null ? undefined : entry.value;
  }

  /**
   * The nearest tree root at or above `loc`: one reverse range read per
   * context of the chain, not one read per ancestor.
   */
  async nearestFsRoot(loc: TurnLocation): Promise<string | undefined> {
    let ctx = loc.ctx;
    let depth = loc.depth;
    for (;;) {
      const [c, d] = [ctx, depth];
      const found = await retryBusy(async () => {
        const iter = this.#kv.list<string>(
          { start: ["fs", c], end: fsKey(c, d + 1) },
          { reverse: true, limit: 1 },
        );
        for await (const entry of iter) return entry.value;
        return undefined;
      }, "reading fs roots");
      if (found !== undefined) return found;
      const info = await this.info(ctx);
      if (info.baseCtx === 0n) return undefined;
      ctx = info.baseCtx;
      depth = info.baseDepth;
    }
  }

  /**
   * A turn record as the API returns it, with its payload loaded. An inline
   * payload read out of a turn pack is copied when the pack is much larger,
   * so that keeping one turn does not keep its whole pack alive.
   */
  async toStored(turn: LocatedTurn): Promise<StoredTurn> {
    const v = turn.value;
    const inline = v.inline;
    const payload = v.bodyRow
      ? (await loadBodies(this.#kv, [v]))[0]
      : inline === undefined
      ? await loadBytes(this.#kv, v, `payload of turn ${v.id}`)
      : inline.buffer.byteLength > 2 * inline.length + 1024
      ? inline.slice()
      : inline;
    return storedTurn(turn, payload);
  }

  /**
   * Turn records as the API returns them. Inline payloads need no read, so
   * a page of small turns is converted without a promise per turn (paging
   * through millions of turns should make as little garbage as it can).
   * Body rows are read in parallel (bodies.ts: consecutive ids as one range
   * read, the others with `getMany`); chunked payloads one turn at a time,
   * also in parallel.
   */
  async toStoredAll(turns: readonly LocatedTurn[]): Promise<StoredTurn[]> {
    if (turns.every((t) => t.value.inline)) {
      return turns.map((t) => storedTurn(t, t.value.inline!));
    }
    const separated = turns.filter((t) => t.value.bodyRow);
    const [bodies, others] = await Promise.all([
      loadBodies(this.#kv, separated.map((t) => t.value)),
      Promise.all(
        turns.map((t) => t.value.inline || t.value.bodyRow ? undefined : this.toStored(t)),
      ),
    ]);
    let next = 0;
    return turns.map((t, i) =>
      t.value.bodyRow ? storedTurn(t, bodies[next++]) : others[i] ?? storedTurn(t, t.value.inline!)
    );
  }
}

/** Adds the turns at depths lo..hi of the row whose first turn is at `first`. */
function pushRow(
  part: LocatedTurn[],
  ctx: bigint,
  first: number,
  stored: TurnValue | Uint8Array,
  lo: number,
  hi: number,
): void {
  const from = Math.max(0, lo - first);
  const turns = readTurnRow(stored, from, hi - first + 1);
  for (let i = 0; i < turns.length; i++) {
    part.push({ ctx, depth: first + from + i, value: turns[i] });
  }
}

/**
 * The turn as the API returns it, once its payload matches its hash: SQLite
 * keeps no checksum of a value, so damage inside one would otherwise come
 * back as data with a hash it does not have.
 */
function storedTurn(turn: LocatedTurn, payload: Uint8Array): StoredTurn {
  const v = turn.value;
  if (blake3Hex(payload) !== v.hash) {
    throw new BackendError(
      `kv turn ${v.id} (context ${turn.ctx}, depth ${turn.depth}) is damaged: ` +
        `its payload does not match its hash`,
    );
  }
  return {
    turnId: String(v.id),
    parentTurnId: String(v.parent),
    depth: turn.depth,
    typeId: v.type,
    typeVersion: v.version,
    payload,
    contentHash: v.hash,
  };
}

/**
 * Throws BackendError unless `value` is a context record as this store
 * writes it: a row of some other program under the same key (a kv file
 * shared with another app) must not become a head like "undefined".
 */
export function checkContextValue(id: unknown, value: unknown): asserts value is ContextValue {
  const v = value as Partial<ContextValue> | null;
  if (
    typeof id !== "bigint" || v === null || typeof v !== "object" ||
    typeof v.base !== "bigint" || typeof v.baseCtx !== "bigint" ||
    !Number.isSafeInteger(v.baseDepth) || (v.baseDepth as number) < 0 ||
    (v.createdAt !== undefined && typeof v.createdAt !== "number")
  ) {
    throw new BackendError(
      `kv row ["ctx", ${String(id)}] is not a context record of this store ` +
        `(is the file shared with another program?)`,
    );
  }
}
