/**
 * The CXDB binary client's transport: one TCP (or TLS) connection carrying
 * many requests at once, matched by `req_id`, with timeouts, AbortSignal, a
 * bounded queue, batching of writes, and reconnection with backoff.
 *
 * When the server closes the connection (it does that instead of answering
 * most bad requests) the oldest unanswered request is the suspect: it is sent
 * again alone on a new connection, and fails with a clear error only if the
 * server drops it again. Every other unanswered request is replayed; an
 * unanswered append goes to lost_append.ts instead of being re-sent.
 *
 * @module
 */
import {
  type AppendRequest,
  decodeAppendedAt,
  decodeError,
  decodeHello,
  encodeHello,
  FrameParser,
  MsgType,
  type WireAppended,
} from "../protocol/wire.ts";
import { WireError } from "../protocol/frame.ts";
import { ConnectionDroppedError, CxdbError, ServerError } from "./errors.ts";
import { encodeFrame, FrameArena } from "./arena.ts";
import { recoverLostAppend } from "./lost_append.ts";
import type { CallOptions, ClientStats, CxdbClientOptions, CxdbTlsOptions } from "./options.ts";
import { type AppendIdentity, Pending, type RequestSink } from "./pending.ts";
import { refusal } from "./refusal.ts";
import { backoffDelay, type RetryPolicy, retryPolicy } from "./retry.ts";
import { TurnClaims } from "./claims.ts";
import { checkClientOptions, checkTimeout } from "./check_options.ts";
import { ConnWriter, dial } from "./socket.ts";
import { Deadlines } from "./deadlines.ts";
import { InFlight } from "./in_flight.ts";

/** Granularity of request timeouts, in ms. */
const SWEEP_MS = 10;
/** The connection machinery under {@link CxdbClient}: requests in, answers out. */
export class Transport {
  readonly #hostname: string;
  readonly #port: number;
  readonly #tls?: CxdbTlsOptions;
  readonly #clientTag: string;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #retry: RetryPolicy;

  #conn: Deno.Conn | undefined;
  #connecting: Promise<void> | undefined;
  #readLoops = new Set<Promise<void>>();
  #writer: ConnWriter | undefined;
  #queue: Pending[] = [];
  readonly #arena: FrameArena;
  #inflight = new InFlight<Pending>();
  /** Counts sends, so that the requests in flight are known in the order they left. */
  #sendSeq = 0;
  #isolating = false;
  #nextId = 1;
  #closed = false;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffWake: (() => void) | undefined;
  #claims = new TurnClaims();
  #recoveries = new Set<Promise<void>>();
  #deadlines = new Deadlines<Pending>();
  #pumpQueued = false;
  /** Writers with a write under way (see #writerIdle). */
  #busyWriters = 0;
  /** The clock when the current batch's first request was submitted (see #submittedAt). */
  #batchNow = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Connections in a row that closed before answering anything. */
  #fruitless = 0;

  /** Counters: connections, drops, recovered and resent appends. */
  readonly stats: ClientStats = {
    connects: 0,
    drops: 0,
    recoveredAppends: 0,
    resentAppends: 0,
    writes: 0,
    sendChunks: 0,
  };

  /** Creates the transport; it connects on the first request. */
  constructor(options: CxdbClientOptions = {}) {
    checkClientOptions(options);
    this.#hostname = options.hostname ?? "127.0.0.1";
    this.#port = options.port ?? 9009;
    this.#tls = options.tls === true ? {} : options.tls || undefined;
    this.#clientTag = options.clientTag ?? "forge-deno";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxInFlight = options.maxInFlight ?? 512;
    this.#maxQueued = options.maxQueued ?? 100_000;
    this.#retry = retryPolicy(options.reconnect);
    this.#arena = new FrameArena(this.stats);
  }

  /** "host:port" of the server. */
  get address(): string {
    return `${this.#hostname}:${this.#port}`;
  }

  /** The highest turn id any answer has shown this client. */
  get maxTurnIdSeen(): string {
    return this.#claims.max;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when an answer or a recovery has already accounted for turn `turnId`. */
  isClaimed(turnId: string): boolean {
    return this.#claims.has(turnId);
  }

  /** Queues `p` again (first when it must go alone) and sends what can go. */
  requeue(p: Pending): void {
    if (p.isolated) this.#queue.unshift(p);
    else this.#queue.push(p);
    this.pump();
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

  /**
   * `body` is a request payload, or an append encoded straight into the frame.
   * Resolves with the answer's payload; an APPEND_TURN with the decoded answer.
   */
  submit<T = Uint8Array>(
    msgType: number,
    flags: number,
    body: Uint8Array | AppendRequest,
    op: string | (() => string) | undefined,
    options?: CallOptions,
    append?: AppendIdentity,
    placement?: { isolated?: boolean; front?: boolean },
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const sink = { answered: resolve as (answer: unknown) => void, failed: reject };
      this.send(msgType, flags, body, op, sink, options, append, placement);
    });
  }

  /**
   * Like {@link Transport.submit}, but the outcome goes to `sink` (at once,
   * when the request cannot even be queued) instead of a promise.
   */
  send(
    msgType: number,
    flags: number,
    body: Uint8Array | AppendRequest,
    op: string | (() => string) | undefined,
    sink: RequestSink,
    options?: CallOptions,
    append?: AppendIdentity,
    placement?: { isolated?: boolean; front?: boolean },
  ): void {
    const signal = options?.signal;
    const refused = refusal(
      this.#closed,
      this.#queue.length,
      this.#maxQueued,
      this.address,
      op,
      append,
      signal,
    );
    if (refused) return sink.failed(refused);
    try {
      checkTimeout("timeoutMs of the call", options?.timeoutMs);
    } catch (error) {
      return sink.failed(error as Error);
    }
    let size: number;
    const id = this.#nextId;
    const arena = this.#arena;
    try {
      size = encodeFrame(arena, msgType, flags, id, body);
    } catch (error) {
      arena.release(arena.chunk);
      return sink.failed(error as Error);
    }
    this.#nextId++;
    const isolated = placement?.isolated ?? false;
    const p = new Pending(id, msgType, arena.chunk, arena.at, size, op, append, isolated, sink);
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs;
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      p.timeoutMs = timeoutMs;
      p.deadline = this.#submittedAt() + timeoutMs;
      this.#deadlines.add(p, timeoutMs === this.#timeoutMs);
      // One sweeper for every deadline instead of a timer per request.
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS);
    }
    if (signal) {
      p.signal = signal;
      p.onAbort = () =>
        this.fail(
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
    if (placement?.front) this.#queue.unshift(p);
    else this.#queue.push(p);
    this.#schedulePump();
  }

  /**
   * The clock for a new request's deadline: read once per batch, by the first
   * request of a tick, and reused by the others submitted before the pump's
   * microtask runs (which reads it again for the next batch). A clock read
   * costs ~0.1 µs, as much as the rest of a request's bookkeeping; a deadline
   * counts from the start of its batch, a few microseconds early at most for
   * a batch of pipelined appends (the sweep's granularity is 10 ms).
   */
  #submittedAt(): number {
    if (!this.#pumpQueued) this.#batchNow = performance.now();
    return this.#batchNow;
  }

  /** Marks `p` answered; false when it already was. */
  #settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    // Its frame will not be sent again: its room in the arena can be reused.
    this.#arena.release(p.chunk);
    if (p.deadline !== Infinity) this.#deadlines.delete(p);
    if (p.onAbort) p.signal!.removeEventListener("abort", p.onAbort);
    return true;
  }

  /** Resolves `p` with `answer` unless it is already settled. */
  ok(p: Pending, answer: unknown): void {
    if (this.#settle(p)) p.sink.answered(answer);
  }

  /** Rejects `p` with `error` unless it is already settled. */
  fail(p: Pending, error: Error): void {
    if (!this.#settle(p)) return;
    this.#forget(p);
    p.sink.failed(error);
  }

  /** Closes the connection; pending requests fail with Closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#backoffWake?.();
    const closedError = (p: Pending) =>
      new CxdbError("Closed", p.op, `${p.op}: the CXDB client for ${this.address} was closed`);
    for (const p of [...this.#queue, ...this.#inflight.values()]) this.fail(p, closedError(p));
    this.#queue = [];
    this.#inflight.clear();
    this.#deadlines.clear();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } catch { /* already closed */ }
    await this.#connecting?.catch(() => {});
    await Promise.allSettled([...this.#readLoops, ...this.#recoveries, this.#writer?.done]);
  }

  // -------------------------------------------------------------- internals

  /**
   * Requests leave once per tick: everything submitted before the current
   * microtasks run out goes in one write (a microtask, not a timer: a
   * macrotask here measured twice as slow), so the callers woken by one batch
   * of answers send their next requests together, a lone request still
   * without delay. Splitting that batch (the first request alone, or a write
   * every 32) cost ~40 ms at the end of every burst: the server leaves Nagle
   * on, so its answers to a second batch wait until the client acknowledges
   * the first, and a client with nothing more to send acknowledges only when
   * its delayed-ACK timer fires (cxdb README, issue 12, third pass).
   */
  #schedulePump(): void {
    if (!this.#conn) return this.pump();
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(this.#queuedPump);
  }

  /** The microtask of {@link #schedulePump}, made once rather than per request. */
  readonly #queuedPump = (): void => {
    this.#pumpQueued = false;
    this.pump();
  };

  #sweep(): void {
    for (const p of this.#deadlines.expired(performance.now())) {
      this.fail(
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
    if (this.#deadlines.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Notes a turn id an answer showed (the watermark of later requests). */
  see(turnId: string): void {
    this.#claims.see(turnId);
  }

  /** Marks turn `turnId` as accounted for by an answer or a recovery. */
  claim(turnId: string): void {
    this.#claims.claim(turnId);
  }

  #forget(p: Pending): void {
    const i = this.#queue.indexOf(p);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#inflight.delete(p.id) && p.isolated) this.#isolating = false;
    queueMicrotask(() => this.pump());
  }

  /** Sends what the queue, the in-flight limit and isolation allow. */
  pump(): void {
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
      p.watermark = this.#claims.max;
      p.sentSeq = this.#sendSeq++;
      this.#inflight.set(p);
      batch.push(p);
      total += p.size;
      if (p.isolated) {
        this.#isolating = true;
        break;
      }
    }
    if (batch.length === 0) return;
    this.#queue.splice(0, batch.length);
    // One write for the whole batch; frames submitted in a row already sit
    // side by side in the arena, so usually without a copy.
    const first = batch[0];
    let end = first.at + first.size;
    let adjacent = true;
    for (let i = 1; i < batch.length && adjacent; i++) {
      const p = batch[i];
      adjacent = p.chunk === first.chunk && p.at === end;
      end += p.size;
    }
    this.#write(
      conn,
      adjacent
        ? first.chunk.bytes.subarray(first.at, first.at + total)
        : this.#arena.join(batch, total),
    );
  }

  /** Writes in order on `conn` (see {@link ConnWriter}); a failed write loses the connection. */
  #write(conn: Deno.Conn, buf: Uint8Array): void {
    if (this.#writer?.conn !== conn) {
      this.#writer = new ConnWriter(conn, (e) => this.#lost(conn, e), this.stats, this.#writerIdle);
    }
    if (!this.#writer.busy) this.#busyWriters++;
    this.#writer.write(buf);
  }

  /**
   * A writer finished everything it was given. Once no writer (this
   * connection's or a lost one's) is under way, nothing can still be reading
   * the arena's released frames, so their chunks can be written again.
   */
  readonly #writerIdle = (): void => {
    if (--this.#busyWriters === 0) this.#arena.recycle();
  };

  #ensureConnected(): Promise<void> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      let lastError: unknown;
      for (let attempt = 0; attempt < this.#retry.attempts && !this.#closed; attempt++) {
        const step = attempt + this.#fruitless;
        if (step > 0) {
          await this.#sleep(backoffDelay(this.#retry, step));
          if (this.#closed) return;
        }
        try {
          const conn = await dial(this.#hostname, this.#port, this.#tls);
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
        this.fail(
          p,
          new CxdbError(
            "Unavailable",
            p.op,
            `${p.op}: cannot connect to CXDB at ${this.address} after ${this.#retry.attempts} attempts: ${
              (lastError as Error)?.message
            }`,
            { cause: lastError },
          ),
        );
      }
    })().finally(() => {
      this.#connecting = undefined;
      this.pump();
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
    // HELLO goes first on every connection; nobody waits for its answer. The
    // read loop checks that it decodes (a peer that answers it wrongly does
    // not speak CXDB's protocol), so nothing is left to do with it here.
    this.submit(
      MsgType.HELLO,
      0,
      encodeHello(this.#clientTag),
      op,
      { timeoutMs: Infinity },
      undefined,
      {
        front: true,
      },
    ).catch(() => {});
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
        // Payloads lie in the parser's buffer until the next push: each is
        // decoded or copied here. `advance` makes no object per answer.
        while (parser.advance()) {
          const id = parser.reqId;
          const p = this.#inflight.get(id);
          const at = parser.payloadAt;
          const end = at + parser.payloadLength;
          if (p && parser.msgType !== MsgType.ERROR) {
            // CXDB echoes the request's type. An answer of another type, or
            // an answer to HELLO that does not decode, comes from a peer that
            // does not speak the protocol (or lost track of req_ids): it ends
            // the connection (a WireError, below) and does not count as an
            // answer, so such a peer runs out of attempts instead of being
            // believed.
            if (parser.msgType !== p.msgType) {
              throw new WireError(
                `${p.op}: answered with message type ${parser.msgType}, expected ${p.msgType}`,
              );
            }
            if (p.msgType === MsgType.HELLO) decodeHello(parser.bytes.subarray(at, end));
          }
          answered = true;
          this.#fruitless = 0;
          if (!p) continue; // timed out or aborted: the answer is no longer wanted
          this.#inflight.delete(id);
          if (p.isolated) this.#isolating = false;
          if (parser.msgType === MsgType.ERROR) {
            let e;
            try {
              e = decodeError(parser.bytes.subarray(at, end));
            } catch (error) {
              // A malformed ERROR frame still fails its own request, clearly.
              this.fail(p, error as Error);
              continue;
            }
            this.fail(p, new ServerError(p.op, e.code, e.detail));
          } else if (p.append) {
            // Sent by appendTurn (not a raw request()): answered decoded.
            this.#appendAnswered(p, parser.bytes, at, end);
          } else {
            this.ok(p, parser.bytes.slice(at, end));
          }
        }
        this.pump();
      }
    } catch (error) {
      cause = error;
    }
    this.#lost(conn, cause, answered);
  }

  #appendAnswered(p: Pending, bytes: Uint8Array, at: number, end: number): void {
    let answer: WireAppended;
    try {
      answer = decodeAppendedAt(bytes, at, end, p.append!.contentHash, p.sink.sentHashHex);
    } catch (error) {
      this.fail(p, error as Error);
      return;
    }
    if (p.settled) return;
    this.#claims.claim(answer.turnId);
    this.ok(p, answer);
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
    const unanswered = this.#inflight.values().filter((p) => {
      if (p.msgType !== MsgType.HELLO) return !p.settled;
      this.fail(p, new CxdbError("ConnectionDropped", p.op, `${p.op}: connection closed`));
      return false;
    });
    this.#inflight.clear();
    if (!answered && ++this.#fruitless >= this.#retry.attempts) {
      // The server accepts and closes without answering anything: give up.
      this.#fruitless = 0;
      for (const p of [...unanswered, ...this.#queue.splice(0)]) {
        this.fail(
          p,
          new CxdbError(
            "Unavailable",
            p.op,
            `${p.op}: CXDB at ${this.address} closed ${this.#retry.attempts} connections in a row without answering` +
              (cause instanceof Error ? ` (last: ${cause.message})` : ""),
            { cause },
          ),
        );
      }
      return;
    }
    if (unanswered.length === 0) {
      this.pump();
      return;
    }
    this.stats.drops++;
    const [suspect, ...others] = unanswered;
    const retry: Pending[] = [];
    if (suspect.isolated && cause instanceof WireError) {
      // Alone on a fresh connection, its answer broke the protocol again: we
      // closed the connection, the server did not (so not ConnectionDropped,
      // which the store reads as "the server does not know this id").
      this.fail(
        suspect,
        new CxdbError("Protocol", suspect.op, `${suspect.op}: ${cause.message}`, { cause }),
      );
    } else if (suspect.isolated) {
      // It was alone on a fresh connection and the server dropped it again.
      this.fail(suspect, new ConnectionDroppedError(suspect.op, { cause }));
    } else {
      suspect.isolated = true;
      retry.push(suspect);
    }
    retry.push(...others);
    for (const p of retry) p.sent = false;
    this.#queue.unshift(...retry.filter((p) => !p.append));
    // Started after the plain requests are queued, so that a suspect append's
    // check goes first, alone.
    for (const p of retry) if (p.append) this.track(recoverLostAppend(this, p));
    this.pump();
  }

  /** Keeps a recovery in view so that close() waits for it. */
  track(recovery: Promise<void>): void {
    this.#recoveries.add(recovery);
    recovery.finally(() => this.#recoveries.delete(recovery));
  }
}
