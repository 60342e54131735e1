/**
 * A test-only CXDB protocol peer: a real TCP server on 127.0.0.1 speaking the
 * binary protocol, plus the HTTP read API (Deno.serve on 127.0.0.1). It
 * follows the measured behaviour of the real server (see
 * shared/reference/cxdb-server.md), quirks included: idempotency keys are
 * ignored, almost every failure closes the connection without an ERROR frame,
 * a first turn has depth 0, an explicit parent may be any turn and moves the
 * head, an fs attach that fails leaves the turn stored.
 *
 * Faults are injected with {@link CxdbPeer.fault}; the sequential-latency
 * quirk (no TCP_NODELAY on the server) can be simulated with `latencyMs`.
 *
 * @module
 */
import { blake3Hex, RegistryIndex } from "@forge/turnstore";
import {
  encodeError,
  encodeFrame,
  encodeResponse,
  encodeTurns,
  FrameParser,
  MsgType,
  Reader,
  type WireTurn,
} from "../protocol/wire.ts";
import { decompressFromWire } from "../protocol/compress.ts";
import { httpRoutes, type PeerContext, type PeerState, type PeerTurn } from "./peer_http.ts";

/** What a fault hook sees of a request. */
export interface PeerRequest {
  /** Message type. */
  readonly msgType: number;
  /** Which connection (1, 2, ... in accept order). */
  readonly connection: number;
  /** For APPEND_TURN: the context, type and idempotency key. */
  readonly append?: { contextId: string; typeId: string; idempotencyKey: string };
}

/**
 * A fault: "drop-before" closes the connection instead of handling the
 * request; "drop-after" handles it (an append is stored) and then closes the
 * connection without answering: a lost acknowledgment; "stall-after" handles
 * it and never answers, keeping the connection (the client times out).
 */
export type PeerFault = "drop-before" | "drop-after" | "stall-after" | undefined;

/** Options of {@link startPeer}. */
export interface PeerOptions {
  /** Delay in ms before each batch of answers, to mimic Nagle + delayed ACK; default 0. */
  readonly latencyMs?: number;
  /** Serve the binary protocol over TLS with this PEM certificate and key. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** A running peer. */
export interface CxdbPeer extends AsyncDisposable {
  /** Binary protocol port on 127.0.0.1. */
  readonly port: number;
  /** HTTP base URL, e.g. http://127.0.0.1:34567. */
  readonly httpUrl: string;
  /** "cxdb://127.0.0.1:<port>?http=<httpUrl>". */
  readonly url: string;
  /** Decides a fault per request; set to undefined for none. */
  fault: ((req: PeerRequest) => PeerFault) | undefined;
  /** Counters for tests. */
  readonly counts: { appends: number; connections: number; drops: number };
  /** Closes a live connection from the server side (all of them when no id). */
  dropConnections(): void;
  /**
   * Stops both servers as a server going down would: connections drop,
   * connects are refused; what was stored is kept.
   */
  stop(): Promise<void>;
  /** Listens again on the same ports after {@link stop}, with everything stored before. */
  start(): void;
  /** Stops both servers. */
  close(): Promise<void>;
}

class Drop extends Error {}

/** Starts a peer on ephemeral loopback ports. */
export async function startPeer(options: PeerOptions = {}): Promise<CxdbPeer> {
  const turns = new Map<bigint, PeerTurn>();
  const contexts = new Map<bigint, PeerContext>();
  const blobs = new Map<string, Uint8Array>();
  const fsRoots = new Map<bigint, string>();
  const registry = new RegistryIndex();
  const bundleBytes = new Map<string, Uint8Array>();
  const subscribers = new Set<(event: string, data: unknown) => void>();
  let nextTurn = 1n;
  let nextContext = 1n;
  let nextSession = 1n;
  let connectionSeq = 0;
  const live = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const latency = options.latencyMs ?? 0;
  const counts = { appends: 0, connections: 0, drops: 0 };

  const emit = (event: string, data: unknown) => {
    for (const s of subscribers) s(event, data);
  };

  const listenBinary = (port: number): Deno.Listener =>
    options.tls
      ? Deno.listenTls({
        hostname: "127.0.0.1",
        port,
        cert: options.tls.cert,
        key: options.tls.key,
      })
      : Deno.listen({ hostname: "127.0.0.1", port });
  let listener = listenBinary(0);

  const fsRootOf = (turnId: bigint): string | undefined => {
    for (let t = turns.get(turnId); t; t = turns.get(t.parentTurnId)) {
      const root = fsRoots.get(t.turnId);
      if (root) return root;
    }
    return undefined;
  };

  const lastTurns = (head: bigint, limit: number): PeerTurn[] => {
    const out: PeerTurn[] = [];
    for (let id = head; id !== 0n && out.length < limit;) {
      const t = turns.get(id);
      if (!t) throw new Drop();
      out.push(t);
      id = t.parentTurnId;
    }
    return out.reverse();
  };

  const wireTurn = (t: PeerTurn): WireTurn => ({
    turnId: t.turnId.toString(),
    parentTurnId: t.parentTurnId.toString(),
    depth: t.depth,
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    encoding: t.encoding,
    compression: 0,
    uncompressedLength: t.payload.length,
    contentHash: t.contentHash,
    payload: t.payload,
  });

  const newContext = (base: bigint): Uint8Array => {
    let depth = 0;
    if (base !== 0n) {
      const t = turns.get(base);
      if (!t) throw new Drop();
      depth = t.depth;
    }
    const ctx: PeerContext = {
      contextId: nextContext++,
      headTurnId: base,
      headDepth: depth,
      createdAt: Date.now(),
    };
    contexts.set(ctx.contextId, ctx);
    emit("context_created", {
      context_id: Number(ctx.contextId),
      session_id: 0,
      client_tag: "",
      created_at: ctx.createdAt,
    });
    return encodeResponse.head({
      contextId: ctx.contextId.toString(),
      headTurnId: base.toString(),
      headDepth: depth,
    });
  };

  /** Handles one request; throws Drop to close the connection silently. */
  const handle = (msgType: number, flags: number, payload: Uint8Array): Uint8Array => {
    const r = new Reader(payload, "request");
    try {
      switch (msgType) {
        case MsgType.HELLO:
          return encodeResponse.hello((nextSession++).toString());
        case MsgType.CTX_CREATE:
        case MsgType.CTX_FORK:
          return newContext(BigInt(r.u64()));
        case MsgType.GET_HEAD: {
          const ctx = contexts.get(BigInt(r.u64()));
          if (!ctx) throw new Drop();
          return encodeResponse.head({
            contextId: ctx.contextId.toString(),
            headTurnId: ctx.headTurnId.toString(),
            headDepth: ctx.headDepth,
          });
        }
        case MsgType.APPEND_TURN: {
          const ctx = contexts.get(BigInt(r.u64()));
          const parentArg = BigInt(r.u64());
          const typeId = new TextDecoder().decode(r.bytes(r.u32()));
          const typeVersion = r.u32();
          const encoding = r.u32();
          const compression = r.u32();
          const uncompressedLength = r.u32();
          const declared = r.hash();
          const body = r.bytes(r.u32());
          r.bytes(r.u32()); // the idempotency key: parsed and ignored, as the real server does
          const fsRoot = flags & 1 ? r.hash() : undefined;
          if (!ctx) throw new Drop();
          const parentId = parentArg === 0n ? ctx.headTurnId : parentArg;
          const parent = parentId === 0n ? undefined : turns.get(parentId);
          if (parentId !== 0n && !parent) throw new Drop();
          const bytes = decompressFromWire(compression, body, uncompressedLength).slice();
          if (bytes.length !== uncompressedLength || blake3Hex(bytes) !== declared) {
            throw new Drop();
          }
          const turn: PeerTurn = {
            turnId: nextTurn++,
            parentTurnId: parentId,
            depth: parent ? parent.depth + 1 : 0,
            typeId,
            typeVersion,
            encoding,
            contentHash: declared,
            payload: bytes,
          };
          turns.set(turn.turnId, turn);
          ctx.headTurnId = turn.turnId;
          ctx.headDepth = turn.depth;
          counts.appends++;
          emit("turn_appended", {
            context_id: Number(ctx.contextId),
            turn_id: Number(turn.turnId),
            parent_turn_id: Number(turn.parentTurnId),
            depth: turn.depth,
            declared_type_id: typeId,
            declared_type_version: typeVersion,
          });
          // The turn is stored before the attach; a failed attach leaves it.
          if (fsRoot !== undefined) {
            if (!blobs.has(fsRoot)) throw new Drop();
            fsRoots.set(turn.turnId, fsRoot);
          }
          return encodeResponse.appended({
            contextId: ctx.contextId.toString(),
            turnId: turn.turnId.toString(),
            depth: turn.depth,
            contentHash: declared,
          });
        }
        case MsgType.GET_LAST: {
          const ctx = contexts.get(BigInt(r.u64()));
          const limit = r.u32();
          const withPayload = r.u32() !== 0;
          if (!ctx) throw new Drop();
          return encodeTurns(lastTurns(ctx.headTurnId, limit).map(wireTurn), withPayload);
        }
        case MsgType.GET_BLOB: {
          const bytes = blobs.get(r.hash());
          if (!bytes) throw new Drop();
          return encodeResponse.blob(bytes);
        }
        case MsgType.PUT_BLOB: {
          const hash = r.hash();
          const bytes = r.bytes(r.u32());
          if (blake3Hex(bytes) !== hash) throw new Drop();
          const wasNew = !blobs.has(hash);
          if (wasNew) blobs.set(hash, bytes.slice());
          return encodeResponse.putBlob(hash, wasNew);
        }
        case MsgType.ATTACH_FS: {
          const turnId = BigInt(r.u64());
          const root = r.hash();
          if (!turns.has(turnId) || !blobs.has(root)) throw new Drop();
          fsRoots.set(turnId, root);
          return encodeResponse.attachFs(turnId.toString(), root);
        }
        default:
          throw new Error("unreachable");
      }
    } catch (error) {
      if (error instanceof Drop) throw error;
      throw new Drop(String(error)); // short payloads and the like: the server just closes
    }
  };

  const serveConnection = async (conn: Deno.Conn, id: number) => {
    const parser = new FrameParser();
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        parser.push(buf.subarray(0, n));
        const out: Uint8Array[] = [];
        let drop = false;
        for (let f = parser.next(); f && !drop; f = parser.next()) {
          const { msgType, flags, reqId } = f.header;
          if (msgType === MsgType.GET_BEFORE || msgType === MsgType.GET_RANGE_BY_DEPTH) {
            out.push(encodeFrame(MsgType.ERROR, 0, reqId, encodeError(422, "not implemented")));
            continue;
          }
          if (!(msgType in handledTypes)) {
            out.push(
              encodeFrame(MsgType.ERROR, 0, reqId, encodeError(400, `unknown msg_type ${msgType}`)),
            );
            continue;
          }
          const fault = peer.fault?.({
            msgType,
            connection: id,
            append: msgType === MsgType.APPEND_TURN ? appendInfo(f.payload) : undefined,
          });
          if (fault === "drop-before") {
            drop = true;
            break;
          }
          try {
            const answer = handle(msgType, flags, f.payload);
            if (fault === "drop-after") {
              drop = true;
              break;
            }
            if (fault === "stall-after") continue;
            out.push(encodeFrame(msgType, 0, reqId, answer));
          } catch {
            drop = true;
          }
        }
        if (out.length > 0) {
          if (latency > 0) await new Promise((r) => setTimeout(r, latency));
          const total = out.reduce((s, b) => s + b.length, 0);
          const all = new Uint8Array(total);
          let o = 0;
          for (const b of out) {
            all.set(b, o);
            o += b.length;
          }
          for (let off = 0; off < all.length;) off += await conn.write(all.subarray(off));
        }
        if (drop) {
          counts.drops++;
          break;
        }
      }
    } catch {
      // the client went away
    } finally {
      live.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };

  const accept = async (listener: Deno.Listener) => {
    try {
      for await (const conn of listener) {
        const id = ++connectionSeq;
        counts.connections++;
        live.add(conn);
        const h = serveConnection(conn, id);
        handlers.add(h);
        h.finally(() => handlers.delete(h));
      }
    } catch {
      // listener closed
    }
  };
  let acceptLoop = accept(listener);

  // ------------------------------------------------------------------ HTTP

  const state: PeerState = {
    turns,
    contexts,
    blobs,
    registry,
    bundleBytes,
    subscribers,
    lastBundleId: null,
    lastTurns,
    fsRootOf,
  };
  const routes = httpRoutes(state);
  const serveHttp = (port: number) => {
    const abort = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port, signal: abort.signal, onListen: () => {} },
      routes,
    );
    return { abort, server };
  };
  let http = serveHttp(0);
  const addr = http.server.addr as Deno.NetAddr;
  const port = (listener.addr as Deno.NetAddr).port;
  const httpUrl = `http://127.0.0.1:${addr.port}`;

  let stopped = false;
  const peer: CxdbPeer = {
    port,
    httpUrl,
    url: `cxdb://127.0.0.1:${port}?http=${httpUrl}`,
    fault: undefined,
    counts,
    dropConnections() {
      for (const c of live) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const s of subscribers) subscribers.delete(s);
      listener.close();
      peer.dropConnections();
      http.abort.abort();
      await acceptLoop;
      await Promise.allSettled([...handlers]);
      await http.server.finished;
    },
    start() {
      if (!stopped) return;
      listener = listenBinary(port);
      acceptLoop = accept(listener);
      http = serveHttp(addr.port);
      stopped = false;
    },
    close() {
      return peer.stop();
    },
    [Symbol.asyncDispose]() {
      return peer.close();
    },
  };
  return peer;
}

const handledTypes: Record<number, true> = {
  [MsgType.HELLO]: true,
  [MsgType.CTX_CREATE]: true,
  [MsgType.CTX_FORK]: true,
  [MsgType.GET_HEAD]: true,
  [MsgType.APPEND_TURN]: true,
  [MsgType.GET_LAST]: true,
  [MsgType.GET_BLOB]: true,
  [MsgType.PUT_BLOB]: true,
  [MsgType.ATTACH_FS]: true,
};

function appendInfo(payload: Uint8Array): PeerRequest["append"] {
  try {
    const r = new Reader(payload, "append");
    const contextId = r.u64();
    r.u64();
    const typeId = new TextDecoder().decode(r.bytes(r.u32()));
    r.u32();
    r.u32();
    r.u32();
    r.u32();
    r.hash();
    r.bytes(r.u32());
    const idempotencyKey = new TextDecoder().decode(r.bytes(r.u32()));
    return { contextId, typeId, idempotencyKey };
  } catch {
    return undefined;
  }
}
