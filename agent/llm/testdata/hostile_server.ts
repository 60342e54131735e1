/**
 * A hostile or broken model server for robustness tests: a real `Deno.serve`
 * on 127.0.0.1 (port 0) whose every answer is a function of the request, so
 * a test can send any status, header, body, byte split or silence. Unlike
 * `LoopbackServer` (recordings played back), nothing here is a valid answer
 * unless the test makes it one.
 *
 * @module
 */

import { createProvider, type ProviderKind } from "../providers.ts";
import type { HttpLlmProvider, HttpProviderOptions } from "../http_provider.ts";
import type { LlmRequest } from "../types.ts";

/** Answers the `n`-th request (0-based). */
export type HostileHandler = (request: Request, n: number) => Response | Promise<Response>;

/** The server; counts requests and notices when a client goes away. */
export class HostileServer implements AsyncDisposable {
  /** How many requests arrived. */
  requests = 0;
  /** The JSON body of each request, in order. */
  readonly bodies: Record<string, unknown>[] = [];
  /** Resolves when a streamed body was cancelled by its client. */
  readonly clientGone: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #pending = new Set<() => void>();

  private constructor(handler: HostileHandler) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        const text = await request.text();
        try {
          this.bodies.push(JSON.parse(text));
        } catch {
          this.bodies.push({ unparsed: text });
        }
        return await handler(request, this.requests++);
      },
    );
  }

  /** Starts a server answering with `handler`. */
  static start(handler: HostileHandler): HostileServer {
    return new HostileServer(handler);
  }

  /** Base URL with `/v1`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/v1`;
  }

  /** A promise that settles only when the server closes: an answer that never comes. */
  never(): Promise<Response> {
    const { promise, resolve } = Promise.withResolvers<Response>();
    const release = () => resolve(new Response("closed", { status: 599 }));
    this.#pending.add(release);
    return promise;
  }

  /**
   * A streamed body from `produce`, which enqueues chunks until it returns;
   * the stream then closes. Cancelling by the client resolves `clientGone`.
   */
  stream(
    produce: (enqueue: (chunk: string | Uint8Array) => void, gone: () => boolean) => Promise<void>,
    init: ResponseInit = {},
  ): Response {
    let cancelled = false;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const enqueue = (chunk: string | Uint8Array) => {
          if (cancelled) return;
          controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
        };
        produce(enqueue, () => cancelled).then(
          () => {
            if (!cancelled) controller.close();
          },
          (error) => {
            if (!cancelled) controller.error(error);
          },
        );
      },
      cancel: () => {
        cancelled = true;
        this.clientGone.resolve();
      },
    }, { highWaterMark: 0 });
    return new Response(body, {
      status: init.status ?? 200,
      headers: { "content-type": "text/event-stream", ...(init.headers ?? {}) },
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const release of this.#pending) release();
    await this.#server.shutdown();
  }
}

/** The four HTTP adapters. */
export const KINDS: readonly ProviderKind[] = [
  "anthropic",
  "openai",
  "gemini",
  "openai-compatible",
];

/** An adapter of `kind` against `server`; no retries unless `options.retry` says so. */
export function hostileProvider(
  kind: ProviderKind,
  server: HostileServer,
  options: HttpProviderOptions = {},
): HttpLlmProvider {
  return createProvider(kind, {
    apiKey: "test-key",
    baseUrl: server.baseUrl,
    ...options,
    retry: { maxRetries: 0, baseDelayMs: 1, jitter: false, ...options.retry },
  });
}

/** A one-line request. */
export const HELLO: LlmRequest = {
  model: "test-model",
  messages: [{ role: "user", content: [{ kind: "text", text: "hello" }] }],
};

/** `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `data:` SSE event (named when `event` is given). */
export function sse(data: unknown, event?: string): string {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return `${event === undefined ? "" : `event: ${event}\n`}data: ${text}\n\n`;
}
