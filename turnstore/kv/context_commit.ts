/**
 * One context's share of a group commit (appender.ts): the turns a round
 * plans at the context's head, each priced against the commit's budget
 * before it is written, as the context's mutations — turn packs
 * (turn_pack.ts), run rows, key blocks (key_blocks.ts) or key rows, fs roots
 * and body rows. The appender decides which appends are planned (keys,
 * parents, fs roots); this decides what they cost and writes them.
 *
 * @module
 */
import { type BudgetedAtomic, setBytes } from "./budget.ts";
import type { HeadState } from "./history.ts";
import { bodyKey, fsKey, idemKey, keyBytes, runKey, turnKey } from "./keys.ts";
import { TURN_PACK_ENTRY, TURN_PACK_HEADER, TurnPackBuilder } from "./turn_pack.ts";
import { type ContextKeyBlocks, keyBlockKey } from "./key_blocks.ts";
import { utf8Length } from "../core/utf8.ts";

/** Where a handle's run of ids on a context continues. */
export interface Run {
  /** The id that continues the run. */
  readonly nextId: bigint;
  /** The depth that id must have to continue it. */
  readonly nextDepth: number;
}

/**
 * What {@link ContextCommit.add} did with a turn: "full" when it does not fit
 * in the commit (the context's share of the round ends there); else planned,
 * its idempotency key (if any) in a key "block" of the commit or in a "row"
 * of its own.
 */
export type Added = "full" | "row" | "block";

/** Estimated bytes of a body row's key (a constant: one bigint part). */
const BODY_KEY_BYTES = keyBytes(bodyKey(0n));
/** Bytes of a KvU64 value (an upper bound). */
const ID_VALUE_BYTES = 16;
/** Estimated bytes of a run key (a constant: one bigint part). */
const RUN_KEY_BYTES = keyBytes(runKey(0n));
/** Estimated bytes of a run row's key and value (an upper bound). */
const RUN_SET_BYTES = setBytes(runKey(0n), { ctx: 0n, depth: 0 });
/** Estimated bytes of a turn key (a constant: a bigint and a number part). */
const TURN_KEY_BYTES = keyBytes(turnKey(0n, 0));
/** Estimated bytes of a new pack row before its turns: key, header, value overhead. */
const NEW_PACK_BYTES = TURN_KEY_BYTES + TURN_PACK_HEADER + 8;

/** The turns one commit appends to one context, from the head it was planned on. */
export class ContextCommit {
  /** The head after the turns added so far. */
  head: bigint;
  /** Its depth. */
  depth: number;
  /** The head as the API names it (a turn's parentTurnId). */
  headId: string;
  /** This commit's packs of the context: consecutive turns, one row each. */
  readonly #packs: TurnPackBuilder[] = [];
  #pack: TurnPackBuilder | undefined;
  /** Where this handle's run of ids on the context continues (no run row needed). */
  #runNextId: bigint;
  #runNextDepth: number;

  /**
   * Plans on `ctx` from `base`; `run` is this handle's run of ids there, and
   * `blocks` takes the keys that still fit in the context's key blocks.
   */
  constructor(
    readonly ctx: bigint,
    readonly base: HeadState,
    run: Run | undefined,
    readonly blocks: ContextKeyBlocks,
  ) {
    this.head = base.head;
    this.depth = base.depth;
    this.headId = String(base.head);
    this.#runNextId = run?.nextId ?? 0n;
    this.#runNextDepth = run?.nextDepth ?? -1;
  }

  /** True once a turn was added: the head moved. */
  get moved(): boolean {
    return this.depth !== this.base.depth;
  }

  /** Where this handle's run on the context continues after this commit. */
  get run(): Run {
    return { nextId: this.#runNextId, nextDepth: this.#runNextDepth };
  }

  /**
   * Adds turn `id` at the head — its stored row `encoded`, its payload's
   * body row `body` when it has one, its idempotency `key` and `fsRootHash`
   * when given — if its mutations fit in `op`, and moves the head to it.
   */
  add(
    op: BudgetedAtomic,
    id: bigint,
    encoded: Uint8Array,
    body: Uint8Array | undefined,
    key: string | undefined,
    fsRootHash: string | undefined,
  ): Added {
    const ctx = this.ctx;
    const depth = this.depth + 1;
    const blocks = this.blocks;
    // The turn joins this commit's current pack of the context, or starts one (a mutation).
    const joins = this.#pack !== undefined && this.#pack.fits(encoded.length);
    const continuesRun = this.#runNextId === id && this.#runNextDepth === depth;
    // The context's first turn in the commit brings its check (a turn key; checkReserved).
    const first = !this.moved;
    let mutations = (joins ? 0 : 1) + (continuesRun ? 0 : 1);
    let keys = (joins ? 0 : TURN_KEY_BYTES) + (continuesRun ? 0 : RUN_KEY_BYTES) +
      (first ? TURN_KEY_BYTES : 0);
    let bytes = (joins ? 0 : NEW_PACK_BYTES) + TURN_PACK_ENTRY + encoded.length +
      (continuesRun ? 0 : RUN_SET_BYTES) + (first ? TURN_KEY_BYTES : 0);
    const inBlock = key !== undefined && blocks.price(utf8Length(key));
    if (inBlock) {
      mutations += blocks.mutations, keys += blocks.keys, bytes += blocks.bytes;
    } else if (key !== undefined) {
      const k = idemKey(ctx, key);
      mutations++, keys += keyBytes(k), bytes += keyBytes(k) + ID_VALUE_BYTES;
    }
    if (fsRootHash) {
      const k = fsKey(ctx, depth);
      mutations++, keys += keyBytes(k), bytes += setBytes(k, fsRootHash);
    }
    if (body) mutations++, keys += BODY_KEY_BYTES, bytes += BODY_KEY_BYTES + body.length + 8;
    if (!op.fits(mutations, bytes, keys)) return "full";
    if (first) op.reserve(0, TURN_KEY_BYTES, TURN_KEY_BYTES);
    if (!joins) {
      this.#pack = new TurnPackBuilder(depth);
      this.#packs.push(this.#pack);
      op.reserve(1, NEW_PACK_BYTES, TURN_KEY_BYTES);
    }
    this.#pack!.add(encoded);
    op.reserve(0, TURN_PACK_ENTRY + encoded.length, 0);
    if (!continuesRun) op.set(runKey(id), { ctx, depth });
    this.#runNextId = id + 1n;
    this.#runNextDepth = depth + 1;
    if (inBlock) {
      // Counted above; the blocks are set once the context's share is planned (seal).
      blocks.add(key, id, depth);
      op.reserve(blocks.mutations, blocks.bytes, blocks.keys);
    } else if (key !== undefined) {
      // A KvU64 is stored as it is; a bigint would go through V8's serializer.
      op.set(idemKey(ctx, key), new Deno.KvU64(id));
    }
    if (fsRootHash) op.set(fsKey(ctx, depth), fsRootHash);
    if (body) op.set(bodyKey(id), body, [BODY_KEY_BYTES, body.length + 8]);
    this.head = id;
    this.headId = String(id);
    this.depth = depth;
    return inBlock ? "block" : "row";
  }

  /**
   * Writes the packs and key blocks whose room {@link add} reserved; the
   * last key block's first depth and how many blocks were written, if any.
   */
  seal(op: BudgetedAtomic): { firstDepth: number; count: number } | undefined {
    for (const p of this.#packs) op.setReserved(turnKey(this.ctx, p.firstDepth), p.encode());
    const written = this.blocks.blocks;
    for (const block of written) {
      op.setReserved(keyBlockKey(this.ctx, block.firstDepth), block.encode());
    }
    const last = written.at(-1);
    return last && { firstDepth: last.firstDepth, count: written.length };
  }
}
