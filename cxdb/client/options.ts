/**
 * Options and counters of the CXDB binary client.
 *
 * @module
 */
import type { WireAppended } from "../protocol/wire.ts";

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
  /**
   * Per-request timeout in ms, above 0; default 30000. `Infinity` sets none
   * (a request then waits as long as the connection lives); 0, a negative
   * number or NaN is InvalidInput, as is any other option out of its range.
   */
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
  /** Overrides the client's timeout for this call (above 0; `Infinity` for none). */
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
  /** Socket writes: requests submitted in one tick leave together in one. */
  writes: number;
  /**
   * Send buffer chunks (256 KiB) allocated: frames are encoded into them side
   * by side, and a chunk whose requests have all settled is reused.
   */
  sendChunks: number;
}

/**
 * Where `CxdbClient.appendTurnTo` delivers an append's outcome, from
 * the client's read loop: neither method may throw.
 */
export interface AppendSink {
  /** The server's answer. */
  answered(answer: WireAppended): void;
  /** Why the append failed: a `CxdbError`, or a protocol error. */
  failed(error: Error): void;
  /**
   * The payload's BLAKE3 as hex, when the caller has it: an answer echoing
   * the same hash then carries this string instead of a new one.
   */
  readonly sentHashHex?: string;
  /**
   * The payload's BLAKE3 (32 bytes), when the caller has it and the input
   * does not carry it as `contentHash`: not computed again.
   */
  readonly sentHash?: Uint8Array;
}
