/**
 * The CXDB binary client: the protocol's operations over a pipelined,
 * reconnecting connection (transport.ts) that recovers the answers of appends
 * lost to a dropped connection (lost_append.ts) instead of appending twice.
 *
 * @module
 */
import { blake3Bytes, toHex } from "@forge/turnstore";
import {
  type AppendRequest,
  COMPRESSION_NONE,
  decodeAttachFs,
  decodeBlob,
  decodeHead,
  decodePutBlob,
  decodeTurns,
  encodeAttachFs,
  encodeCtxCreate,
  encodeCtxFork,
  encodeGetBlob,
  encodeGetHead,
  encodeGetLast,
  encodePutBlob,
  ENCODING_MSGPACK,
  MsgType,
  type WireAppended,
  type WireHead,
  type WirePutBlob,
  type WireTurn,
} from "../protocol/wire.ts";
import { compressForWire, decompressFromWire } from "../protocol/compress.ts";
import { findLostTurn, FIRST_WINDOW, MAX_WINDOW } from "./lost_append.ts";
import type {
  AppendSink,
  CallOptions,
  ClientAppend,
  ClientStats,
  CxdbClientOptions,
} from "./options.ts";
import { Transport } from "./transport.ts";

export type {
  AppendSink,
  CallOptions,
  ClientAppend,
  ClientStats,
  CxdbClientOptions,
  CxdbTlsOptions,
  ReconnectOptions,
} from "./options.ts";

const U32_MAX = 0xffff_ffff;

/** A pipelined, reconnecting CXDB binary-protocol client. */
export class CxdbClient {
  readonly #transport: Transport;
  readonly #compressThreshold: number;

  /** Creates a client; it connects on the first request. */
  constructor(options: CxdbClientOptions = {}) {
    this.#transport = new Transport(options);
    this.#compressThreshold = options.compressThreshold ?? 64 * 1024;
  }

  /** Counters: connections, drops, recovered and resent appends. */
  get stats(): ClientStats {
    return this.#transport.stats;
  }

  /** "host:port" of the server. */
  get address(): string {
    return this.#transport.address;
  }

  /** The highest turn id any answer has shown this client. */
  get maxTurnIdSeen(): string {
    return this.#transport.maxTurnIdSeen;
  }

  /** Opens the connection now instead of on the first request. */
  connect(): Promise<void> {
    return this.#transport.connect();
  }

  // ------------------------------------------------------------ operations

  /** CTX_CREATE: an empty context, or one headed at `baseTurnId`. */
  async createContext(baseTurnId = "0", options?: CallOptions): Promise<WireHead> {
    const op = `CTX_CREATE (base turn ${baseTurnId})`;
    return decodeHead(
      await this.request(MsgType.CTX_CREATE, 0, encodeCtxCreate(baseTurnId), op, options),
      op,
    );
  }

  /** CTX_FORK: a new context headed at `baseTurnId`. */
  async forkContext(baseTurnId: string, options?: CallOptions): Promise<WireHead> {
    const op = `CTX_FORK (base turn ${baseTurnId})`;
    return decodeHead(
      await this.request(MsgType.CTX_FORK, 0, encodeCtxFork(baseTurnId), op, options),
      op,
    );
  }

  /** GET_HEAD of a context. */
  async getHead(contextId: string, options?: CallOptions): Promise<WireHead> {
    const op = `GET_HEAD (context ${contextId})`;
    return decodeHead(
      await this.request(MsgType.GET_HEAD, 0, encodeGetHead(contextId), op, options),
      op,
    );
  }

  /** APPEND_TURN; hashes with BLAKE3 and compresses large payloads with zstd. */
  appendTurn(input: ClientAppend, options?: CallOptions): Promise<WireAppended> {
    return new Promise((resolve, reject) => {
      this.appendTurnTo(input, { answered: resolve, failed: reject }, options);
    });
  }

  /**
   * {@link CxdbClient.appendTurn} without a promise: the decoded answer, or
   * the error, goes to `sink`, from the read loop (or at once when the
   * append cannot be sent). For callers that finish each append themselves,
   * as the turn store does: a promise and a microtask hop fewer per append.
   */
  appendTurnTo(input: ClientAppend, sink: AppendSink, options?: CallOptions): void {
    let hash: Uint8Array;
    let compression = COMPRESSION_NONE;
    let bytes = input.payload;
    try {
      hash = input.contentHash ?? sink.sentHash ?? blake3Bytes(input.payload);
      if (bytes.length >= this.#compressThreshold) {
        ({ compression, bytes } = compressForWire(bytes, this.#compressThreshold));
      }
    } catch (error) {
      return sink.failed(error as Error);
    }
    const req: AppendRequest = {
      contextId: input.contextId,
      parentTurnId: input.parentTurnId ?? "0",
      typeId: input.typeId,
      typeVersion: input.typeVersion,
      encoding: input.encoding ?? ENCODING_MSGPACK,
      compression,
      uncompressedLength: input.payload.length,
      contentHash: hash,
      payload: bytes,
      idempotencyKey: input.idempotencyKey,
      fsRootHash: input.fsRootHash,
    };
    // The request doubles as the identity a lost answer is recovered by, and
    // describes the operation in errors. The read loop decodes and claims the
    // answer (no copy of it, no extra hop).
    this.#transport.send(MsgType.APPEND_TURN, 0, req, undefined, sink, options, req);
  }

  /**
   * Looks for a turn an earlier append of exactly this content created after
   * turn `sinceTurnId` (a watermark taken before that append was sent) and
   * that no answer has accounted for; claims and returns it, or undefined.
   * Used to settle an append whose outcome is unknown (timed out, aborted).
   */
  async findAppended(
    input: Omit<ClientAppend, "fsRootHash" | "idempotencyKey" | "encoding">,
    sinceTurnId: string,
  ): Promise<WireAppended | undefined> {
    const contentHash = toHex(input.contentHash ?? blake3Bytes(input.payload));
    const since = BigInt(sinceTurnId);
    const identity = {
      contextId: input.contextId,
      parentTurnId: input.parentTurnId ?? "0",
      typeId: input.typeId,
      typeVersion: input.typeVersion,
      contentHash,
    };
    for (let limit = FIRST_WINDOW;; limit *= 4) {
      const turns = await this.getLast(input.contextId, limit, false);
      const match = findLostTurn(this.#transport, turns, identity, since);
      if (match) {
        this.#transport.claim(match.turnId);
        return {
          contextId: input.contextId,
          turnId: match.turnId,
          depth: match.depth,
          contentHash,
        };
      }
      if (turns.length < limit || BigInt(turns[0]?.turnId ?? "0") <= since || limit >= MAX_WINDOW) {
        return undefined;
      }
    }
  }

  /** GET_LAST: up to `limit` newest turns of a context, oldest → newest. */
  async getLast(
    contextId: string,
    limit: number,
    includePayload: boolean,
    options?: CallOptions,
  ): Promise<WireTurn[]> {
    const op = `GET_LAST (context ${contextId}, limit ${limit})`;
    const turns = decodeTurns(
      await this.request(
        MsgType.GET_LAST,
        0,
        encodeGetLast(contextId, Math.min(limit, U32_MAX), includePayload),
        op,
        options,
      ),
      includePayload,
    );
    for (const t of turns) this.#transport.see(t.turnId);
    if (!includePayload) return turns;
    // The server sends payloads decompressed; undo zstd only if one was not.
    return turns.map((t) =>
      t.payload && t.payload.length !== t.uncompressedLength
        ? { ...t, payload: decompressFromWire(t.compression, t.payload, t.uncompressedLength) }
        : t
    );
  }

  /** GET_BLOB by hash. */
  async getBlob(hash: string, options?: CallOptions): Promise<Uint8Array> {
    const op = `GET_BLOB (hash ${hash})`;
    return decodeBlob(await this.request(MsgType.GET_BLOB, 0, encodeGetBlob(hash), op, options));
  }

  /** PUT_BLOB: stores `bytes` under their BLAKE3 hash. */
  async putBlob(bytes: Uint8Array, options?: CallOptions): Promise<WirePutBlob> {
    const hash = toHex(blake3Bytes(bytes));
    const op = `PUT_BLOB (hash ${hash}, ${bytes.length} bytes)`;
    return decodePutBlob(
      await this.request(MsgType.PUT_BLOB, 0, encodePutBlob(hash, bytes), op, options),
    );
  }

  /** ATTACH_FS: attaches a stored tree root to a turn. */
  async attachFs(turnId: string, rootHash: string, options?: CallOptions): Promise<void> {
    const op = `ATTACH_FS (turn ${turnId}, root ${rootHash})`;
    decodeAttachFs(
      await this.request(MsgType.ATTACH_FS, 0, encodeAttachFs(turnId, rootHash), op, options),
    );
  }

  /**
   * Sends one raw request and resolves with the answer's payload. ERROR frames
   * reject with `ServerError`. `op` names the request in errors.
   */
  request(
    msgType: number,
    flags: number,
    payload: Uint8Array,
    op: string,
    options: CallOptions = {},
  ): Promise<Uint8Array> {
    return this.#transport.submit(msgType, flags, payload, op, options);
  }

  /** Closes the connection; pending requests fail with Closed. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
