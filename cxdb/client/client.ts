/**
 * The CXDB binary client: one TCP (or TLS) connection carrying many requests
 * at once, matched by `req_id`, with timeouts, AbortSignal, a bounded queue,
 * and reconnection with backoff.
 *
 * When the server closes the connection (it does that instead of answering
 * most bad requests) the oldest unanswered request is the suspect: it is sent
 * again alone on a new connection, and fails with a clear error only if the
 * server drops it again. Every other unanswered request is replayed. An append
 * is never simply re-sent: the client first looks at the context's newest
 * turns for a turn it cannot otherwise account for with the same type,
 * version, BLAKE3 hash (and parent), created after the append was sent; if
 * there is one the append did happen and its lost answer is rebuilt.
 *
 * @module
 */
import { blake3Bytes } from "@forge/turnstore";
import {
  appendPayloadBytes,
  type AppendRequest,
  concatBytes,
  decodeAppended,
  decodeAttachFs,
  decodeBlob,
  decodeError,
  decodeHead,
  decodeHello,
  decodePutBlob,
  decodeTurns,
  encodeAppendInto,
  encodeAttachFs,
  encodeCtxCreate,
  encodeCtxFork,
  encodeGetBlob,
  encodeGetHead,
  encodeGetLast,
  encodeHello,
  encodePutBlob,
  ENCODING_MSGPACK,
  FrameParser,
  HEADER_BYTES,
  hexOf,
  MsgType,
  type WireAppended,
  type WireHead,
  type WirePutBlob,
  type WireTurn,
} from "../protocol/wire.ts";
import { compressForWire, decompressFromWire } from "../protocol/compress.ts";
import { ConnectionDroppedError, CxdbError, ServerError } from "./errors.ts";
import { FrameArena } from "./arena.ts";

/** TLS settings of a connection. */
export interface CxdbTlsOptions {
  /** PEM CA certificates to trust besides the system's. */
  readonly caCerts?: string[];
}

/** Reconnection policy. */
export interface ReconnectOptions {
  /** Connection attempts before queued requests fail; default 8. */
  readonly attempts?: number;
  /** First backoff delay in ms; default 10. Doubles per attempt. */
  readonly initialDelayMs?: number;
  /** Largest backoff delay in ms; default 2000. */
  readonly maxDelayMs?: number;
}

/** Options of {@link CxdbClient}. */
export interface CxdbClientOptions {
  /** Server host; default 127.0.0.1. */
  readonly hostname?: string;
  /** Binary protocol port; default 9009. */
  readonly port?: number;
  /** Connect with TLS (true, or settings). */
  readonly tls?: boolean | CxdbTlsOptions;
  /** Client tag sent in HELLO; default "forge-deno". */
  readonly clientTag?: string;
  /** Per-request timeout in ms; default 30000. */
  readonly timeoutMs?: number;
  /** Most requests sent and unanswered at once; default 512. */
  readonly maxInFlight?: number;
  /** Most requests waiting to be sent; more fail with QueueFull. Default 100000. */
  readonly maxQueued?: number;
  /** Reconnection policy. */
  readonly reconnect?: ReconnectOptions;
  /** Payloads of at least this many bytes are sent zstd-compressed; default 64 KiB. */
  readonly compressThreshold?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Cancels the call. An append already sent may still happen. */
  readonly signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  readonly timeoutMs?: number;
}

/** An append as the client takes it. */
export interface ClientAppend {
  /** Context to extend. */
  readonly contextId: string;
  /** Parent turn; absent or "0" = the server's current head. */
  readonly parentTurnId?: string;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** Payload (uncompressed). */
  readonly payload: Uint8Array;
  /** Encoding code; default 1 (msgpack). */
  readonly encoding?: number;
  /** Sent to the server, which ignores it (see the turn store for exactly-once). */
  readonly idempotencyKey?: string;
  /** Tree root to attach (flags bit0). */
  readonly fsRootHash?: string;
  /** BLAKE3 of `payload` (32 bytes), when the caller already computed it (saves hashing twice). */
  readonly contentHash?: Uint8Array;
}

/** Counters a caller can watch. */
export interface ClientStats {
  /** Connections opened. */
  connects: number;
  /** Connections lost while requests were unanswered. */
  drops: number;
  /** Appends whose lost answer was recovered from the context's turns. */
  recoveredAppends: number;
  /** Appends sent again after a drop because the server had not stored them. */
  resentAppends: number;
}

/** What recovery matches a lost append's turn by (its request: contentHash is 32 bytes). */
type AppendIdentity = Pick<
  AppendRequest,
  "contextId" | "parentTurnId" | "typeId" | "typeVersion" | "contentHash"
>;

/** One request, from submission to its answer. Methods, not closures: there is one per append. */
class Pending {
  sent = false;
  settled = false;
  /** Highest turn id this client had seen when the request was sent (decimal; parsed only to recover). */
  watermark = "0";
  /** performance.now() after which the request times out. */
  deadline = Infinity;
  timeoutMs = 0;
  onAbort?: () => void;
  signal?: AbortSignal;
  #op: string | (() => string);

  constructor(
    readonly id: bigint,
    readonly msgType: number,
    /** The whole frame, header included; the same bytes go out again on a replay. */
    readonly frame: Uint8Array,
    op: string | (() => string),
    readonly append: AppendIdentity | undefined,
    /** Send only with nothing else in flight. */
    public isolated: boolean,
    /** Gets the answer's payload; for APPEND_TURN, the decoded {@link WireAppended}. */
    readonly resolveFn: (answer: unknown) => void,
    readonly rejectFn: (error: Error) => void,
  ) {
    this.#op = op;
  }

  /** The operation's description, built on first use (only errors need it). */
  get op(): string {
    if (typeof this.#op !== "string") this.#op = this.#op();
    return this.#op;
  }
}

const U32_MAX = 0xffff_ffff;
const CLAIMED_LIMIT = 200_000;
/** Granularity of request timeouts, in ms. */
const SWEEP_MS = 10;
/**
 * With this many requests waiting, they go out at once instead of at the end
 * of the tick: the server starts on them while later callers are still
 * encoding, instead of client and server taking turns with whole batches.
 * Measured with 64 in flight (in-process A/B, medians of 5 rounds over four
 * runs): 32 beat 8, 16, 24, 48 and "grow with what is in flight"; any early
 * flush beat none. Writes are costly here (each wakes the server), so
 * fewer, larger ones win once the server has something to work on.
 */
const FLUSH_EVERY = 32;

/** A pipelined, reconnecting CXDB binary-protocol client. */
export class CxdbClient {
  readonly #hostname: string;
  readonly #port: number;
  readonly #tls?: CxdbTlsOptions;
  readonly #clientTag: string;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #attempts: number;
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #compressThreshold: number;

  #conn: Deno.Conn | undefined;
  #connecting: Promise<void> | undefined;
  #readLoops = new Set<Promise<void>>();
  #writeChain: Promise<void> = Promise.resolve();
  #writer: { conn: Deno.Conn; busy: boolean; backlog: Uint8Array[] } | undefined;
  #queue: Pending[] = [];
  #arena = new FrameArena();
  #inflight = new Map<bigint, Pending>();
  #isolating = false;
  #nextId = 1n;
  #closed = false;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffWake: (() => void) | undefined;
  #maxTurnText = "0";
  #claimed = new Set<string>();
  #recoveries = new Set<Promise<void>>();
  #timed = new Set<Pending>();
  #pumpQueued = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Connections in a row that closed before answering anything. */
  #fruitless = 0;

  /** Counters: connections, drops, recovered and resent appends. */
  readonly stats: ClientStats = { connects: 0, drops: 0, recoveredAppends: 0, resentAppends: 0 };

  /** Creates a client; it connects on the first request. */
  constructor(options: CxdbClientOptions = {}) {
    this.#hostname = options.hostname ?? "127.0.0.1";
    this.#port = options.port ?? 9009;
    this.#tls = options.tls === true ? {} : options.tls || undefined;
    this.#clientTag = options.clientTag ?? "forge-deno";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxInFlight = options.maxInFlight ?? 512;
    this.#maxQueued = options.maxQueued ?? 100_000;
    this.#attempts = options.reconnect?.attempts ?? 8;
    this.#initialDelay = options.reconnect?.initialDelayMs ?? 10;
    this.#maxDelay = options.reconnect?.maxDelayMs ?? 2000;
    this.#compressThreshold = options.compressThreshold ?? 64 * 1024;
  }

  /** "host:port" of the server. */
  get address(): string {
    return `${this.#hostname}:${this.#port}`;
  }

  /** The highest turn id any answer has shown this client. */
  get maxTurnIdSeen(): string {
    return this.#maxTurnText;
  }

  /** Opens the connection now instead of on the first request. */
  async connect(): Promise<void> {
    if (this.#closed) {
      throw new CxdbError("Closed", "connect", `CXDB client for ${this.address} is closed`);
    }
    if (!this.#conn) await this.#ensureConnected();
    if (!this.#conn) {
      throw new CxdbError("Unavailable", "connect", `cannot connect to CXDB at ${this.address}`);
    }
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
    // Not async, and one `then`: this is the hot path, and every async layer
    // costs a promise and a microtask hop per append.
    let hash: Uint8Array;
    let wire: { compression: number; bytes: Uint8Array };
    try {
      hash = input.contentHash ?? blake3Bytes(input.payload);
      wire = compressForWire(input.payload, this.#compressThreshold);
    } catch (error) {
      return Promise.reject(error);
    }
    const parent = input.parentTurnId ?? "0";
    const req: AppendRequest = {
      contextId: input.contextId,
      parentTurnId: parent,
      typeId: input.typeId,
      typeVersion: input.typeVersion,
      encoding: input.encoding ?? ENCODING_MSGPACK,
      compression: wire.compression,
      uncompressedLength: input.payload.length,
      contentHash: hash,
      payload: wire.bytes,
      idempotencyKey: input.idempotencyKey,
      fsRootHash: input.fsRootHash,
    };
    const op = () =>
      `APPEND_TURN (context ${input.contextId}, parent ${parent}, type ${input.typeId} v${input.typeVersion}${
        input.fsRootHash ? `, fs root ${input.fsRootHash}` : ""
      })`;
    // The request doubles as the identity a lost answer is recovered by. The
    // read loop decodes and claims the answer (no copy of it, no extra hop).
    return this.#submit<WireAppended>(MsgType.APPEND_TURN, 0, req, op, options, req);
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
    const contentHash = hexOf(input.contentHash ?? blake3Bytes(input.payload));
    const since = BigInt(sinceTurnId);
    const parent = input.parentTurnId ?? "0";
    for (let limit = 64;; limit *= 4) {
      const turns = await this.getLast(input.contextId, limit, false);
      const match = turns.find((t) =>
        BigInt(t.turnId) > since && !this.#claimed.has(t.turnId) && t.typeId === input.typeId &&
        t.typeVersion === input.typeVersion && t.contentHash === contentHash &&
        (parent === "0" || t.parentTurnId === parent)
      );
      if (match) {
        this.#claim(match.turnId);
        return {
          contextId: input.contextId,
          turnId: match.turnId,
          depth: match.depth,
          contentHash,
        };
      }
      if (turns.length < limit || BigInt(turns[0]?.turnId ?? "0") <= since || limit >= 65_536) {
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
    for (const t of turns) this.#see(t.turnId);
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
    const hash = hexOf(blake3Bytes(bytes));
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
   * reject with {@link ServerError}. `op` names the request in errors.
   */
  request(
    msgType: number,
    flags: number,
    payload: Uint8Array,
    op: string,
    options: CallOptions = {},
  ): Promise<Uint8Array> {
    return this.#submit(msgType, flags, payload, op, options);
  }

  /**
   * `body` is a request payload, or an append encoded straight into the frame.
   * Resolves with the answer's payload; an APPEND_TURN with the decoded answer.
   */
  #submit<T = Uint8Array>(
    msgType: number,
    flags: number,
    body: Uint8Array | AppendRequest,
    op: string | (() => string),
    options: CallOptions = {},
    append?: AppendIdentity,
    placement: { isolated?: boolean; front?: boolean } = {},
  ): Promise<T> {
    const text = () => (typeof op === "string" ? op : op());
    if (this.#closed) {
      return Promise.reject(
        new CxdbError("Closed", text(), `${text()}: the CXDB client for ${this.address} is closed`),
      );
    }
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new CxdbError(
          "QueueFull",
          text(),
          `${text()}: ${this.#queue.length} requests are already waiting to be sent to ${this.address} (maxQueued)`,
        ),
      );
    }
    const signal = options.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new CxdbError("Aborted", text(), `${text()}: aborted before it was sent`, {
          cause: signal.reason,
        }),
      );
    }
    let frame: Uint8Array;
    const id = this.#nextId;
    try {
      frame = this.#encodeFrame(msgType, flags, id, body);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const p = new Pending(
        id,
        msgType,
        frame,
        op,
        append,
        placement.isolated ?? false,
        resolve as (answer: unknown) => void,
        reject,
      );
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timeoutMs = timeoutMs;
        p.deadline = performance.now() + timeoutMs;
        this.#timed.add(p);
        // One sweeper for every deadline instead of a timer per request.
        this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS);
      }
      if (signal) {
        p.signal = signal;
        p.onAbort = () =>
          this.#fail(
            p,
            new CxdbError(
              "Aborted",
              p.op,
              `${p.op}: aborted${
                p.sent && append ? " after it was sent; the append may still have happened" : ""
              }`,
              { cause: signal.reason, outcomeUnknown: p.sent && append !== undefined },
            ),
          );
        signal.addEventListener("abort", p.onAbort, { once: true });
      }
      if (placement.front) this.#queue.unshift(p);
      else this.#queue.push(p);
      this.#schedulePump();
    });
  }

  /** Encodes a frame into the arena: header, then `body` (an append is encoded in place). */
  #encodeFrame(
    msgType: number,
    flags: number,
    id: bigint,
    body: Uint8Array | AppendRequest,
  ): Uint8Array {
    const arena = this.#arena;
    const size = body instanceof Uint8Array ? body.length : appendPayloadBytes(body);
    arena.reserve(HEADER_BYTES + size);
    const { bytes, view, at } = arena;
    if (body instanceof Uint8Array) bytes.set(body, at + HEADER_BYTES);
    else flags |= encodeAppendInto(body, bytes, view, at + HEADER_BYTES);
    view.setUint32(at, size, true);
    view.setUint16(at + 4, msgType, true);
    view.setUint16(at + 6, flags, true);
    view.setBigUint64(at + 8, id, true);
    return bytes.subarray(at, at + HEADER_BYTES + size);
  }

  #settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    if (p.deadline !== Infinity) this.#timed.delete(p);
    if (p.onAbort) p.signal!.removeEventListener("abort", p.onAbort);
    return true;
  }

  #ok(p: Pending, answer: unknown): void {
    if (this.#settle(p)) p.resolveFn(answer);
  }

  #fail(p: Pending, error: Error): void {
    if (!this.#settle(p)) return;
    this.#forget(p);
    p.rejectFn(error);
  }

  /** Closes the connection; pending requests fail with Closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#backoffWake?.();
    const closedError = (p: Pending) =>
      new CxdbError("Closed", p.op, `${p.op}: the CXDB client for ${this.address} was closed`);
    for (const p of [...this.#queue, ...this.#inflight.values()]) this.#fail(p, closedError(p));
    this.#queue = [];
    this.#inflight.clear();
    this.#timed.clear();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch { /* already closed */ }
    await this.#connecting?.catch(() => {});
    await Promise.allSettled([...this.#readLoops, ...this.#recoveries, this.#writeChain]);
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------- internals

  /**
   * With nothing in flight a request goes out at once (lowest latency). With
   * requests in flight, sending waits for the current microtasks, so that the
   * callers woken by one batch of answers send their next requests together.
   * (A macrotask here measured twice as slow: timers add latency.)
   */
  #schedulePump(): void {
    if (this.#inflight.size === 0 || !this.#conn) return this.#pump();
    if (this.#queue.length >= FLUSH_EVERY) return this.#pump();
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #sweep(): void {
    const now = performance.now();
    for (const p of this.#timed) {
      if (p.deadline > now) continue;
      this.#fail(
        p,
        new CxdbError(
          "Timeout",
          p.op,
          `${p.op}: no answer from ${this.address} within ${p.timeoutMs} ms${
            p.sent && p.append ? "; the append may still have happened" : ""
          }`,
          { outcomeUnknown: p.sent && p.append !== undefined },
        ),
      );
    }
    if (this.#timed.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #see(turnId: string): void {
    // Canonical decimal strings compare by length, then text: no BigInt on the hot path.
    const max = this.#maxTurnText;
    if (turnId.length > max.length || (turnId.length === max.length && turnId > max)) {
      this.#maxTurnText = turnId;
    }
  }

  #claim(turnId: string): void {
    this.#see(turnId);
    this.#claimed.add(turnId);
    if (this.#claimed.size > CLAIMED_LIMIT) {
      // Sets iterate in insertion order: drop the oldest claims.
      let n = this.#claimed.size - CLAIMED_LIMIT;
      for (const id of this.#claimed) {
        if (n-- <= 0) break;
        this.#claimed.delete(id);
      }
    }
  }

  #forget(p: Pending): void {
    const i = this.#queue.indexOf(p);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#inflight.delete(p.id) && p.isolated) this.#isolating = false;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    if (this.#closed || this.#queue.length === 0) return;
    const conn = this.#conn;
    if (!conn) {
      void this.#ensureConnected();
      return;
    }
    if (this.#isolating) return;
    const batch: Pending[] = [];
    let total = 0;
    while (batch.length < this.#queue.length && this.#inflight.size < this.#maxInFlight) {
      const p = this.#queue[batch.length];
      if (p.isolated && (this.#inflight.size > 0 || batch.length > 0)) break;
      p.sent = true;
      p.watermark = this.#maxTurnText;
      this.#inflight.set(p.id, p);
      batch.push(p);
      total += p.frame.length;
      if (p.isolated) {
        this.#isolating = true;
        break;
      }
    }
    if (batch.length === 0) return;
    this.#queue.splice(0, batch.length);
    // One write for the whole batch; frames submitted in a row already sit
    // side by side in the arena, so usually without a copy.
    const first = batch[0].frame;
    let end = first.byteOffset + first.length;
    let adjacent = true;
    for (let i = 1; i < batch.length && adjacent; i++) {
      const f = batch[i].frame;
      adjacent = f.buffer === first.buffer && f.byteOffset === end;
      end += f.length;
    }
    this.#write(
      conn,
      adjacent
        ? new Uint8Array(first.buffer, first.byteOffset, total)
        : concatBytes(batch.map((p) => p.frame)),
    );
  }

  /**
   * Writes in order. While a write is under way, later batches wait and leave
   * together in the next write (fewer system calls under load).
   */
  #write(conn: Deno.Conn, buf: Uint8Array): void {
    const w = this.#writer;
    if (w && w.conn === conn && w.busy) {
      // Batches encoded in a row are adjacent in the arena: grow the last view instead of copying.
      const last = w.backlog[w.backlog.length - 1];
      if (last && last.buffer === buf.buffer && last.byteOffset + last.length === buf.byteOffset) {
        w.backlog[w.backlog.length - 1] = new Uint8Array(
          last.buffer,
          last.byteOffset,
          last.length + buf.length,
        );
      } else {
        w.backlog.push(buf);
      }
      return;
    }
    const state = { conn, busy: true, backlog: [buf] };
    this.#writer = state;
    this.#writeChain = (async () => {
      try {
        while (state.backlog.length > 0) {
          const parts = state.backlog;
          state.backlog = [];
          await writeAll(conn, parts.length === 1 ? parts[0] : concatBytes(parts));
        }
      } catch (error) {
        state.backlog = [];
        this.#lost(conn, error);
      } finally {
        state.busy = false;
      }
    })();
  }

  #ensureConnected(): Promise<void> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      let lastError: unknown;
      for (let attempt = 0; attempt < this.#attempts && !this.#closed; attempt++) {
        const step = attempt + this.#fruitless;
        if (step > 0) {
          await this.#sleep(Math.min(this.#maxDelay, this.#initialDelay * 2 ** (step - 1)));
          if (this.#closed) return;
        }
        try {
          let conn: Deno.Conn;
          if (this.#tls) {
            const tls = await Deno.connectTls({
              hostname: this.#hostname,
              port: this.#port,
              caCerts: this.#tls.caCerts,
            });
            try {
              // Fail here, as a connect error, rather than on the first read.
              await tls.handshake();
            } catch (error) {
              tls.close();
              throw error;
            }
            conn = tls;
          } else {
            conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
          }
          if (this.#closed) {
            conn.close();
            return;
          }
          // The server leaves Nagle on; at least our side sends at once.
          if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
          this.#conn = conn;
          this.stats.connects++;
          const loop = this.#readLoop(conn);
          this.#readLoops.add(loop);
          loop.finally(() => this.#readLoops.delete(loop));
          this.#sendHello();
          return;
        } catch (error) {
          lastError = error;
        }
      }
      if (this.#closed) return;
      const queued = this.#queue.splice(0);
      for (const p of queued) {
        this.#fail(
          p,
          new CxdbError(
            "Unavailable",
            p.op,
            `${p.op}: cannot connect to CXDB at ${this.address} after ${this.#attempts} attempts: ${
              (lastError as Error)?.message
            }`,
            { cause: lastError },
          ),
        );
      }
    })().finally(() => {
      this.#connecting = undefined;
      this.#pump();
    });
    return this.#connecting;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#backoffWake = resolve;
      this.#backoffTimer = setTimeout(() => {
        this.#backoffTimer = undefined;
        resolve();
      }, ms);
    });
  }

  #sendHello(): void {
    const op = `HELLO (tag ${this.#clientTag})`;
    // HELLO goes first on every connection; nobody waits for its answer.
    this.#submit(MsgType.HELLO, 0, encodeHello(this.#clientTag), op, { timeoutMs: 0 }, undefined, {
      front: true,
    }).then(decodeHello, () => {});
  }

  async #readLoop(conn: Deno.Conn): Promise<void> {
    const parser = new FrameParser();
    const buf = new Uint8Array(256 * 1024);
    let cause: unknown;
    let answered = false;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        parser.push(buf.subarray(0, n));
        // Payloads are views into the parser, valid until the next push: each
        // is decoded or copied here.
        for (let f = parser.next(false); f; f = parser.next(false)) {
          answered = true;
          this.#fruitless = 0;
          const p = this.#inflight.get(f.header.reqId);
          if (!p) continue; // timed out or aborted: the answer is no longer wanted
          this.#inflight.delete(f.header.reqId);
          if (p.isolated) this.#isolating = false;
          if (f.header.msgType === MsgType.ERROR) {
            const e = decodeError(f.payload);
            this.#fail(p, new ServerError(p.op, e.code, e.detail));
          } else if (p.append) {
            // Sent by appendTurn (not a raw request()): answered decoded.
            this.#appendAnswered(p, f.payload);
          } else {
            this.#ok(p, f.payload.slice());
          }
        }
        this.#pump();
      }
    } catch (error) {
      cause = error;
    }
    this.#lost(conn, cause, answered);
  }

  #appendAnswered(p: Pending, payload: Uint8Array): void {
    let answer: WireAppended;
    try {
      answer = decodeAppended(payload);
    } catch (error) {
      this.#fail(p, error as Error);
      return;
    }
    if (p.settled) return;
    this.#claim(answer.turnId);
    this.#ok(p, answer);
  }

  #lost(conn: Deno.Conn, cause: unknown, answered = true): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#isolating = false;
    try {
      conn.close();
    } catch { /* already closed */ }
    if (this.#closed) return;
    // Each connection sends its own HELLO: an unanswered one is not retried.
    const unanswered = [...this.#inflight.values()].filter((p) => {
      if (p.msgType !== MsgType.HELLO) return !p.settled;
      this.#fail(p, new CxdbError("ConnectionDropped", p.op, `${p.op}: connection closed`));
      return false;
    });
    this.#inflight.clear();
    if (!answered && ++this.#fruitless >= this.#attempts) {
      // The server accepts and closes without answering anything: give up.
      this.#fruitless = 0;
      for (const p of [...unanswered, ...this.#queue.splice(0)]) {
        this.#fail(
          p,
          new CxdbError(
            "Unavailable",
            p.op,
            `${p.op}: CXDB at ${this.address} closed ${this.#attempts} connections in a row without answering`,
            { cause },
          ),
        );
      }
      return;
    }
    if (unanswered.length === 0) {
      this.#pump();
      return;
    }
    this.stats.drops++;
    const [suspect, ...others] = unanswered;
    const retry: Pending[] = [];
    if (suspect.isolated) {
      // It was alone on a fresh connection and the server dropped it again.
      this.#fail(suspect, new ConnectionDroppedError(suspect.op, { cause }));
    } else {
      suspect.isolated = true;
      retry.push(suspect);
    }
    retry.push(...others);
    for (const p of retry) p.sent = false;
    this.#queue.unshift(...retry.filter((p) => !p.append));
    // Started after the plain requests are queued, so that a suspect append's
    // check goes first, alone.
    for (const p of retry) if (p.append) this.#track(this.#recover(p));
    this.#pump();
  }

  #track(recovery: Promise<void>): void {
    this.#recoveries.add(recovery);
    recovery.finally(() => this.#recoveries.delete(recovery));
  }

  /**
   * Decides whether an unanswered append happened: looks for a turn it can
   * account for among the context's newest turns, and re-sends it only when
   * there is none.
   */
  async #recover(p: Pending): Promise<void> {
    const a = p.append!;
    const watermark = BigInt(p.watermark);
    const contentHash = typeof a.contentHash === "string" ? a.contentHash : hexOf(a.contentHash);
    try {
      let limit = 64;
      for (;;) {
        const op = `GET_LAST (context ${a.contextId}, checking whether ${p.op} was stored)`;
        const answer = await this.#submit(
          MsgType.GET_LAST,
          0,
          encodeGetLast(a.contextId, limit, false),
          op,
          {},
          undefined,
          { isolated: p.isolated, front: p.isolated },
        ).catch((error) => {
          throw error instanceof ConnectionDroppedError
            ? new ConnectionDroppedError(p.op, { cause: error })
            : error;
        });
        if (p.settled) return;
        const turns = decodeTurns(answer, false);
        const match = turns.find((t) =>
          BigInt(t.turnId) > watermark && !this.#claimed.has(t.turnId) &&
          t.typeId === a.typeId && t.typeVersion === a.typeVersion &&
          t.contentHash === contentHash &&
          (a.parentTurnId === "0" || t.parentTurnId === a.parentTurnId)
        );
        if (match) {
          this.#claim(match.turnId);
          this.stats.recoveredAppends++;
          const rebuilt: WireAppended = {
            contextId: a.contextId,
            turnId: match.turnId,
            depth: match.depth,
            contentHash: match.contentHash,
          };
          this.#ok(p, rebuilt);
          return;
        }
        const reachedWatermark = turns.length < limit ||
          (turns.length > 0 && BigInt(turns[0].turnId) <= watermark);
        if (reachedWatermark || limit >= 65_536) break;
        limit *= 4;
      }
      if (p.settled) return;
      this.stats.resentAppends++;
      if (p.isolated) this.#queue.unshift(p);
      else this.#queue.push(p);
      this.#pump();
    } catch (error) {
      this.#fail(p, error as Error);
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
