/**
 * Byte layouts of the record bodies in the turn log. Fixed-width fields
 * first, then length-prefixed strings and the payload; integers are
 * little-endian. Ids are stored as u64 but stay below 2^53 because this
 * backend assigns them from 1 upwards.
 *
 * @module
 */
import { hashInto } from "blake3-jit";
import { toHex } from "../core/hash.ts";
import type { ValidAppend } from "../core/validate.ts";
import { getU64, setU64 } from "./io.ts";
import { asciiInto, utf8Cached } from "./utf8.ts";
import { utf8Length } from "../core/utf8.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A context creation: `contextId` starts with head `baseTurnId` at `baseDepth`. */
export interface ContextRecordData {
  /** New context's id. */
  readonly contextId: number;
  /** Its first head; 0 for an empty context. */
  readonly baseTurnId: number;
  /** Depth of that head. */
  readonly baseDepth: number;
  /** Creation time, ms since the Unix epoch; absent in records older than the field. */
  readonly createdAt?: number;
}

/** A turn as the log stores it. */
export interface TurnRecordData {
  /** The turn's id. */
  readonly turnId: number;
  /** The context it was appended to. */
  readonly contextId: number;
  /** Its parent, 0 for a first turn. */
  readonly parentTurnId: number;
  /** Its depth. */
  readonly depth: number;
  /** Record type id. */
  readonly typeId: string;
  /** Record type version. */
  readonly typeVersion: number;
  /** BLAKE3-256 of the payload, hex. */
  readonly contentHash: string;
  /** Tree root attached at append time. */
  readonly fsRootHash?: string;
  /** Idempotency key, when the append had one. */
  readonly idempotencyKey?: string;
  /** The payload. */
  readonly payload: Uint8Array;
}

/** A filesystem root attached to an existing turn. */
export interface AttachRecordData {
  /** The turn. */
  readonly turnId: number;
  /** BLAKE3-256 of the tree root blob, hex. */
  readonly rootHash: string;
}

/** Encodes a context creation. */
export function encodeContext(c: ContextRecordData): Uint8Array {
  // The creation time trails the original 20 bytes, so older logs still decode.
  const out = new Uint8Array(c.createdAt === undefined ? 20 : 28);
  const view = new DataView(out.buffer);
  setU64(view, 0, c.contextId);
  setU64(view, 8, c.baseTurnId);
  view.setUint32(16, c.baseDepth, true);
  if (c.createdAt !== undefined) setU64(view, 20, c.createdAt);
  return out;
}

/** Decodes a context creation. */
export function decodeContext(body: Uint8Array): ContextRecordData {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const c = {
    contextId: getU64(view, 0),
    baseTurnId: getU64(view, 8),
    baseDepth: view.getUint32(16, true),
  };
  return body.byteLength >= 28 ? { ...c, createdAt: getU64(view, 20) } : c;
}

const FLAG_FS_ROOT = 1;
const FLAG_KEY = 2;

/** Writes 64 hex characters as 32 bytes at `at` (input already validated). */
function putHash(out: Uint8Array, at: number, hex: string): void {
  for (let i = 0; i < 32; i++) {
    out[at + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  }
}

const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/** Lowercase hex of 32 bytes, built in one buffer (this runs for every turn read). */
function hashHex(bytes: Uint8Array): string {
  const out = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    out[2 * i] = HEX_DIGITS[bytes[i] >> 4];
    out[2 * i + 1] = HEX_DIGITS[bytes[i] & 15];
  }
  return latin1.decode(out);
}

const latin1 = new TextDecoder("latin1");
const keyEncoder = new TextEncoder();

function nibble(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87; // '0'-'9', 'a'-'f' / 'A'-'F'
}

/**
 * Encodes a turn; with `reserve`, that many zero bytes come first (room for a
 * frame header, so the body is not copied again).
 */
export function encodeTurn(t: TurnRecordData, reserve = 0): Uint8Array {
  const typeId = utf8Cached(t.typeId);
  const key = t.idempotencyKey;
  // The key is written straight into the record (no array of its own per turn).
  const keyLength = key === undefined ? 0 : utf8Length(key);
  const size = 32 + 32 + 1 + (t.fsRootHash ? 32 : 0) + 2 + typeId.length +
    (key !== undefined ? 2 + keyLength : 0) + 4 + t.payload.length;
  const whole = new Uint8Array(reserve + size);
  const out = whole.subarray(reserve);
  const view = new DataView(whole.buffer, reserve, size);
  setU64(view, 0, t.turnId);
  setU64(view, 8, t.contextId);
  setU64(view, 16, t.parentTurnId);
  view.setUint32(24, t.depth, true);
  view.setUint32(28, t.typeVersion, true);
  putHash(out, 32, t.contentHash);
  let at = 64;
  out[at++] = (t.fsRootHash ? FLAG_FS_ROOT : 0) | (key !== undefined ? FLAG_KEY : 0);
  if (t.fsRootHash) {
    putHash(out, at, t.fsRootHash);
    at += 32;
  }
  view.setUint16(at, typeId.length, true);
  out.set(typeId, at + 2);
  at += 2 + typeId.length;
  if (key !== undefined) {
    view.setUint16(at, keyLength, true);
    if (keyLength !== key.length || asciiInto(key, out, at + 2) < 0) {
      keyEncoder.encodeInto(key, out.subarray(at + 2, at + 2 + keyLength));
    }
    at += 2 + keyLength;
  }
  view.setUint32(at, t.payload.length, true);
  out.set(t.payload, at + 4);
  return whole;
}

/** A turn record encoded when its append is called, before its batch places it. */
export interface NewTurnRecord {
  /**
   * `reserve` bytes (room for the frame header), then the body with id,
   * parent and depth zero until {@link setTurnPlace} sets them.
   */
  readonly record: Uint8Array;
  /** BLAKE3-256 of the payload, hex; its 32 bytes are in the record. */
  readonly contentHash: string;
  /** Where the idempotency key's UTF-8 starts in `record` (0 without a key). */
  readonly keyFrom: number;
  /** Where it ends. */
  readonly keyTo: number;
}

/**
 * Encodes an append's turn as {@link encodeTurn} would (same bytes), in one
 * pass: the payload is hashed straight into the record (no hex string parsed
 * back), the key is written while it is measured (ASCII, as keys nearly
 * always are), and where the key lies is returned so that its fingerprint
 * is taken from these bytes. `alloc` gives the record's zeroed bytes.
 */
export function encodeAppend(
  req: ValidAppend,
  contextId: number,
  reserve: number,
  alloc: (size: number) => Uint8Array,
): NewTurnRecord {
  const key = req.idempotencyKey;
  const typeId = utf8Cached(req.typeId);
  const root = req.fsRootHash;
  const payload = req.payload;
  // Sized for an ASCII key, as keys nearly always are; otherwise encoded again below.
  const size = reserve + 65 + (root ? 32 : 0) + 2 + typeId.length +
    (key !== undefined ? 2 + key.length : 0) + 4 + payload.length;
  const out = alloc(size);
  // Id, parent and depth stay zero (alloc gives zeroed bytes).
  putU64(out, reserve + 8, contextId);
  putU32(out, reserve + 28, req.typeVersion);
  const hash = out.subarray(reserve + 32, reserve + 64);
  hashInto(payload, hash);
  let at = reserve + 64;
  out[at++] = (root ? FLAG_FS_ROOT : 0) | (key !== undefined ? FLAG_KEY : 0);
  if (root) {
    putHash(out, at, root);
    at += 32;
  }
  putU16(out, at, typeId.length);
  out.set(typeId, at + 2);
  at += 2 + typeId.length;
  let keyFrom = 0;
  let keyTo = 0;
  if (key !== undefined) {
    putU16(out, at, key.length);
    keyFrom = at + 2;
    keyTo = asciiInto(key, out, keyFrom);
    if (keyTo < 0) return encodeAppendSlow(req, contextId, reserve, toHex(hash));
    at = keyTo;
  }
  putU32(out, at, payload.length);
  out.set(payload, at + 4);
  return { record: out, contentHash: toHex(hash), keyFrom, keyTo };
}

/** {@link encodeAppend} of a key that is not ASCII: measured, then encoded by encodeTurn. */
function encodeAppendSlow(
  req: ValidAppend,
  contextId: number,
  reserve: number,
  contentHash: string,
): NewTurnRecord {
  const key = req.idempotencyKey!;
  const record = encodeTurn({
    turnId: 0,
    contextId,
    parentTurnId: 0,
    depth: 0,
    typeId: req.typeId,
    typeVersion: req.typeVersion,
    contentHash,
    fsRootHash: req.fsRootHash,
    idempotencyKey: key,
    payload: req.payload,
  }, reserve);
  const keyTo = record.length - 4 - req.payload.length;
  return { record, contentHash, keyFrom: keyTo - utf8Length(key), keyTo };
}

function putU16(out: Uint8Array, at: number, n: number): void {
  out[at] = n & 0xff;
  out[at + 1] = (n >>> 8) & 0xff;
}

/**
 * Sets the id, parent and depth of a turn encoded by {@link encodeTurn} with
 * `reserve` bytes before its body (an append's record is encoded when it is
 * called, with the caller's payload copied into it, and placed when its batch
 * is planned). Little-endian, as {@link encodeTurn} writes them.
 */
export function setTurnPlace(
  record: Uint8Array,
  reserve: number,
  turnId: number,
  parentTurnId: number,
  depth: number,
): void {
  putU64(record, reserve, turnId);
  putU64(record, reserve + 16, parentTurnId);
  putU32(record, reserve + 24, depth);
}

function putU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n & 0xff;
  out[at + 1] = (n >>> 8) & 0xff;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 24) & 0xff;
}

function putU64(out: Uint8Array, at: number, n: number): void {
  putU32(out, at, n % 0x1_0000_0000);
  putU32(out, at + 4, Math.floor(n / 0x1_0000_0000));
}

/**
 * Decodes a turn. The payload is a view into `body`: pass a buffer nothing
 * else writes to (a fresh read), as every caller does.
 */
export function decodeTurn(body: Uint8Array): TurnRecordData {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = body[64];
  let at = 65;
  let fsRootHash: string | undefined;
  if (flags & FLAG_FS_ROOT) {
    fsRootHash = hashHex(body.subarray(at, at + 32));
    at += 32;
  }
  const typeLength = view.getUint16(at, true);
  const typeId = decoder.decode(body.subarray(at + 2, at + 2 + typeLength));
  at += 2 + typeLength;
  let idempotencyKey: string | undefined;
  if (flags & FLAG_KEY) {
    const keyLength = view.getUint16(at, true);
    idempotencyKey = decoder.decode(body.subarray(at + 2, at + 2 + keyLength));
    at += 2 + keyLength;
  }
  const payloadLength = view.getUint32(at, true);
  if (at + 4 + payloadLength !== body.length) {
    throw new RangeError(`turn body is ${body.length} bytes, fields say ${at + 4 + payloadLength}`);
  }
  return {
    turnId: getU64(view, 0),
    contextId: getU64(view, 8),
    parentTurnId: getU64(view, 16),
    depth: view.getUint32(24, true),
    typeVersion: view.getUint32(28, true),
    contentHash: hashHex(body.subarray(32, 64)),
    fsRootHash,
    typeId,
    idempotencyKey,
    payload: body.subarray(at + 4, at + 4 + payloadLength),
  };
}

/** Encodes an fs attachment. */
export function encodeAttach(a: AttachRecordData): Uint8Array {
  const out = new Uint8Array(40);
  setU64(new DataView(out.buffer), 0, a.turnId);
  putHash(out, 8, a.rootHash);
  return out;
}

/** Decodes an fs attachment. */
export function decodeAttach(body: Uint8Array): AttachRecordData {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { turnId: getU64(view, 0), rootHash: hashHex(body.subarray(8, 40)) };
}
