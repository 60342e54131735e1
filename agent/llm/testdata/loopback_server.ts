/**
 * A real HTTP server on 127.0.0.1 (port 0) for adapter tests. It answers
 * each request with the next canned reply (recorded JSON or SSE bytes from
 * this folder), optionally cut into small chunks or left hanging mid-stream,
 * and records what it received.
 *
 * @module
 */

/** One canned reply. */
export interface CannedReply {
  /** HTTP status (200). */
  readonly status?: number;
  /** Extra response headers. */
  readonly headers?: Record<string, string>;
  /** A testdata file whose bytes are the body (content type from its extension). */
  readonly file?: string;
  /** A literal body. */
  readonly body?: string;
  /** Send the body in chunks of this many bytes (exercises split lines). */
  readonly chunkBytes?: number;
  /** Send each server-sent event (up to and including its blank line) as its own chunk. */
  readonly chunkEvents?: boolean;
  /** Stop after this many bytes and keep the connection open until the client goes away. */
  readonly hangAfterBytes?: number;
}

/** A request as the server saw it. */
export interface ReceivedRequest {
  /** HTTP method. */
  readonly method: string;
  /** URL path. */
  readonly path: string;
  /** URL query, with its "?" ("" when none). */
  readonly query: string;
  /** Lower-cased headers. */
  readonly headers: Record<string, string>;
  /** The JSON body. */
  readonly body: Record<string, unknown>;
}

/** Reads a testdata file. */
export function testdata(name: string): Promise<string> {
  return Deno.readTextFile(new URL(`./${name}`, import.meta.url));
}

/** The loopback server. */
export class LoopbackServer implements AsyncDisposable {
  readonly received: ReceivedRequest[] = [];
  readonly #replies: CannedReply[];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #hanging = new Set<() => void>();
  /** Resolves when a hanging stream was cancelled by its client. */
  readonly clientGone: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  private constructor(replies: CannedReply[]) {
    this.#replies = replies;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  /** Starts a server that will answer with `replies` in order. */
  static start(...replies: CannedReply[]): LoopbackServer {
    return new LoopbackServer([...replies]);
  }

  /** Base URL, e.g. http://127.0.0.1:41234/v1. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/v1`;
  }

  /** Stops the server, releasing any hanging stream. */
  async close(): Promise<void> {
    for (const release of this.#hanging) release();
    await this.#server.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(request: Request): Promise<Response> {
    const text = await request.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsed: text };
    }
    this.received.push({
      method: request.method,
      path: new URL(request.url).pathname,
      query: new URL(request.url).search,
      headers: Object.fromEntries(request.headers),
      body,
    });
    const reply = this.#replies.shift();
    if (!reply) return new Response("no canned reply left", { status: 599 });
    const payload = reply.file ? await testdata(reply.file) : reply.body ?? "";
    const bytes = new TextEncoder().encode(payload);
    const isSse = reply.file?.endsWith(".sse") ?? false;
    const headers = new Headers({
      "content-type": isSse ? "text/event-stream" : "application/json",
      ...reply.headers,
    });
    const limit = reply.hangAfterBytes ?? bytes.length;
    const ends = reply.chunkEvents ? eventEnds(bytes) : [];
    const chunk = reply.chunkBytes ?? bytes.length;
    let offset = 0;
    let release: (() => void) | undefined;
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (offset >= limit) {
          if (reply.hangAfterBytes === undefined) {
            controller.close();
            return;
          }
          // Keep the connection open, as a slow model would, until released.
          const { promise, resolve } = Promise.withResolvers<void>();
          release = resolve;
          this.#hanging.add(resolve);
          await promise;
          this.#hanging.delete(resolve);
          try {
            controller.close();
          } catch {
            // already cancelled
          }
          return;
        }
        const end = reply.chunkEvents
          ? Math.min(ends.find((e) => e > offset) ?? limit, limit)
          : Math.min(offset + chunk, limit);
        controller.enqueue(bytes.slice(offset, end));
        offset = end;
      },
      cancel: () => {
        release?.();
        this.clientGone.resolve();
      },
    });
    return new Response(stream, { status: reply.status ?? 200, headers });
  }
}

/** Offsets just past each blank line ("\n\n" or "\r\n\r\n") of an SSE body, and its end. */
function eventEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const crlf = i >= 3 && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a;
    if (bytes[i - 1] === 0x0a || crlf) ends.push(i + 1);
  }
  ends.push(bytes.length);
  return ends;
}

/** Runs `fn` with environment variables set (or removed, for undefined), restoring them after. */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(vars)) {
    saved.set(name, Deno.env.get(name));
    if (value === undefined) Deno.env.delete(name);
    else Deno.env.set(name, value);
  }
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}
