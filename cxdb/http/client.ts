/**
 * The CXDB HTTP read API: contexts, turn pages (typed and raw) with cursor
 * paging, registry bundles with ETag, filesystem browsing, and the event
 * stream. The server has no HTTP write routes besides registry bundles.
 *
 * @module
 */
import { type RegistryBundle, validateBundleShape } from "@forge/turnstore";
import { CxdbError, HttpError } from "../client/errors.ts";
import type { ReconnectOptions } from "../client/options.ts";
import { type RetryPolicy, retryPolicy, withRetry } from "../client/retry.ts";
import { parseSse, type SseEvent } from "./sse.ts";
import { checkContextList, checkFsListing, checkTurnPage, parseJson } from "./shapes.ts";
import { checkRetry, checkTimeout, MAX_TIMER_MS } from "../client/check_options.ts";

/** A context in the contexts list. */
export interface HttpContext {
  /** Context id. */
  readonly context_id: string;
  /** Head turn id. */
  readonly head_turn_id: string;
  /** Server depth of the head. */
  readonly head_depth: number;
  /** Anything else the server sends (client_tag, is_live, ...). */
  readonly [key: string]: unknown;
}

/** One turn of a page. */
export interface HttpTurn {
  /** Turn id. */
  readonly turn_id: string;
  /** Parent turn id. */
  readonly parent_turn_id: string;
  /** Server depth (a first turn is 0). */
  readonly depth: number;
  /** The type the turn was appended with. */
  readonly declared_type: { readonly type_id: string; readonly type_version: number };
  /** Typed view: fields by name. */
  readonly data?: Record<string, unknown>;
  /** Raw view: BLAKE3 of the payload. */
  readonly content_hash_b3?: string;
  /** Raw view, bytes_render=base64. */
  readonly bytes_b64?: string;
  /** Raw view, bytes_render=hex. */
  readonly bytes_hex?: string;
  /** Raw view, bytes_render=len_only. */
  readonly bytes_len?: number;
  /** Anything else. */
  readonly [key: string]: unknown;
}

/** A page of turns. */
export interface HttpTurnPage {
  /** The context's head and the registry bundle in use. */
  readonly meta: {
    readonly context_id: string;
    readonly head_turn_id: string;
    readonly head_depth: number;
    readonly registry_bundle_id: string | null;
  };
  /** Turns oldest → newest. */
  readonly turns: HttpTurn[];
  /** Cursor for the next older page; null when the page is empty. */
  readonly next_before_turn_id: string | null;
}

/** Query options of {@link CxdbHttpClient.turns}. */
export interface TurnPageOptions {
  /** Most turns; server default 64. */
  readonly limit?: number;
  /** Page before this turn. */
  readonly beforeTurnId?: string;
  /** typed (needs registered types), raw, or both. */
  readonly view?: "typed" | "raw" | "both";
  /** How raw bytes are rendered. */
  readonly bytesRender?: "base64" | "hex" | "len_only";
  /** u64 as string (default) or number. */
  readonly u64Format?: "string" | "number";
  /** Times as ISO text (default) or unix ms. */
  readonly timeRender?: "iso" | "unix_ms";
  /** Include tags the type does not declare. */
  readonly includeUnknown?: boolean;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
}

/** A directory listing of an attached tree. */
export interface HttpFsListing {
  /** The turn asked about. */
  readonly turn_id: string;
  /** The path listed. */
  readonly path: string;
  /** The tree root in effect for the turn (its own or inherited). */
  readonly fs_root_hash: string;
  /** Entries sorted by name. */
  readonly entries: {
    readonly name: string;
    readonly kind: "file" | "dir" | "symlink";
    readonly mode: string;
    readonly size: number;
    readonly hash: string;
  }[];
}

/** Result of {@link CxdbHttpClient.putBundle}. */
export interface PutBundleResult {
  /** 201 created, 204 identical. */
  readonly status: 201 | 204;
}

/** Result of {@link CxdbHttpClient.getBundle}. */
export type GetBundleResult =
  | { readonly status: 200; readonly bundle: RegistryBundle; readonly etag: string | null }
  | { readonly status: 304 }
  | { readonly status: 404 };

/** Options of {@link CxdbHttpClient}. */
export interface CxdbHttpClientOptions {
  /** Per-attempt timeout in ms; default 30000. */
  readonly timeoutMs?: number;
  /**
   * Retry policy, the same as the binary client's reconnection policy (and
   * by default the same values): a request that cannot reach the server, or
   * that a restarting server answers 502, 503 or 504, is tried again.
   */
  readonly retry?: ReconnectOptions;
}

/** Statuses a server or proxy gives while it (re)starts: worth another attempt. */
const RETRY_STATUSES = new Set([502, 503, 504]);

/**
 * Reads a body, failing as an HttpError (status 0, as a failed request) when
 * the body cannot be read to its end: the request's timeout fires while a
 * server trickles it, or the connection drops. Otherwise the fetch's own
 * DOMException would reach the caller.
 */
async function bodyOf<T>(
  op: string,
  res: Response,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  try {
    return await read(res);
  } catch (error) {
    throw new HttpError(
      op,
      0,
      `reading the answer (HTTP ${res.status}) failed: ${(error as Error)?.message ?? error}`,
    );
  }
}
const asText = (res: Response) => res.text();

/** Client of the HTTP read API. */
export class CxdbHttpClient {
  /** Base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;

  /** Creates a client for `baseUrl` (e.g. http://127.0.0.1:9010). */
  constructor(baseUrl: string, options: CxdbHttpClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    checkTimeout("timeoutMs", options.timeoutMs);
    checkRetry("retry", options.retry);
    // Above a timer's range AbortSignal.timeout fires at once (or throws):
    // the longest timer stands for "longer than that", Infinity included.
    this.#timeoutMs = Math.min(options.timeoutMs ?? 30_000, MAX_TIMER_MS);
    this.#retry = retryPolicy(options.retry);
  }

  /**
   * One request, retried per the policy while the server cannot be reached
   * or answers that it is unavailable. Every route used here is a read or an
   * idempotent PUT, so a retry cannot do anything twice.
   */
  #fetch(op: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    let tries = 0;
    return withRetry(
      this.#retry,
      async () => {
        tries++;
        const timeout = AbortSignal.timeout(this.#timeoutMs);
        const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
        let res: Response;
        try {
          res = await fetch(url, { ...init, signal });
        } catch (error) {
          throw new HttpError(
            op,
            0,
            `request to ${url} failed${tries > 1 ? ` (attempt ${tries})` : ""}: ${
              (error as Error).message
            }`,
          );
        }
        if (RETRY_STATUSES.has(res.status)) {
          const text = await res.text().catch(() => "");
          throw new HttpError(op, res.status, text);
        }
        return res;
      },
      (error) =>
        error instanceof HttpError && (error.status === 0 || RETRY_STATUSES.has(error.status)) &&
        !init.signal?.aborted,
      init.signal ?? undefined,
    );
  }

  /** A JSON answer, checked by `check` (which throws a Protocol error naming the bad field). */
  async #json<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    check: (op: string, body: unknown) => void,
  ): Promise<T> {
    const res = await this.#fetch(op, path, { signal });
    const body = await bodyOf(op, res, asText);
    if (!res.ok) throw new HttpError(op, res.status, body);
    const parsed = parseJson(op, body);
    check(op, parsed);
    return parsed as T;
  }

  /** GET /healthz: true when the server answers "ok". */
  async health(): Promise<boolean> {
    try {
      const res = await this.#fetch("GET /healthz", "/healthz");
      return res.ok && (await res.text()).trim() === "ok";
    } catch {
      return false;
    }
  }

  /** GET /v1/contexts: the most recent contexts. */
  async contexts(
    options: { limit?: number; tag?: string; signal?: AbortSignal } = {},
  ): Promise<HttpContext[]> {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    if (options.tag !== undefined) q.set("tag", options.tag);
    const body = await this.#json<{ contexts: HttpContext[] }>(
      "GET /v1/contexts",
      `/v1/contexts?${q}`,
      options.signal,
      checkContextList,
    );
    return body.contexts;
  }

  /**
   * GET /v1/contexts/{id}/turns: one page. Throws HttpError 404 for an
   * unknown context or cursor, 424 when a typed page meets an unregistered type.
   */
  turns(contextId: string, options: TurnPageOptions = {}): Promise<HttpTurnPage> {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    if (options.beforeTurnId !== undefined) q.set("before_turn_id", options.beforeTurnId);
    q.set("view", options.view ?? "typed");
    if (options.bytesRender) q.set("bytes_render", options.bytesRender);
    if (options.u64Format) q.set("u64_format", options.u64Format);
    if (options.timeRender) q.set("time_render", options.timeRender);
    if (options.includeUnknown) q.set("include_unknown", "1");
    return this.#json<HttpTurnPage>(
      `GET turns of context ${contextId}${
        options.beforeTurnId ? ` before turn ${options.beforeTurnId}` : ""
      }`,
      `/v1/contexts/${encodeURIComponent(contextId)}/turns?${q}`,
      options.signal,
      (op, body) => checkTurnPage(op, body, options.u64Format === "number"),
    );
  }

  /** Every page of a context, newest page first, following `next_before_turn_id`. */
  async *pages(
    contextId: string,
    options: TurnPageOptions = {},
  ): AsyncGenerator<HttpTurnPage, void, undefined> {
    let before = options.beforeTurnId;
    for (;;) {
      const page = await this.turns(contextId, { ...options, beforeTurnId: before });
      if (page.turns.length === 0) return;
      yield page;
      if (!page.next_before_turn_id || page.turns[0].parent_turn_id === "0") return;
      before = page.next_before_turn_id;
    }
  }

  /** PUT /v1/registry/bundles/{id}; 422 (rule broken) throws HttpError. */
  async putBundle(bundle: RegistryBundle): Promise<PutBundleResult> {
    const op = `PUT registry bundle ${bundle.bundle_id}`;
    const res = await this.#fetch(
      op,
      `/v1/registry/bundles/${encodeURIComponent(bundle.bundle_id)}`,
      {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(bundle),
      },
    );
    const text = await bodyOf(op, res, asText);
    if (res.status === 201 || res.status === 204) return { status: res.status };
    throw new HttpError(op, res.status, text);
  }

  /** GET /v1/registry/bundles/{id}, with If-None-Match when `etag` is given. */
  async getBundle(bundleId: string, etag?: string): Promise<GetBundleResult> {
    const op = `GET registry bundle ${bundleId}`;
    const res = await this.#fetch(op, `/v1/registry/bundles/${encodeURIComponent(bundleId)}`, {
      headers: etag ? { "if-none-match": etag } : {},
    });
    const text = await bodyOf(op, res, asText);
    if (res.status === 304) return { status: 304 };
    if (res.status === 404) return { status: 404 };
    if (!res.ok) throw new HttpError(op, res.status, text);
    let bundle: RegistryBundle;
    try {
      // The server holds what it accepted, perhaps from a writer with looser rules than ours.
      bundle = validateBundleShape(parseJson(op, text), { strict: false });
    } catch (error) {
      if (error instanceof CxdbError) throw error;
      throw new CxdbError(
        "Protocol",
        op,
        `${op}: malformed answer from the server: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return { status: 200, bundle, etag: res.headers.get("etag") };
  }

  /** GET /v1/turns/{id}/fs?path=: a directory of the tree in effect for a turn; undefined when none. */
  async listFs(turnId: string, path = ""): Promise<HttpFsListing | undefined> {
    const op = `GET fs of turn ${turnId} at ${JSON.stringify(path)}`;
    const res = await this.#fetch(
      op,
      `/v1/turns/${encodeURIComponent(turnId)}/fs?path=${encodeURIComponent(path)}`,
    );
    const text = await bodyOf(op, res, asText);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new HttpError(op, res.status, text);
    const body = parseJson(op, text);
    checkFsListing(op, body);
    return body as HttpFsListing;
  }

  /** GET /v1/turns/{id}/fs/<path>: a file's bytes; undefined when absent. */
  async readFsFile(turnId: string, path: string): Promise<Uint8Array | undefined> {
    const op = `GET file ${path} of turn ${turnId}`;
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const res = await this.#fetch(op, `/v1/turns/${encodeURIComponent(turnId)}/fs/${encoded}`);
    const bytes = new Uint8Array(await bodyOf(op, res, (r) => r.arrayBuffer()));
    if (res.status === 404) return undefined;
    if (!res.ok) throw new HttpError(op, res.status, new TextDecoder().decode(bytes));
    return bytes;
  }

  /**
   * GET /v1/events as an async iterable of parsed events (data is JSON).
   * Stop it with `signal` or by breaking out of the loop.
   */
  async *events(
    signal?: AbortSignal,
  ): AsyncGenerator<SseEvent & { readonly json: unknown }, void, undefined> {
    const op = "GET /v1/events";
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/v1/events`, {
        headers: { accept: "text/event-stream" },
        signal,
      });
    } catch (error) {
      if (signal?.aborted) return;
      throw new HttpError(op, 0, (error as Error).message);
    }
    if (!res.ok || !res.body) {
      const text = await bodyOf(op, res, asText);
      throw new HttpError(op, res.status, text);
    }
    const stream = parseSse(res.body, signal);
    try {
      for (;;) {
        let next: IteratorResult<SseEvent>;
        try {
          next = await stream.next();
        } catch (error) {
          // A stream cut by the network: typed, as any other failed request.
          if (signal?.aborted) return;
          throw new HttpError(
            op,
            0,
            `the event stream broke: ${(error as Error)?.message ?? error}`,
          );
        }
        if (next.done) return;
        const e = next.value;
        let parsed: unknown = e.data;
        try {
          parsed = JSON.parse(e.data);
        } catch { /* not JSON: keep the text */ }
        yield { ...e, json: parsed };
      }
    } finally {
      // The caller stopped early (or the stream broke): release the body.
      await stream.return(undefined).catch(() => {});
    }
  }
}
