/**
 * The stored form of a turn record: one byte string rather than an object.
 *
 * Deno KV stores a `Uint8Array` value as it is, while any other object goes
 * through V8's structured serializer, twice per append (the record and its
 * idempotency entry) and on the hot path. Encoding the few fixed fields by
 * hand costs less than that serializer (see the README's "Measured").
 *
 * Layout (integers big-endian):
 *
 * | bytes   | field                                                   |
 * | ------- | ------------------------------------------------------- |
 * | 1       | format: 1                                               |
 * | 1       | 0: the payload is inline, 1: the payload is a chunk list |
 * | 8       | id (u64)                                                |
 * | 8       | parent (u64)                                            |
 * | 4       | type version (u32)                                      |
 * | 4       | payload size (u32)                                      |
 * | 1       | hash length h (ASCII hex)                               |
 * | h       | hash                                                    |
 * | 2       | type id length t (UTF-8 bytes)                          |
 * | t       | type id                                                 |
 * | rest    | the inline payload or the chunk list                    |
 *
 * A turn whose payload is in a body row (`["body", id]`, keys.ts) is stored
 * in format 3: the same fields, with byte 1 set to 2 and nothing after the
 * type id. A new format byte rather than a new payload mode, so that a
 * reader of an earlier version refuses the row (an unknown format) instead
 * of reading it as an empty chunk list.
 *
 * Stores written before this format hold {@link TurnValue} objects; every
 * reader goes through {@link readTurnValue}, which takes both.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { PooledBytes } from "../core/pooled_bytes.ts";
import type { TurnValue } from "./keys.ts";

const FORMAT = 1;
/** Format of a turn row whose payload is in its body row. */
const FORMAT_BODY_ROW = 3;
/** Byte 1 of a row: where the payload is. */
const INLINE = 0, CHUNKS = 1, BODY_ROW = 2;
const NO_BYTES = new Uint8Array(0);
const FIXED = 1 + 1 + 8 + 8 + 4 + 4 + 1 + 2;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Exact encoded length of `value` (type ids are ASCII in practice; UTF-8 counted when not). */
export function turnValueLength(value: TurnValue, typeBytes = typeLength(value.type)): number {
  const body = value.bodyRow ? undefined : value.inline ?? value.chunks;
  return FIXED + value.hash.length + typeBytes + (body?.length ?? 0);
}

function typeLength(type: string): number {
  for (let i = 0; i < type.length; i++) {
    if (type.charCodeAt(i) > 0x7f) return utf8.encode(type).length;
  }
  return type.length;
}

/** Encodes a turn record as the byte string it is stored as. */
export function encodeTurnValue(value: TurnValue): Uint8Array {
  const where = value.bodyRow ? BODY_ROW : value.inline ? INLINE : CHUNKS;
  const body = where === BODY_ROW ? NO_BYTES : value.inline ?? value.chunks;
  if (!body) throw new BackendError("internal: a turn record without payload bytes");
  const row = writeRow(value.type, value.version, value.hash, value.size, body, where);
  setTurnRowIds(row, value.id, value.parent);
  return row;
}

/**
 * The row of a turn whose payload is stored inline, built when the append is
 * called: the payload is copied once, straight into the row (which is the
 * store's own copy of it), and the id and parent, known only when the commit
 * is planned, are set then with {@link setTurnRowIds}. The payload is the
 * row's last `payload.length` bytes.
 */
export function encodeInlineTurnRow(
  type: string,
  version: number,
  hash: string,
  payload: Uint8Array,
): Uint8Array {
  return writeRow(type, version, hash, payload.length, payload, INLINE);
}

const ID_AT = 2;
const PARENT_AT = 10;
/** Scratch for a u64: rows get their ids without a DataView each. */
const u64Scratch = new Uint8Array(8);
const u64View = new DataView(u64Scratch.buffer);

/** Sets the id and parent of a row built by {@link encodeInlineTurnRow} (again on a re-plan). */
export function setTurnRowIds(row: Uint8Array, id: bigint, parent: bigint): void {
  u64View.setBigUint64(0, id);
  row.set(u64Scratch, ID_AT);
  u64View.setBigUint64(0, parent);
  row.set(u64Scratch, PARENT_AT);
}

function writeRow(
  type: string,
  version: number,
  hash: string,
  size: number,
  body: Uint8Array,
  where: number,
): Uint8Array {
  const typeBytes = typeLength(type);
  const out = rowBytes.zeroed(FIXED + hash.length + typeBytes + body.length);
  out[0] = where === BODY_ROW ? FORMAT_BODY_ROW : FORMAT;
  out[1] = where;
  writeU32(out, 18, version);
  writeU32(out, 22, size);
  out[26] = hash.length;
  let at = 27;
  for (let i = 0; i < hash.length; i++) out[at++] = hash.charCodeAt(i);
  out[at] = typeBytes >>> 8;
  out[at + 1] = typeBytes & 0xff;
  at += 2;
  if (typeBytes === type.length) {
    for (let i = 0; i < typeBytes; i++) out[at++] = type.charCodeAt(i);
  } else {
    at += utf8.encodeInto(type, out.subarray(at)).written;
  }
  out.set(body, at);
  return out;
}

/**
 * Rows are built at every append: small ones share pooled buffers (Node's
 * pool sizes: a returned payload is a view of its row and keeps 8 KiB alive)
 * instead of each making an `ArrayBuffer`, which the collector then sweeps.
 */
const rowBytes = new PooledBytes();

function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

/** The turn record of a stored value, in either stored form. */
export function readTurnValue(stored: unknown): TurnValue {
  if (!(stored instanceof Uint8Array)) return legacyTurnValue(stored); // written before format 1
  const format = stored[0];
  if (stored.length < FIXED || (format !== FORMAT && format !== FORMAT_BODY_ROW)) {
    throw new BackendError(`unknown turn record format ${format} (${stored.length} bytes)`);
  }
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const hashLength = stored[26];
  // One flat string from the ASCII bytes (not 64 concatenations).
  const hash = String.fromCharCode(...stored.subarray(27, 27 + hashLength));
  let at = 27 + hashLength;
  const typeLength = view.getUint16(at);
  at += 2;
  const type = utf8Decoder.decode(stored.subarray(at, at + typeLength));
  at += typeLength;
  const body = stored.subarray(at);
  const size = view.getUint32(22);
  const common = {
    id: view.getBigUint64(2),
    parent: view.getBigUint64(10),
    type,
    version: view.getUint32(18),
    hash,
    size,
  };
  if (format === FORMAT_BODY_ROW) {
    if (stored[1] !== BODY_ROW || body.length !== 0) {
      throw new BackendError(`turn record of turn ${common.id} in format 3 is malformed`);
    }
    return { ...common, bodyRow: true };
  }
  return stored[1] === INLINE ? { ...common, inline: body } : { ...common, chunks: body };
}

/**
 * A turn row written before format 1 (an object), checked: anything else
 * under a turn key (another program's row) is a BackendError, not a turn
 * whose id reads "undefined".
 */
function legacyTurnValue(stored: unknown): TurnValue {
  const v = stored as Partial<TurnValue> | null;
  const bytesOk = (b: unknown) => b === undefined || b instanceof Uint8Array;
  if (
    v === null || typeof v !== "object" || typeof v.id !== "bigint" ||
    typeof v.parent !== "bigint" || typeof v.type !== "string" ||
    !Number.isSafeInteger(v.version) || typeof v.hash !== "string" ||
    !Number.isSafeInteger(v.size) || !bytesOk(v.inline) || !bytesOk(v.chunks) ||
    (v.inline === undefined && v.chunks === undefined)
  ) {
    throw new BackendError(
      `a turn row is neither bytes nor a turn record of this store ` +
        `(is the file shared with another program?)`,
    );
  }
  return v as TurnValue;
}
