/**
 * The protocol peer's HTTP read API (strongdm/cxdb docs/http-api.md, as the
 * server behaves): contexts, typed and raw turn pages, registry bundles with
 * ETag, filesystem browsing and the event stream, over the peer's state.
 *
 * @module
 */
import {
  blake3Hex,
  canonicalBundleJson,
  decodeMsgpack,
  isTurnStoreError,
  type RegistryBundle,
  type RegistryIndex,
  toHex,
  validateBundleShape,
} from "@forge/turnstore";
import {
  b64,
  type BundleLookup,
  bundleLookup,
  projectPayload,
  TypeDescriptorMissing,
} from "./projection.ts";

/** A stored turn of the peer. */
export interface PeerTurn {
  /** Turn id. */
  readonly turnId: bigint;
  /** Parent id; 0 for a first turn. */
  readonly parentTurnId: bigint;
  /** Server depth (a first turn is 0). */
  readonly depth: number;
  /** Declared type id. */
  readonly typeId: string;
  /** Declared type version. */
  readonly typeVersion: number;
  /** Encoding code. */
  readonly encoding: number;
  /** BLAKE3 of the payload, hex. */
  readonly contentHash: string;
  /** The payload, uncompressed. */
  readonly payload: Uint8Array;
}

/** A context of the peer. */
export interface PeerContext {
  /** Context id. */
  readonly contextId: bigint;
  /** Head turn; 0 when empty. */
  headTurnId: bigint;
  /** Server depth of the head. */
  headDepth: number;
  /** When it was created, unix ms. */
  readonly createdAt: number;
}

/** What the HTTP API reads and writes of the peer. */
export interface PeerState {
  /** Turns by id. */
  readonly turns: Map<bigint, PeerTurn>;
  /** Contexts by id. */
  readonly contexts: Map<bigint, PeerContext>;
  /** Blobs by hash. */
  readonly blobs: Map<string, Uint8Array>;
  /** The registry's rules. */
  readonly registry: RegistryIndex;
  /** Published bundles, as sent. */
  readonly bundleBytes: Map<string, Uint8Array>;
  /** Event stream subscribers. */
  readonly subscribers: Set<(event: string, data: unknown) => void>;
  /** The newest published bundle. */
  lastBundleId: string | null;
  /** Up to `limit` turns ending at `head`, oldest first. */
  lastTurns(head: bigint, limit: number): PeerTurn[];
  /** The tree root in effect for a turn. */
  fsRootOf(turnId: bigint): string | undefined;
}

const te = new TextEncoder();

/** The HTTP API's request handler over `s`. */
export function httpRoutes(s: PeerState): (req: Request) => Promise<Response> {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  const fail = (status: number, message: string) =>
    json(status, { error: { code: status, message } });

  const mergedBundle = (): BundleLookup =>
    bundleLookup(
      [...s.bundleBytes.values()].map((bytes) =>
        JSON.parse(new TextDecoder().decode(bytes)) as RegistryBundle
      ),
    );

  const turnsPage = (ctxId: string, q: URLSearchParams): Response => {
    const ctx = /^[0-9]+$/.test(ctxId) ? s.contexts.get(BigInt(ctxId)) : undefined;
    if (!/^[0-9]+$/.test(ctxId)) return fail(422, "invalid context_id");
    if (!ctx) return fail(404, "context");
    const limit = Number(q.get("limit") ?? 64) || 64;
    const before = BigInt(
      /^[0-9]+$/.test(q.get("before_turn_id") ?? "") ? q.get("before_turn_id")! : "0",
    );
    let page: PeerTurn[];
    try {
      if (before === 0n || ctx.headTurnId === 0n) page = s.lastTurns(ctx.headTurnId, limit);
      else {
        const b = s.turns.get(before);
        if (!b) return fail(404, "before turn");
        page = s.lastTurns(b.parentTurnId, limit);
      }
    } catch {
      return fail(404, "turn");
    }
    const view = q.get("view") ?? "typed";
    const bundle = mergedBundle();
    const out: Record<string, unknown>[] = [];
    try {
      for (const t of page) {
        const o: Record<string, unknown> = {
          turn_id: t.turnId.toString(),
          parent_turn_id: t.parentTurnId.toString(),
          depth: t.depth,
          declared_type: { type_id: t.typeId, type_version: t.typeVersion },
        };
        if (view === "typed" || view === "both") {
          o.decoded_as = { type_id: t.typeId, type_version: t.typeVersion };
          o.data = projectPayload(t.payload, t.typeId, t.typeVersion, q, bundle);
        }
        if (view === "raw" || view === "both") {
          o.content_hash_b3 = t.contentHash;
          o.encoding = t.encoding;
          o.compression = 0;
          o.uncompressed_len = t.payload.length;
          const mode = q.get("bytes_render");
          if (mode === "hex") o.bytes_hex = toHex(t.payload);
          else if (mode === "len_only") o.bytes_len = t.payload.length;
          else o.bytes_b64 = b64(t.payload);
        }
        out.push(o);
      }
    } catch (error) {
      if (error instanceof TypeDescriptorMissing) {
        return fail(424, `type descriptor ${error.message}`);
      }
      return fail(422, String(error));
    }
    return json(200, {
      meta: {
        context_id: ctx.contextId.toString(),
        head_turn_id: ctx.headTurnId.toString(),
        head_depth: ctx.headDepth,
        registry_bundle_id: s.lastBundleId,
      },
      turns: out,
      next_before_turn_id: page.length ? page[0].turnId.toString() : null,
    });
  };

  const fsRoute = (turnIdText: string, path: string, q: URLSearchParams): Response => {
    if (!/^[0-9]+$/.test(turnIdText)) return fail(422, "invalid turn_id");
    const turnId = BigInt(turnIdText);
    const root = s.fsRootOf(turnId);
    if (!root) return fail(404, "no fs snapshot for turn");
    let hash = root;
    let entry: TreeEntryJson | undefined;
    const parts = path.split("/").filter((p) => p !== "");
    try {
      for (const part of parts) {
        const entries = loadTree(s.blobs, hash);
        const found = entries.find((e) => e.name === part);
        if (!found) return fail(404, `path ${path}`);
        entry = found;
        hash = found.hash;
        if (found.kind !== "dir") break;
      }
      if (entry && entry.kind !== "dir") {
        const content = s.blobs.get(entry.hash) ?? new Uint8Array();
        if (q.get("format") === "json") {
          return json(200, {
            turn_id: turnIdText,
            path,
            ...entry,
            content_base64: b64(content),
          });
        }
        return new Response(content.slice() as Uint8Array<ArrayBuffer>, {
          headers: { "x-fs-hash": entry.hash, "x-fs-mode": entry.mode },
        });
      }
      return json(200, {
        turn_id: turnIdText,
        path,
        fs_root_hash: root,
        entries: loadTree(s.blobs, hash),
      });
    } catch (error) {
      return fail(422, `tree ${hash} cannot be read: ${(error as Error).message}`);
    }
  };

  const sse = (): Response => {
    let send: ((event: string, data: unknown) => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        send = (event, data) => {
          try {
            controller.enqueue(te.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
          } catch {
            s.subscribers.delete(send!);
          }
        };
        s.subscribers.add(send);
        send("connected", {});
      },
      cancel() {
        if (send) s.subscribers.delete(send);
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  };

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const seg = url.pathname.split("/").filter((part) => part !== "").map(decodeURIComponent);
    const q = url.searchParams;
    if (req.method === "GET" && seg.length === 1 && seg[0] === "healthz") {
      return new Response("ok");
    }
    if (seg[0] !== "v1") return fail(404, "route");
    if (req.method === "GET" && seg[1] === "events" && seg.length === 2) return sse();
    if (seg[1] === "registry" && seg[2] === "bundles" && seg.length === 4) {
      if (req.method === "PUT") {
        const bytes = new Uint8Array(await req.arrayBuffer());
        let bundle: RegistryBundle;
        try {
          bundle = validateBundleShape(JSON.parse(new TextDecoder().decode(bytes)));
        } catch (error) {
          return fail(422, `invalid json: ${(error as Error).message}`);
        }
        try {
          if (s.registry.check(bundle) === "identical") return new Response(null, { status: 204 });
          s.registry.admit(JSON.parse(canonicalBundleJson(bundle)));
        } catch (error) {
          if (isTurnStoreError(error)) return fail(422, error.message);
          throw error;
        }
        s.bundleBytes.set(bundle.bundle_id, bytes);
        s.lastBundleId = bundle.bundle_id;
        return json(201, { bundle_id: bundle.bundle_id });
      }
      if (req.method === "GET") {
        const bytes = s.bundleBytes.get(seg[3]);
        if (!bytes) return fail(404, "bundle");
        const etag = `"${blake3Hex(bytes)}"`;
        if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304 });
        return new Response(bytes.slice() as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": "application/json", etag },
        });
      }
    }
    if (req.method === "GET" && seg[1] === "contexts" && seg.length === 2) {
      const limit = Number(q.get("limit") ?? 20) || 20;
      const list = [...s.contexts.values()].reverse().slice(0, limit).map((c) => ({
        context_id: c.contextId.toString(),
        head_turn_id: c.headTurnId.toString(),
        head_depth: c.headDepth,
        created_at_unix_ms: c.createdAt,
        is_live: false,
      }));
      return json(200, {
        contexts: list,
        count: list.length,
        active_sessions: [],
        active_tags: [],
      });
    }
    if (req.method === "GET" && seg[1] === "contexts" && seg[3] === "turns" && seg.length === 4) {
      return turnsPage(seg[2], q);
    }
    if (req.method === "GET" && seg[1] === "turns" && seg[3] === "fs") {
      const path = seg.length > 4 ? seg.slice(4).join("/") : (q.get("path") ?? "");
      return fsRoute(seg[2], path, q);
    }
    return fail(404, "route");
  };
}

interface TreeEntryJson {
  name: string;
  kind: "file" | "dir" | "symlink";
  mode: string;
  size: number;
  hash: string;
}

function loadTree(blobs: Map<string, Uint8Array>, hash: string): TreeEntryJson[] {
  const bytes = blobs.get(hash);
  if (!bytes) throw new Error(`tree blob ${hash} is missing`);
  const raw = decodeMsgpack(bytes);
  if (!Array.isArray(raw)) throw new Error("a tree is a msgpack array");
  return raw.map((e: Record<string, unknown>) => {
    const kind = Number(e["2"]);
    const h = e["5"];
    if (typeof e["1"] !== "string" || !(h instanceof Uint8Array) || h.length !== 32) {
      throw new Error("malformed tree entry");
    }
    return {
      name: e["1"],
      kind: kind === 1 ? "dir" : kind === 2 ? "symlink" : "file",
      mode: Number(e["3"]).toString(8),
      size: Number(e["4"]),
      hash: toHex(h),
    };
  });
}
