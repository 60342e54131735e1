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
import type { StoredTurn } from "../core/types.ts";
import { loadBytes } from "./chunks.ts";
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
import { readTurnValue } from "./turn_value.ts";
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

  /** The context's head, read now: its deepest own turn, or its base. */
  head(info: ContextInfo): Promise<HeadState> {
    return retryBusy(async () => {
      const iter = this.#kv.list<TurnValue | Uint8Array>({ prefix: turnPrefix(info.id) }, {
        reverse: true,
        limit: 1,
      });
      for await (const entry of iter) {
        return { head: readTurnValue(entry.value).id, depth: entry.key[2] as number };
      }
      return { head: info.base, depth: info.baseDepth };
    }, `reading the head of context ${info.id}`);
  }

  /**
   * A turn by id: the run that holds it (one reverse range read), then its
   * record (one point read); undefined for an unknown turn.
   */
  async locate(turn: bigint): Promise<LocatedTurn | undefined> {
    if (turn <= 0n) return undefined;
    const run = await retryBusy(async () => {
      const iter = this.#kv.list<RunValue>({ start: RUN_PREFIX, end: runKey(turn + 1n) }, {
        reverse: true,
        limit: 1,
      });
      for await (const entry of iter) return { first: entry.key[1] as bigint, at: entry.value };
      return undefined;
    }, "locating a turn");
    if (!run) return undefined;
    const depth = run.at.depth + Number(turn - run.first);
    const entry = await this.#kv.get<TurnValue | Uint8Array>(turnKey(run.at.ctx, depth));
    if (entry.versionstamp === null) return undefined;
    const value = readTurnValue(entry.value);
    // Past the run's end the slot is empty or holds another turn: unknown id.
    if (value.id !== turn) return undefined;
    return { ctx: run.at.ctx, depth, value };
  }

  /** The context whose own segment holds `depth` in the history of `from`. */
  async segmentAt(from: ContextInfo, depth: number): Promise<ContextInfo> {
    let cur = from;
    while (depth <= cur.baseDepth && cur.baseCtx !== 0n) cur = await this.info(cur.baseCtx);
    return cur;
  }

  /** True when the turn at `loc` is in the history of `from` (whose head is at `headDepth`). */
  async inHistory(from: ContextInfo, headDepth: number, loc: TurnLocation): Promise<boolean> {
    if (loc.depth > headDepth || loc.depth < 1) return false;
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

  /** The own turns of `ctx` at depths lo..hi, in one range read. */
  async #segment(ctx: bigint, lo: number, hi: number): Promise<LocatedTurn[]> {
    const part: LocatedTurn[] = [];
    const iter = this.#kv.list<TurnValue | Uint8Array>(
      { start: turnKey(ctx, lo), end: turnKey(ctx, hi + 1) },
      // Small batches: big ones make V8 keep a much larger heap while paging.
      { batchSize: Math.min(hi - lo + 1, LIST_BATCH) },
    );
    for await (const entry of iter) {
      part.push({ ctx, depth: entry.key[2] as number, value: readTurnValue(entry.value) });
    }
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

  /** A turn record as the API returns it, with its payload loaded. */
  async toStored(turn: LocatedTurn): Promise<StoredTurn> {
    const v = turn.value;
    const payload = v.inline ?? await loadBytes(this.#kv, v, `payload of turn ${v.id}`);
    return storedTurn(turn, payload);
  }

  /**
   * Turn records as the API returns them. Inline payloads need no read, so
   * a page of small turns is converted without a promise per turn (paging
   * through millions of turns should make as little garbage as it can).
   */
  async toStoredAll(turns: readonly LocatedTurn[]): Promise<StoredTurn[]> {
    if (turns.every((t) => t.value.inline)) {
      return turns.map((t) => storedTurn(t, t.value.inline!));
    }
    return await Promise.all(turns.map((t) => this.toStored(t)));
  }
}

function storedTurn(turn: LocatedTurn, payload: Uint8Array): StoredTurn {
  const v = turn.value;
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
