/**
 * Turn packs: a commit's consecutive turns of one context in ONE row.
 *
 * Deno KV's commit costs about the same per mutation whatever its size: the
 * op converts every key and value from JavaScript on the caller's thread,
 * then SQLite inserts one row on a thread of its own. A commit of the agent's
 * write path carries ~40 small records of one context, so it paid ~40 of
 * those. Now a commit writes the turns it chains on a context as one row,
 * `["turn", ctx, firstDepth]`, holding the turns at depths `firstDepth`,
 * `firstDepth + 1`, … in order (split before {@link TURN_PACK_MAX_BYTES}).
 *
 * A pack never changes once written, and a context's rows partition its
 * depths: every head a writer plans from is the last turn of a row (a head
 * read is the last turn of the context's last row; a commit's new head is
 * the last turn of its last pack), so the commit check stays "the slot
 * above the head, `["turn", ctx, depth + 1]`, is empty", and that slot is
 * either empty or the first turn of the next row.
 *
 * A row holding one turn is stored as that turn's row alone (turn_value.ts),
 * so single appends and stores written before packs read the same way: a
 * single-turn row reads as a pack of one.
 *
 * Layout (integers big-endian):
 *
 * | bytes | field                                        |
 * | ----- | -------------------------------------------- |
 * | 1     | format: 2 (a turn row's is 1 or 3)           |
 * | 2     | number of turns n (at least 2)               |
 * | then, n times:                                       |
 * | 4     | length r of the turn's row                   |
 * | r     | the turn's row, as turn_value.ts stores it   |
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { PooledBytes } from "../core/pooled_bytes.ts";
import type { TurnValue } from "./keys.ts";
import { readTurnValue } from "./turn_value.ts";

const FORMAT = 2;
/** Bytes of a pack before its turns. */
export const TURN_PACK_HEADER = 3;
/** Bytes of a pack per turn besides the turn's row. */
export const TURN_PACK_ENTRY = 4;
/**
 * Most bytes of one pack, far under Deno KV's 64 KiB per value: reading a
 * row costs by its size once it spills out of its B-tree page (point reads
 * of 300 B / 4 / 8 / 16 / 32 KB took ~40 / 55 / 70 / 95 / 140 µs), and a
 * lookup of one turn reads its whole pack. At 8 KiB an agent session's
 * ~105-record commits take ~4 packs (82 mutations per 2,002 records, against
 * 43 at 32 KiB and 2,022 without packs), which costs the writer next to
 * nothing, while `getTurn` stays near a point read of a small row.
 */
export const TURN_PACK_MAX_BYTES = 8 * 1024;
/** Most turns of one pack (the count is a u16). */
export const TURN_PACK_MAX_TURNS = 0xffff;

/**
 * Collects the rows of one pack while a commit is planned;
 * {@link TurnPackBuilder.bytes} is its encoded size so far.
 */
export class TurnPackBuilder {
  /** Depth of the pack's first turn: the row's key. */
  readonly firstDepth: number;
  readonly #rows: Uint8Array[] = [];
  #bytes = TURN_PACK_HEADER;

  /** Starts an empty pack whose first turn will be at `firstDepth`. */
  constructor(firstDepth: number) {
    this.firstDepth = firstDepth;
  }

  /** Encoded bytes so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Turns so far. */
  get count(): number {
    return this.#rows.length;
  }

  /** True when a turn row of `rowBytes` still fits. */
  fits(rowBytes: number): boolean {
    return this.#rows.length < TURN_PACK_MAX_TURNS &&
      this.#bytes + TURN_PACK_ENTRY + rowBytes <= TURN_PACK_MAX_BYTES;
  }

  /** Adds the row of the turn at `firstDepth + count`. */
  add(row: Uint8Array): void {
    this.#rows.push(row);
    this.#bytes += TURN_PACK_ENTRY + row.length;
  }

  /** The stored value: the turn's own row for one turn, a pack for more. */
  encode(): Uint8Array {
    const rows = this.#rows;
    if (rows.length === 1) return rows[0];
    if (rows.length === 0) throw new BackendError("internal: an empty turn pack");
    const out = packBytes.zeroed(this.#bytes);
    out[0] = FORMAT;
    out[1] = rows.length >>> 8;
    out[2] = rows.length & 0xff;
    let at = TURN_PACK_HEADER;
    for (const row of rows) {
      const n = row.length;
      out[at] = n >>> 24;
      out[at + 1] = (n >>> 16) & 0xff;
      out[at + 2] = (n >>> 8) & 0xff;
      out[at + 3] = n & 0xff;
      out.set(row, at + TURN_PACK_ENTRY);
      at += TURN_PACK_ENTRY + n;
    }
    return out;
  }
}

/**
 * Packs are built at every commit and dropped once Deno KV has copied them:
 * they share 64 KiB buffers (a pack is at most {@link TURN_PACK_MAX_BYTES}),
 * so a commit makes no `ArrayBuffer` of its own for them.
 */
const packBytes = new PooledBytes({
  bufferBytes: 64 * 1024,
  pooledBelow: TURN_PACK_MAX_BYTES + 1,
  align: 1,
});

/** True when a stored turn row is a pack (of two turns or more). */
export function isTurnPack(stored: unknown): stored is Uint8Array {
  return stored instanceof Uint8Array && stored.length > 0 && stored[0] === FORMAT;
}

/** Number of turns a stored turn row holds (1 for a single turn's row, of any age). */
export function turnsInRow(stored: unknown): number {
  if (!isTurnPack(stored)) return 1;
  if (stored.length < TURN_PACK_HEADER) throw cutShort(stored);
  return (stored[1] << 8) | stored[2];
}

/**
 * The turns of a stored turn row at indexes `from` to `to - 1` (0 = the row
 * key's depth; by default all of them), in order. Turns outside that range
 * are skipped, not decoded (a page that starts or ends inside a pack).
 */
export function readTurnRow(stored: unknown, from = 0, to = Infinity): TurnValue[] {
  if (!isTurnPack(stored)) return from <= 0 && to > 0 ? [readTurnValue(stored)] : [];
  const n = turnsInRow(stored);
  const out: TurnValue[] = [];
  let at = TURN_PACK_HEADER;
  for (let i = 0; i < n; i++) {
    const end = entryEnd(stored, at);
    if (i >= from && i < to) out.push(readTurnValue(stored.subarray(at + TURN_PACK_ENTRY, end)));
    at = end;
  }
  if (at !== stored.length) throw cutShort(stored);
  return out;
}

/** The turn at `index` (0 = the row key's depth) of a stored turn row; undefined past its end. */
export function turnInRow(stored: unknown, index: number): TurnValue | undefined {
  if (!isTurnPack(stored)) return index === 0 ? readTurnValue(stored) : undefined;
  const n = turnsInRow(stored);
  if (index < 0 || index >= n) return undefined;
  let at = TURN_PACK_HEADER;
  for (let i = 0; i < index; i++) at = entryEnd(stored, at);
  return readTurnValue(stored.subarray(at + TURN_PACK_ENTRY, entryEnd(stored, at)));
}

/** The id of the last turn of a stored turn row and how many turns it holds (for heads). */
export function lastTurnOfRow(stored: unknown): { id: bigint; count: number } {
  const count = turnsInRow(stored);
  const last = count === 1 && !isTurnPack(stored)
    ? readTurnValue(stored)
    : turnInRow(stored, count - 1);
  if (!last) throw cutShort(stored as Uint8Array);
  return { id: last.id, count };
}

/** Where the entry starting at `at` ends, checked against the pack's length. */
function entryEnd(pack: Uint8Array, at: number): number {
  if (at + TURN_PACK_ENTRY > pack.length) throw cutShort(pack);
  const n = ((pack[at] << 24) >>> 0) + (pack[at + 1] << 16) + (pack[at + 2] << 8) + pack[at + 3];
  const end = at + TURN_PACK_ENTRY + n;
  if (end > pack.length) throw cutShort(pack);
  return end;
}

function cutShort(pack: Uint8Array): BackendError {
  return new BackendError(`turn pack of ${pack.length} bytes is cut short or malformed`);
}
