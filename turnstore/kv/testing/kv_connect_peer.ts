/**
 * A test-only KV Connect server: what a remote `denokv` is to
 * `Deno.openKv("http://…")`, in memory and in this process, so the store's
 * remote path runs in CI where no `denokv` can be installed. Deno's own
 * remote client talks to it for real: the metadata exchange (protocol
 * versions 2 and 3, a bearer token; a wrong one is a 401 with a plain-text
 * reason), then `snapshot_read` and `atomic_write` as protobuf over HTTP on
 * 127.0.0.1. Requests are held to `denokv`'s limits (kv_connect_limits.ts),
 * and what the peer does not support (queues, watch, versionstamped keys,
 * V8 sums) is a 4xx with a clear message, never a silent success.
 *
 * The data outlives the clients: close one, open another on the same URL,
 * and it sees everything committed. It is not durable (no file, no fsync).
 *
 * @module
 */
import { checkReadLimits, checkWriteLimits, KvConnectPeerError } from "./kv_connect_limits.ts";
import { PeerData } from "./kv_connect_data.ts";
import {
  KvConnectMessages as M,
  ReadStatus,
  type WireAtomicWrite,
  type WireReadRange,
  WriteStatus,
} from "./kv_connect_schema.ts";

export { KvConnectPeerError } from "./kv_connect_limits.ts";
export { DENOKV_LIMITS, type DenoKvLimits } from "./kv_connect_limits.ts";

/** Options of {@link startKvConnectPeer}. */
export interface KvConnectPeerOptions {
  /** The access token clients must present (`DENO_KV_ACCESS_TOKEN`); random by default. */
  readonly token?: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /**
   * Called with the body size of every atomic write before it is applied:
   * Deno's client sends a body of over 1,024 bytes in two writes, and the
   * second waits for a delayed ACK (turnstore/kv/quick_commits.ts).
   */
  readonly onAtomicWrite?: (bodyBytes: number) => void;
  /**
   * Milliseconds the peer waits before answering a read or write, as a server
   * across a network would (0, the default: answer at once). The request is
   * applied when it arrives; only the answer waits.
   */
  readonly latencyMs?: number;
}

/** Live counters of a peer; read them at any time. */
export interface KvConnectPeerStats {
  /** Every HTTP request, answered or refused. */
  requests: number;
  /** Successful metadata exchanges (one per client, plus its refreshes). */
  metadataExchanges: number;
  /** Snapshot reads served. */
  reads: number;
  /** Atomic writes applied. */
  commits: number;
  /** Atomic writes that failed a check (nothing written). */
  checkFailures: number;
  /** Requests answered with a 4xx. */
  refused: number;
}

/** A running peer. */
export interface KvConnectPeer extends AsyncDisposable {
  /** The URL to give `Deno.openKv`, e.g. `http://127.0.0.1:34567`. */
  readonly url: string;
  /** The access token to put in `DENO_KV_ACCESS_TOKEN`. */
  readonly token: string;
  /** Counters since start. */
  readonly stats: KvConnectPeerStats;
  /** Stops listening; the data is dropped. */
  close(): Promise<void>;
}

/** The protocol versions the peer speaks; version 1 (no database id header) it does not. */
const VERSIONS = [3, 2] as const;
/** Where the data path lives, relative to the metadata URL (as `denokv` serves it). */
const DATA_PATH = "/v2";

/** Starts a peer on 127.0.0.1 and resolves once it listens. */
export function startKvConnectPeer(options: KvConnectPeerOptions = {}): Promise<KvConnectPeer> {
  const token = options.token ?? `forge-peer-${crypto.randomUUID()}`;
  // The data path takes its own token, handed out by the metadata exchange, as a real
  // server may: a client that skipped the exchange or kept the access token is refused.
  const dataToken = `data-${crypto.randomUUID()}`;
  const databaseId = crypto.randomUUID();
  const data = new PeerData();
  const stats: KvConnectPeerStats = {
    requests: 0,
    metadataExchanges: 0,
    reads: 0,
    commits: 0,
    checkFailures: 0,
    refused: 0,
  };

  const latency = options.latencyMs ?? 0;
  const answerLater = (response: Response): Response | Promise<Response> =>
    latency > 0 ? new Promise((resolve) => setTimeout(() => resolve(response), latency)) : response;

  const handle = async (req: Request): Promise<Response> => {
    stats.requests++;
    try {
      if (req.method !== "POST") {
        throw new KvConnectPeerError("MethodNotAllowed", "KV Connect requests are POSTs", 405);
      }
      const path = new URL(req.url).pathname;
      if (path === "/") return await metadataExchange(req);
      if (!path.startsWith(`${DATA_PATH}/`)) {
        throw new KvConnectPeerError("NotFound", `no KV Connect endpoint at ${path}`, 404);
      }
      checkDataPathHeaders(req.headers);
      const method = path.slice(DATA_PATH.length + 1);
      const body = new Uint8Array(await req.arrayBuffer());
      if (method === "snapshot_read") return await answerLater(snapshotRead(body));
      if (method === "atomic_write") {
        options.onAtomicWrite?.(body.length);
        return await answerLater(atomicWrite(body));
      }
      if (method === "watch" || method === "watch_channel") {
        throw new KvConnectPeerError(
          "WatchUnsupported",
          "the in-repo KV Connect peer does not support watch",
        );
      }
      throw new KvConnectPeerError("NotFound", `no KV Connect endpoint at ${path}`, 404);
    } catch (caught) {
      // A bug in the peer is answered with a 4xx too: Deno's client retries a 5xx forever,
      // which would hang the test instead of failing it.
      const e = caught instanceof KvConnectPeerError
        ? caught
        : new KvConnectPeerError("PeerBug", `the peer failed: ${String(caught)}`);
      stats.refused++;
      return new Response(`${e.code}: ${e.message}`, {
        status: e.status,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  };

  const metadataExchange = async (req: Request): Promise<Response> => {
    checkBearer(req.headers, token, "access token");
    const text = await req.text();
    let supported: unknown = [1]; // no body: the client speaks version 1 only
    if (text.trim() !== "") {
      try {
        supported = (JSON.parse(text) as { supportedVersions?: unknown }).supportedVersions;
      } catch {
        throw new KvConnectPeerError("InvalidBody", "metadata exchange body is not JSON");
      }
    }
    if (!Array.isArray(supported)) {
      throw new KvConnectPeerError("InvalidBody", "supportedVersions must be an array of numbers");
    }
    const version = VERSIONS.find((v) => supported.includes(v));
    if (version === undefined) {
      throw new KvConnectPeerError(
        "NoMatchingProtocolVersion",
        `no common protocol version: the client speaks ${JSON.stringify(supported)}, ` +
          `the peer ${VERSIONS.join(" and ")}`,
      );
    }
    stats.metadataExchanges++;
    return Response.json({
      version,
      databaseId,
      endpoints: [{ url: DATA_PATH, consistency: "strong" }],
      token: dataToken,
      expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
    });
  };

  const checkDataPathHeaders = (headers: Headers): void => {
    const version = headers.get("x-denokv-version");
    if (version !== "2" && version !== "3") {
      throw new KvConnectPeerError(
        "InvalidProtocolVersion",
        `x-denokv-version must be 2 or 3, not ${version ?? "missing"}`,
      );
    }
    checkBearer(headers, dataToken, "data path token");
    if (headers.get("x-denokv-database-id") !== databaseId) {
      throw new KvConnectPeerError(
        "InvalidDatabaseId",
        "x-denokv-database-id names no database here",
      );
    }
  };

  const snapshotRead = (body: Uint8Array): Response => {
    const { ranges } = decode<{ ranges: WireReadRange[] }>(M.SnapshotRead, body);
    checkReadLimits(ranges);
    const results = data.read(ranges);
    stats.reads++;
    return protobufResponse(
      M.SnapshotReadOutput.encode({
        ranges: results.map((entries) => ({
          values: entries.map((e) => ({
            key: e.key,
            value: e.value,
            encoding: e.encoding,
            versionstamp: e.versionstamp,
          })),
        })),
        read_disabled: false,
        read_is_strongly_consistent: true,
        status: ReadStatus.SUCCESS,
      }).finish(),
    );
  };

  const atomicWrite = (body: Uint8Array): Response => {
    const write = decode<WireAtomicWrite>(M.AtomicWrite, body);
    checkWriteLimits(write);
    const outcome = data.write(write);
    if (outcome.ok) stats.commits++;
    else stats.checkFailures++;
    return protobufResponse(
      M.AtomicWriteOutput.encode(
        outcome.ok
          ? { status: WriteStatus.SUCCESS, versionstamp: outcome.versionstamp }
          : { status: WriteStatus.CHECK_FAILURE, failed_checks: outcome.failedChecks },
      ).finish(),
    );
  };

  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      onListen: ({ port }) => {
        const close = async () => {
          await server.shutdown();
        };
        resolve({
          url: `http://127.0.0.1:${port}`,
          token,
          stats,
          close,
          [Symbol.asyncDispose]: close,
        });
      },
    }, handle);
  });
}

function checkBearer(headers: Headers, expected: string, what: string): void {
  const auth = headers.get("authorization");
  const match = auth?.match(/^bearer (.+)$/i);
  if (!match) {
    throw new KvConnectPeerError(
      "MissingAuthorization",
      `missing "Authorization: Bearer <token>" header (set DENO_KV_ACCESS_TOKEN)`,
      401,
    );
  }
  if (match[1] !== expected) {
    throw new KvConnectPeerError("InvalidAccessToken", `invalid ${what}`, 401);
  }
}

function decode<T>(type: typeof M.SnapshotRead, body: Uint8Array): T {
  try {
    return type.decode(body) as unknown as T;
  } catch (e) {
    throw new KvConnectPeerError(
      "InvalidProtobuf",
      `request body is not a valid ${type.name}: ${(e as Error).message}`,
    );
  }
}

function protobufResponse(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": "application/x-protobuf" },
  });
}
