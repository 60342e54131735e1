/**
 * The CXDB binary protocol: request payload encoders and response payload
 * decoders (frames and their parser are in frame.ts, re-exported here). Pure functions over bytes, no I/O, so they can
 * be checked byte for byte against the shared golden vectors. All integers are
 * little-endian; u64 values travel as decimal strings on our side.
 *
 * @module
 */

/** Message type codes of the binary protocol. */
export const MsgType = {
  HELLO: 1,
  CTX_CREATE: 2,
  CTX_FORK: 3,
  GET_HEAD: 4,
  APPEND_TURN: 5,
  GET_LAST: 6,
  GET_BEFORE: 7,
  GET_RANGE_BY_DEPTH: 8,
  GET_BLOB: 9,
  ATTACH_FS: 10,
  PUT_BLOB: 11,
  ERROR: 255,
} as const;

/** Names of message types, for error messages. */
export const MSG_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MsgType).map(([name, code]) => [code, name]),
);

/** APPEND_TURN flag: an fs root hash follows the idempotency key. */
export const FLAG_HAS_FS_ROOT = 1;
/** Payload encoding code for msgpack. */
export const ENCODING_MSGPACK = 1;
/** Compression code: none. */
export const COMPRESSION_NONE = 0;
/** Compression code: zstd. */
export const COMPRESSION_ZSTD = 1;
import { toHex } from "@forge/turnstore";
import { WireError } from "./frame.ts";

export {
  decodeHeader,
  encodeFrame,
  type FrameHeader,
  FrameParser,
  HEADER_BYTES,
  MAX_FRAME_BYTES,
  WireError,
} from "./frame.ts";

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: false });

/** Grows a byte buffer while writing little-endian integers. */
class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  constructor(size: number) {
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
  }
  #need(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.#need(1);
    this.#view.setUint8(this.#pos, v);
    this.#pos += 1;
    return this;
  }
  u16(v: number): this {
    this.#need(2);
    this.#view.setUint16(this.#pos, v, true);
    this.#pos += 2;
    return this;
  }
  u32(v: number): this {
    this.#need(4);
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
    return this;
  }
  u64(v: string | bigint): this {
    this.#need(8);
    setU64(this.#view, this.#pos, v);
    this.#pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.#need(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }
  done(): Uint8Array {
    return this.#buf.length === this.#pos ? this.#buf : this.#buf.slice(0, this.#pos);
  }
}

/** Writes a u64; ids below 2^53 skip BigInt, which is slow on the append path. */
function setU64(view: DataView, at: number, v: string | bigint): void {
  if (typeof v === "string" && v.length <= 15) {
    const n = Number(v);
    view.setUint32(at, n % 0x1_0000_0000, true);
    view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
  } else {
    view.setBigUint64(at, BigInt(v), true);
  }
}

const typeIdBytes = new Map<string, Uint8Array>();
/** UTF-8 of a type id, cached: a process uses a handful of them. */
function typeBytes(typeId: string): Uint8Array {
  let b = typeIdBytes.get(typeId);
  if (!b) {
    b = te.encode(typeId);
    if (typeIdBytes.size < 4096) typeIdBytes.set(typeId, b);
  }
  return b;
}

/** Reads little-endian integers from a payload, failing clearly when it is short. */
export class Reader {
  #view: DataView;
  #bytes: Uint8Array;
  #pos = 0;
  readonly #what: string;
  /** Reads `bytes`; `what` names the message in errors. */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }
  #need(n: number): void {
    if (this.#pos + n > this.#bytes.length) {
      throw new WireError(
        `${this.#what}: payload of ${this.#bytes.length} bytes is too short (needed ${n} more at offset ${this.#pos})`,
      );
    }
  }
  /** Reads a u8. */
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#pos++);
  }
  /** Reads a u16. */
  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }
  /** Reads a u32. */
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }
  /** Reads a u64 as a decimal string. */
  u64(): string {
    this.#need(8);
    const lo = this.#view.getUint32(this.#pos, true);
    const hi = this.#view.getUint32(this.#pos + 4, true);
    const at = this.#pos;
    this.#pos += 8;
    // Below 2^53 a number holds it exactly; BigInt (slower) only above.
    if (hi < 0x20_0000) return String(hi * 0x1_0000_0000 + lo);
    return this.#view.getBigUint64(at, true).toString();
  }
  /** Reads `n` bytes (a view, not a copy). */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  /** Reads a 32-byte hash as lowercase hex. */
  hash(): string {
    return toHex(this.bytes(32));
  }
  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }
}

/** The bytes of `parts`, one after the other, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hashBytes(hash: string | Uint8Array, label: string): Uint8Array {
  if (hash instanceof Uint8Array) {
    if (hash.length !== 32) throw new WireError(`${label} must be 32 bytes, got ${hash.length}`);
    return hash;
  }
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new WireError(
      `${label} must be 64 lowercase hex characters, got ${JSON.stringify(hash)}`,
    );
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hash.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// ---------------------------------------------------------------- requests

/** HELLO: protocol version 1, an optional client tag and optional JSON metadata. */
export function encodeHello(clientTag = "", metaJson = ""): Uint8Array {
  const tag = te.encode(clientTag);
  const meta = te.encode(metaJson);
  return new Writer(8 + tag.length + meta.length).u16(1).u16(tag.length).bytes(tag)
    .u32(meta.length).bytes(meta).done();
}

/** CTX_CREATE: a new context at `baseTurnId` ("0" for an empty one). */
export function encodeCtxCreate(baseTurnId: string): Uint8Array {
  return new Writer(8).u64(baseTurnId).done();
}

/** CTX_FORK: a new context whose head is `baseTurnId`. */
export function encodeCtxFork(baseTurnId: string): Uint8Array {
  return new Writer(8).u64(baseTurnId).done();
}

/** GET_HEAD of a context. */
export function encodeGetHead(contextId: string): Uint8Array {
  return new Writer(8).u64(contextId).done();
}

/** The fields of an APPEND_TURN request. */
export interface AppendRequest {
  /** Context to append to. */
  readonly contextId: string;
  /** Parent turn; "0" means the context's head. */
  readonly parentTurnId: string;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** Payload encoding; 1 = msgpack. */
  readonly encoding: number;
  /** Compression of `payload`: 0 none, 1 zstd. */
  readonly compression: number;
  /** Length of the payload before compression. */
  readonly uncompressedLength: number;
  /** BLAKE3 of the uncompressed payload (hex or 32 bytes). */
  readonly contentHash: string | Uint8Array;
  /** The payload bytes as sent (compressed when `compression` is 1). */
  readonly payload: Uint8Array;
  /** Idempotency key (the server parses and ignores it). */
  readonly idempotencyKey?: string;
  /** Filesystem root to attach (sets flags bit0). */
  readonly fsRootHash?: string | Uint8Array;
}

/** APPEND_TURN payload and its flags. */
export function encodeAppend(req: AppendRequest): { flags: number; payload: Uint8Array } {
  const out = new Uint8Array(appendPayloadBytes(req));
  const flags = encodeAppendInto(req, out, new DataView(out.buffer), 0);
  return { flags, payload: out };
}

/** Length in bytes of the APPEND_TURN payload of `req`. */
export function appendPayloadBytes(req: AppendRequest): number {
  const keyBytes = req.idempotencyKey ? te.encode(req.idempotencyKey).length : 0;
  return 76 + typeBytes(req.typeId).length + req.payload.length + keyBytes +
    (req.fsRootHash !== undefined ? 32 : 0);
}

/**
 * Writes the APPEND_TURN payload of `req` into `out` at `at` (room for
 * {@link appendPayloadBytes} bytes; `view` spans `out.buffer`) and returns its
 * flags. Lets a client encode frames straight into its send buffer.
 */
export function encodeAppendInto(
  req: AppendRequest,
  out: Uint8Array,
  view: DataView,
  at: number,
): number {
  const type = typeBytes(req.typeId);
  const key = req.idempotencyKey ? te.encode(req.idempotencyKey) : EMPTY;
  // Checked before anything is written, so a bad hash leaves `out` untouched.
  const hash = hashBytes(req.contentHash, "contentHash");
  const fsRoot = req.fsRootHash === undefined ? undefined : hashBytes(req.fsRootHash, "fsRootHash");
  const base = out.byteOffset + at;
  setU64(view, base, req.contextId);
  setU64(view, base + 8, req.parentTurnId);
  view.setUint32(base + 16, type.length, true);
  out.set(type, at + 20);
  let o = at + 20 + type.length;
  view.setUint32(out.byteOffset + o, req.typeVersion, true);
  view.setUint32(out.byteOffset + o + 4, req.encoding, true);
  view.setUint32(out.byteOffset + o + 8, req.compression, true);
  view.setUint32(out.byteOffset + o + 12, req.uncompressedLength, true);
  out.set(hash, o + 16);
  o += 48;
  view.setUint32(out.byteOffset + o, req.payload.length, true);
  out.set(req.payload, o + 4);
  o += 4 + req.payload.length;
  view.setUint32(out.byteOffset + o, key.length, true);
  out.set(key, o + 4);
  o += 4 + key.length;
  if (!fsRoot) return 0;
  out.set(fsRoot, o);
  return FLAG_HAS_FS_ROOT;
}

const EMPTY = new Uint8Array(0);

/** GET_LAST: the newest `limit` turns of a context, with or without payloads. */
export function encodeGetLast(
  contextId: string,
  limit: number,
  includePayload: boolean,
): Uint8Array {
  return new Writer(16).u64(contextId).u32(limit).u32(includePayload ? 1 : 0).done();
}

/** GET_BLOB by hash. */
export function encodeGetBlob(hash: string | Uint8Array): Uint8Array {
  return hashBytes(hash, "hash").slice();
}

/** PUT_BLOB: hash, length, bytes. */
export function encodePutBlob(hash: string | Uint8Array, bytes: Uint8Array): Uint8Array {
  return new Writer(36 + bytes.length).bytes(hashBytes(hash, "hash")).u32(bytes.length)
    .bytes(bytes).done();
}

/** ATTACH_FS: turn id and tree root hash. */
export function encodeAttachFs(turnId: string, rootHash: string | Uint8Array): Uint8Array {
  return new Writer(40).u64(turnId).bytes(hashBytes(rootHash, "rootHash")).done();
}

// --------------------------------------------------------------- responses

/** HELLO's answer. */
export interface HelloResponse {
  /** Server-assigned session id. */
  readonly sessionId: string;
  /** Protocol version the server speaks. */
  readonly protocolVersion: number;
}

/** Decodes HELLO's answer. */
export function decodeHello(payload: Uint8Array): HelloResponse {
  const r = new Reader(payload, "HELLO response");
  return { sessionId: r.u64(), protocolVersion: r.u16() };
}

/** A context head as the server reports it (server depths: a first turn is 0). */
export interface WireHead {
  /** Context id. */
  readonly contextId: string;
  /** Head turn; "0" when empty. */
  readonly headTurnId: string;
  /** Server depth of the head. */
  readonly headDepth: number;
}

/** Decodes the 20-byte answer of CTX_CREATE, CTX_FORK and GET_HEAD. */
export function decodeHead(payload: Uint8Array, what = "context head"): WireHead {
  const r = new Reader(payload, what);
  return { contextId: r.u64(), headTurnId: r.u64(), headDepth: r.u32() };
}

/** APPEND_TURN's answer (server depth). */
export interface WireAppended {
  /** Context id. */
  readonly contextId: string;
  /** New turn id. */
  readonly turnId: string;
  /** Server depth of the new turn. */
  readonly depth: number;
  /** BLAKE3 of the payload, hex. */
  readonly contentHash: string;
}

/**
 * Decodes APPEND_TURN's answer. Given the hash that was `sent` (bytes) and
 * its hex, an answer echoing it reuses `sentHex` instead of a new string.
 */
export function decodeAppended(
  payload: Uint8Array,
  sent?: string | Uint8Array,
  sentHex?: string,
): WireAppended {
  return decodeAppendedAt(payload, 0, payload.length, sent, sentHex);
}

/**
 * {@link decodeAppended} of the answer at `bytes[at .. end)`, read in place:
 * a pipelining client decodes each answer where it was received, with no view.
 */
export function decodeAppendedAt(
  bytes: Uint8Array,
  at: number,
  end: number,
  sent?: string | Uint8Array,
  sentHex?: string,
): WireAppended {
  if (end - at >= APPENDED_BYTES) {
    // The whole answer is there: read it in place (no Reader, no DataView),
    // as every pipelined append's answer passes here.
    const contentHash = sentHex !== undefined && sent instanceof Uint8Array &&
        sameBytes(bytes, at + 20, sent)
      ? sentHex
      : toHex(bytes.subarray(at + 20, at + 52));
    return {
      contextId: u64At(bytes, at),
      turnId: u64At(bytes, at + 8),
      depth: u32At(bytes, at + 16),
      contentHash,
    };
  }
  // Too short: fails naming what is missing.
  const r = new Reader(bytes.subarray(at, end), "APPEND_TURN response");
  return { contextId: r.u64(), turnId: r.u64(), depth: r.u32(), contentHash: r.hash() };
}

/** Bytes of APPEND_TURN's answer: context u64, turn u64, depth u32, hash 32. */
const APPENDED_BYTES = 52;

function u32At(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x100_0000;
}

/** A u64 as a decimal string; below 2^53 without BigInt. */
function u64At(b: Uint8Array, at: number): string {
  const hi = u32At(b, at + 4);
  if (hi < 0x20_0000) return String(hi * 0x1_0000_0000 + u32At(b, at));
  return new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, true).toString();
}

function sameBytes(b: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (expected.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (b[at + i] !== expected[i]) return false;
  return true;
}

/** One turn of a GET_LAST answer (server depth). */
export interface WireTurn {
  /** Turn id. */
  readonly turnId: string;
  /** Parent id; "0" for a first turn. */
  readonly parentTurnId: string;
  /** Server depth (0 for a first turn). */
  readonly depth: number;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** Encoding code. */
  readonly encoding: number;
  /** Compression code as stored. */
  readonly compression: number;
  /** Payload length before compression. */
  readonly uncompressedLength: number;
  /** BLAKE3 of the uncompressed payload, hex. */
  readonly contentHash: string;
  /** The payload, decompressed, when requested. */
  readonly payload?: Uint8Array;
}

/** Decodes a GET_LAST answer, oldest → newest. */
export function decodeTurns(payload: Uint8Array, withPayload: boolean): WireTurn[] {
  const r = new Reader(payload, "GET_LAST response");
  const count = r.u32();
  const out: WireTurn[] = [];
  for (let i = 0; i < count; i++) {
    const turnId = r.u64();
    const parentTurnId = r.u64();
    const depth = r.u32();
    const typeId = td.decode(r.bytes(r.u32()));
    const turn = {
      turnId,
      parentTurnId,
      depth,
      typeId,
      typeVersion: r.u32(),
      encoding: r.u32(),
      compression: r.u32(),
      uncompressedLength: r.u32(),
      contentHash: r.hash(),
    };
    out.push(withPayload ? { ...turn, payload: r.bytes(r.u32()).slice() } : turn);
  }
  return out;
}

/** Encodes a GET_LAST answer (used by the test peer). */
export function encodeTurns(turns: readonly WireTurn[], withPayload: boolean): Uint8Array {
  const w = new Writer(64 * turns.length + 4).u32(turns.length);
  for (const t of turns) {
    const type = te.encode(t.typeId);
    w.u64(t.turnId).u64(t.parentTurnId).u32(t.depth).u32(type.length).bytes(type)
      .u32(t.typeVersion).u32(t.encoding).u32(t.compression).u32(t.uncompressedLength)
      .bytes(hashBytes(t.contentHash, "contentHash"));
    if (withPayload) {
      const p = t.payload ?? new Uint8Array();
      w.u32(p.length).bytes(p);
    }
  }
  return w.done();
}

/** Decodes GET_BLOB's answer. */
export function decodeBlob(payload: Uint8Array): Uint8Array {
  const r = new Reader(payload, "GET_BLOB response");
  return r.bytes(r.u32()).slice();
}

/** PUT_BLOB's answer. */
export interface WirePutBlob {
  /** The blob's hash, hex. */
  readonly hash: string;
  /** True when the server did not have it. */
  readonly wasNew: boolean;
}

/** Decodes PUT_BLOB's answer. */
export function decodePutBlob(payload: Uint8Array): WirePutBlob {
  const r = new Reader(payload, "PUT_BLOB response");
  return { hash: r.hash(), wasNew: r.u8() !== 0 };
}

/** Decodes ATTACH_FS's 40-byte echo. */
export function decodeAttachFs(payload: Uint8Array): { turnId: string; rootHash: string } {
  const r = new Reader(payload, "ATTACH_FS response");
  return { turnId: r.u64(), rootHash: r.hash() };
}

/** An ERROR frame's content. */
export interface WireErrorFrame {
  /** Numeric error code (HTTP-like: 404, 422, ...). */
  readonly code: number;
  /** The server's detail text. */
  readonly detail: string;
}

/** Decodes an ERROR frame. */
export function decodeError(payload: Uint8Array): WireErrorFrame {
  const r = new Reader(payload, "ERROR frame");
  const code = r.u32();
  return { code, detail: td.decode(r.bytes(r.u32())) };
}

/** Encodes an ERROR frame payload (used by the test peer). */
export function encodeError(code: number, detail: string): Uint8Array {
  const d = te.encode(detail);
  return new Writer(8 + d.length).u32(code).u32(d.length).bytes(d).done();
}

/** Response encoders the test peer needs. */
export const encodeResponse = {
  /** HELLO answer. */
  hello: (sessionId: string): Uint8Array => new Writer(10).u64(sessionId).u16(1).done(),
  /** CTX_CREATE/CTX_FORK/GET_HEAD answer. */
  head: (h: WireHead): Uint8Array =>
    new Writer(20).u64(h.contextId).u64(h.headTurnId).u32(h.headDepth).done(),
  /** APPEND_TURN answer. */
  appended: (a: WireAppended): Uint8Array =>
    new Writer(52).u64(a.contextId).u64(a.turnId).u32(a.depth)
      .bytes(hashBytes(a.contentHash, "contentHash")).done(),
  /** GET_BLOB answer. */
  blob: (bytes: Uint8Array): Uint8Array =>
    new Writer(4 + bytes.length).u32(bytes.length).bytes(bytes).done(),
  /** PUT_BLOB answer. */
  putBlob: (hash: string, wasNew: boolean): Uint8Array =>
    new Writer(33).bytes(hashBytes(hash, "hash")).u8(wasNew ? 1 : 0).done(),
  /** ATTACH_FS echo. */
  attachFs: (turnId: string, rootHash: string): Uint8Array =>
    new Writer(40).u64(turnId).bytes(hashBytes(rootHash, "rootHash")).done(),
};
