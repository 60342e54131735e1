/**
 * What one handle knows of the idempotency keys of the contexts it appends
 * to: the keys of every key block it has read or written (blocks never
 * change, so this never goes stale), and whether it knows EVERY key of the
 * context, so a key missing here is missing from the store and a round
 * needs no read.
 *
 * A context's keys live in its key blocks (`key_blocks.ts`) and, for stores
 * written before them or contexts past {@link KEY_BLOCK_CAP} block keys, in
 * one `["idem", ctx, key]` row each. Reading a context's keys is therefore:
 * its blocks after the last one read (one range read, usually empty), and
 * the rows of the round's keys not found in blocks (`getMany`). A context
 * with no row at all (one limit-1 range read tells) is then known whole; one
 * that has rows is remembered as such, and later rounds read its rows beside
 * its new blocks, in parallel.
 *
 * @module
 */
import { idemKey } from "./keys.ts";
import { keyBlockKey, keyBlockPrefix, readKeyBlock } from "./key_blocks.ts";
import { LruMap } from "./lru.ts";
import { MAX_GET_MANY } from "./limits.ts";

/**
 * Keys per context that go into key blocks; later ones get a row each. This
 * bounds what a handle reads and keeps to learn a context's blocks (about
 * 250 KB for agent-sized keys), whatever the context's length.
 */
export const KEY_BLOCK_CAP = 4096;
/**
 * Blocks per context; keys after them get a row each. A handle that does not
 * know a context's keys reads all its blocks before its first keyed append
 * there, so this bounds that read to one page of rows: measured on a context
 * of 1,000 four-key blocks (a 1,000-stage pipeline run), the first keyed
 * append after opening took 8–17 ms, against ~1.6 ms with key rows.
 */
export const KEY_BLOCKS_PER_CONTEXT = 64;
/** Contexts whose keys a handle keeps. */
const CONTEXTS = 16;
/** Row keys a handle keeps per context while it knows them all. */
const ROW_KEYS = 4096;
/** Entries per range read of blocks. */
const BLOCK_PAGE = KEY_BLOCKS_PER_CONTEXT;

/** One context's keys as this handle knows them. */
export class ContextKeys {
  /** Keys of the blocks read or written so far (all blocks up to {@link lastBlock}). */
  readonly blockKeys = new Map<string, bigint>();
  /** `firstDepth` of the last block read or written; 0 before any. */
  lastBlock = 0;
  /** Blocks read or written so far (all of the context's up to {@link lastBlock}). */
  blocks = 0;
  /**
   * True while this handle knows every key of the context: no row exists
   * beyond {@link rowKeys}, no block beyond {@link lastBlock}. Each of our
   * commits checks the slot above the head it planned from, and every
   * foreign write of a key fills that slot, so this holds while our commits
   * pass; any doubt clears it.
   */
  complete = false;
  /** Keys of rows this handle wrote or read (kept only while complete). */
  readonly rowKeys = new Map<string, bigint>();
  /** True once the context is known to have key rows (they are never removed). */
  hasRows = false;

  /** The turn `key` created, when known here. */
  find(key: string): bigint | undefined {
    return this.blockKeys.get(key) ?? this.rowKeys.get(key);
  }

  /** Records a key this handle just wrote as a row. */
  addRow(key: string, id: bigint): void {
    this.hasRows = true;
    if (!this.complete) return;
    if (this.rowKeys.size >= ROW_KEYS) {
      this.complete = false; // too many to keep: read them again from now on
      this.rowKeys.clear();
    } else this.rowKeys.set(key, id);
  }
}

/** The keys a round found per context: the context's view plus rows read for the round. */
export interface FoundKeys {
  /** The context's keys as known. */
  readonly known: ContextKeys;
  /** Rows read for this round (keys not in the view). */
  readonly rows?: ReadonlyMap<string, bigint>;
}

/** The turn `key` names in `found`, if any. */
export function findKey(found: FoundKeys | undefined, key: string): bigint | undefined {
  return found?.known.find(key) ?? found?.rows?.get(key);
}

/** Every context's keys this handle knows, bounded. */
export class KeyIndex {
  readonly #kv: Deno.Kv;
  readonly #contexts = new LruMap<bigint, ContextKeys>(CONTEXTS);

  /** Reads keys from `kv`. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** The context's keys, if this handle has any view of them. */
  get(ctx: bigint): ContextKeys | undefined {
    return this.#contexts.get(ctx);
  }

  /** A context this handle just created: it has no key yet, and this handle knows it. */
  created(ctx: bigint): void {
    const keys = new ContextKeys();
    keys.complete = true;
    this.#contexts.set(ctx, keys);
  }

  /** Something may have been written to the context behind our back: keys are read again. */
  doubt(ctx: bigint): void {
    const keys = this.#contexts.get(ctx);
    if (!keys) return;
    keys.complete = false;
    keys.rowKeys.clear();
  }

  /**
   * The keys of `ctx` that `wanted` may name, read as needed: nothing when
   * the context is known whole; otherwise the blocks not read yet and the
   * rows of the wanted keys not found in blocks. Call after the head the
   * round plans from was observed, so that the commit's head check proves
   * the absent keys still absent.
   */
  async read(ctx: bigint, wanted: Iterable<string>): Promise<FoundKeys> {
    let known = this.#contexts.get(ctx);
    if (known?.complete) return { known };
    if (!known) this.#contexts.set(ctx, known = new ContextKeys());
    const view = known;
    const rows = new Map<string, bigint>();
    const missing = () => [...new Set(wanted)].filter((key) => view.find(key) === undefined);
    if (view.hasRows) {
      // Rows exist: read them for the round's keys beside the new blocks, in parallel.
      const unknown = missing();
      await Promise.all([this.#readBlocks(ctx, view), this.#readRows(ctx, unknown, rows)]);
      return { known: view, rows };
    }
    const [, anyRow] = await Promise.all([this.#readBlocks(ctx, view), this.#hasRow(ctx)]);
    if (anyRow) {
      view.hasRows = true;
      await this.#readRows(ctx, missing(), rows);
    } else view.complete = true; // every key is in the blocks just read
    return { known: view, rows };
  }

  /** Reads the blocks after the last one read. */
  async #readBlocks(ctx: bigint, view: ContextKeys): Promise<void> {
    const start = keyBlockKey(ctx, view.lastBlock + 1);
    const blocks = this.#kv.list<Uint8Array>(
      { prefix: keyBlockPrefix(ctx), start },
      { batchSize: BLOCK_PAGE },
    );
    for await (const entry of blocks) {
      for (const { key, id } of readKeyBlock(entry.value)) {
        if (!view.blockKeys.has(key)) view.blockKeys.set(key, id);
      }
      view.lastBlock = Math.max(view.lastBlock, entry.key[2] as number);
      view.blocks++;
    }
  }

  /** True when the context has at least one key row. */
  async #hasRow(ctx: bigint): Promise<boolean> {
    for await (const _ of this.#kv.list({ prefix: ["idem", ctx] }, { limit: 1 })) return true;
    return false;
  }

  /** Reads the rows of `keys`, adding those found to `out`. */
  async #readRows(ctx: bigint, keys: string[], out: Map<string, bigint>): Promise<void> {
    const reads: Promise<void>[] = [];
    for (let i = 0; i < keys.length; i += MAX_GET_MANY) {
      const batch = keys.slice(i, i + MAX_GET_MANY).map((k) => idemKey(ctx, k));
      reads.push(
        this.#kv.getMany<(bigint | Deno.KvU64)[]>(batch).then((entries) => {
          for (const e of entries) {
            if (e.versionstamp === null) continue;
            // A bigint in stores written before ids were kept as KvU64.
            out.set(e.key[2] as string, typeof e.value === "bigint" ? e.value : e.value.value);
          }
        }),
      );
    }
    await Promise.all(reads);
  }
}
