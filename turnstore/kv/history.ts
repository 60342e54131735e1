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
  turnAtKey,
  turnKey,
  type TurnLocation,
  type TurnValue,
} from "./keys.ts";
import { LruMap } from "./lru.ts";
import { MAX_READ_ENTRIES } from "./limits.ts";

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

/** A context record as read, with its versionstamp. */
export interface ContextState {
  /** The record. */
  readonly value: ContextValue;
  /** Its versionstamp when read (or written by us). */
  readonly versionstamp: string;
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

  /** Remembers the immutable part of a context record. */
  remember(id: bigint, value: ContextValue): ContextInfo {
    const info = { id, base: value.base, baseDepth: value.baseDepth, baseCtx: value.baseCtx };
    this.#infos.set(id, info);
    return info;
  }

  /** The context record, read now; undefined when it does not exist. */
  async context(id: bigint): Promise<ContextState | undefined> {
    const entry = await this.#kv.get<ContextValue>(contextKey(id));
    if (entry.versionstamp === null) return undefined;
    this.remember(id, entry.value);
    return { value: entry.value, versionstamp: entry.versionstamp };
  }

  /** Several context records in one read each group of ten. */
  async contexts(ids: readonly bigint[]): Promise<Map<bigint, ContextState>> {
    const out = new Map<bigint, ContextState>();
    const reads: Promise<void>[] = [];
    for (let i = 0; i < ids.length; i += 10) {
      const slice = ids.slice(i, i + 10);
      reads.push(
        this.#kv.getMany<ContextValue[]>(slice.map(contextKey)).then((entries) =>
          entries.forEach((e, j) => {
            if (e.versionstamp === null) return;
            this.remember(slice[j], e.value);
            out.set(slice[j], { value: e.value, versionstamp: e.versionstamp });
          })
        ),
      );
    }
    await Promise.all(reads);
    return out;
  }

  /** The immutable part of a context that must exist (a chain link). */
  async info(id: bigint): Promise<ContextInfo> {
    const cached = this.#infos.get(id);
    if (cached) return cached;
    const state = await this.context(id);
    if (!state) throw new BackendError(`context ${id} is referenced as a fork base but is missing`);
    return this.remember(id, state.value);
  }

  /** Where a turn lives; undefined for an unknown turn. */
  async locate(turn: bigint): Promise<TurnLocation | undefined> {
    if (turn === 0n) return undefined;
    const entry = await this.#kv.get<TurnLocation>(turnAtKey(turn));
    return entry.versionstamp === null ? undefined : entry.value;
  }

  /** The turn record at a location; Backend error when the index points nowhere. */
  async turnAt(loc: TurnLocation): Promise<LocatedTurn> {
    const entry = await this.#kv.get<TurnValue>(turnKey(loc.ctx, loc.depth));
    if (entry.versionstamp === null) {
      throw new BackendError(`turn record at depth ${loc.depth} of context ${loc.ctx} is missing`);
    }
    return { ...loc, value: entry.value };
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
      const part: LocatedTurn[] = [];
      const want = hi - segLo + 1;
      const iter = this.#kv.list<TurnValue>(
        { start: turnKey(cur.id, segLo), end: turnKey(cur.id, hi + 1) },
        { batchSize: Math.min(want, MAX_READ_ENTRIES) },
      );
      for await (const entry of iter) {
        part.push({ ctx: cur.id, depth: entry.key[2] as number, value: entry.value });
      }
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
      const iter = this.#kv.list<string>(
        { start: ["fs", ctx], end: fsKey(ctx, depth + 1) },
        { reverse: true, limit: 1 },
      );
      for await (const entry of iter) return entry.value;
      const info = await this.info(ctx);
      if (info.baseCtx === 0n) return undefined;
      ctx = info.baseCtx;
      depth = info.baseDepth;
    }
  }

  /** A turn record as the API returns it, with its payload loaded. */
  async toStored(turn: LocatedTurn): Promise<StoredTurn> {
    const v = turn.value;
    const payload = await loadBytes(this.#kv, v, `payload of turn ${v.id}`);
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
}
