/**
 * The provider skeleton every HTTP adapter shares: retries, cancellation,
 * SSE reading and stream accumulation. An adapter only supplies the wire
 * format (a `WireFormat`): how to build the body, read a response, and
 * translate stream events.
 *
 * @module
 */

import { type FinishDetails, responseToEvents, StreamAccumulator } from "./accumulate.ts";
import { StreamCallIds, withUniqueCallIds } from "./call_ids.ts";
import { Deadline } from "./deadline.ts";
import { InvalidResponseError, LlmError, NetworkError } from "./errors.ts";
import {
  DEFAULT_MAX_EVENT_BYTES,
  errorFromFailure,
  errorFromStreamBody,
  type FetchLike,
  postJson,
  readJsonBody,
  readRateLimit,
} from "./http.ts";
import { abortedError, DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from "./retry.ts";
import { NotEventStreamError, parseSseBatches, type SseEvent } from "./sse.ts";
import { readErrorBody } from "./classify.ts";
import type {
  FinishEvent,
  JsonObject,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
} from "./types.ts";

/** The end of a translated stream: the finish facts, before the response is assembled. */
export interface FinishSignal extends FinishDetails {
  /** Discriminator. */
  readonly type: "finish_signal";
}

/** What a stream translator emits: unified events (except finish) or the finish signal. */
export type TranslatedEvent = Exclude<LlmStreamEvent, FinishEvent> | FinishSignal;

/** Translates one provider's SSE events into unified events; one per stream. */
export interface StreamTranslator {
  /** Translates one SSE event; throws an LlmError for an in-stream provider error. */
  push(event: SseEvent): TranslatedEvent[];
  /** Called when the byte stream ends without a finish signal; may emit one. */
  end(): TranslatedEvent[];
}

/** One provider's wire format. */
export interface WireFormat {
  /** Provider name. */
  readonly provider: string;
  /** Full URL of the endpoint, or a function of the request (Gemini puts the model in the path). */
  readonly url: string | ((request: LlmRequest, stream: boolean) => string);
  /** Request headers (auth, versions); content-type is added for you. */
  headers(request: LlmRequest): Record<string, string>;
  /** The JSON body for `request`; `stream` says whether SSE is wanted. */
  body(request: LlmRequest, stream: boolean): JsonObject;
  /** Reads a non-streamed JSON response. */
  parseResponse(json: unknown, headers: Headers): LlmResponse;
  /** A fresh translator for one stream. */
  translator(): StreamTranslator;
}

/** Options every HTTP adapter accepts. */
export interface HttpProviderOptions {
  /** Retry policy for 429, 5xx and connection failures; merged over the defaults. */
  readonly retry?: Partial<RetryPolicy>;
  /** Custom fetch (defaults to the global one). */
  readonly fetch?: FetchLike;
  /** Random source for jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /**
   * Per attempt: how long to wait for a whole response (`complete`) or for
   * the response headers (`stream`). Unset: no limit. Ends with code "timeout".
   */
  readonly timeoutMs?: number;
  /** Longest silence allowed between two chunks of a stream. Unset: no limit. */
  readonly streamIdleTimeoutMs?: number;
  /**
   * Largest non-streamed response body, and largest single stream event, in
   * bytes (default 32 MiB). Beyond it the call fails with code
   * "invalid_response" instead of reading a hostile body into memory.
   */
  readonly maxEventBytes?: number;
}

/** An LlmProvider over HTTP + SSE for a given wire format. */
export class HttpLlmProvider implements LlmProvider {
  /** Provider name. */
  readonly name: string;
  readonly #wire: WireFormat;
  readonly #retry: RetryPolicy;
  readonly #fetch: FetchLike;
  readonly #random: () => number;
  readonly #timeoutMs: number | undefined;
  readonly #idleTimeoutMs: number | undefined;
  readonly #maxEventBytes: number;

  /** Creates a provider speaking `wire`. */
  constructor(wire: WireFormat, options: HttpProviderOptions = {}) {
    this.name = wire.provider;
    this.#wire = wire;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#random = options.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs;
    this.#idleTimeoutMs = options.streamIdleTimeoutMs;
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** Sends the request (retrying transient failures) and resolves with the whole response. */
  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    const body = this.#wire.body(request, false);
    const url = this.#url(request, false);
    return await withRetry(
      async () => {
        using deadline = new Deadline(this.name, signal);
        deadline.arm(this.#timeoutMs, "the response");
        let response: Response;
        let json: unknown;
        try {
          response = await postJson(
            this.#fetch,
            this.name,
            url,
            this.#wire.headers(request),
            body,
            deadline.signal,
          );
          json = await readJsonBody(response, this.name, deadline.signal, this.#maxEventBytes);
        } catch (error) {
          throw deadline.timeoutError ?? error;
        }
        return this.#parse(json, response.headers);
      },
      this.#retry,
      signal,
      this.#random,
    );
  }

  #url(request: LlmRequest, stream: boolean): string {
    const url = this.#wire.url;
    return typeof url === "string" ? url : url(request, stream);
  }

  #parse(json: unknown, headers: Headers): LlmResponse {
    try {
      return withUniqueCallIds(this.#wire.parseResponse(json, headers));
    } catch (error) {
      if (error instanceof LlmError) throw error;
      throw new InvalidResponseError(
        `${this.name}: unexpected response shape: ${(error as Error).message}`,
        { provider: this.name, cause: error, raw: json },
      );
    }
  }

  /**
   * Streams the request. Only connecting is retried: once events have been
   * delivered a failure ends the stream with an `error` event instead.
   */
  stream(request: LlmRequest, signal?: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    return new EventStream(this.#stream(request, signal));
  }

  /**
   * The stream as a generator that yields each network chunk's events as one
   * `ChunkEvents` (handed out one by one by `EventStream`) and every other
   * event (errors, an unstreamed answer, the end) itself.
   */
  async *#stream(
    request: LlmRequest,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<LlmStreamEvent | ChunkEvents> {
    let response: Response;
    let deadline: Deadline;
    try {
      const body = this.#wire.body(request, true);
      const url = this.#url(request, true);
      [response, deadline] = await withRetry(
        async (): Promise<[Response, Deadline]> => {
          const attempt = new Deadline(this.name, signal);
          attempt.arm(this.#timeoutMs, "the response headers");
          try {
            const response = await postJson(
              this.#fetch,
              this.name,
              url,
              this.#wire.headers(request),
              body,
              attempt.signal,
            );
            return [response, attempt];
          } catch (error) {
            attempt.clear();
            throw attempt.timeoutError ?? error;
          }
        },
        this.#retry,
        signal,
        this.#random,
      );
    } catch (error) {
      yield { type: "error", error: errorFromFailure(error, this.name, signal) };
      return;
    }
    if (!response.body) {
      deadline.clear();
      yield {
        type: "error",
        error: new InvalidResponseError(`${this.name}: stream response has no body`, {
          provider: this.name,
        }),
      };
      return;
    }
    // Some compatible servers ignore `stream: true` (e.g. with tools) and answer
    // with plain JSON; that is still a complete answer, so stream it as events.
    if ((response.headers.get("content-type") ?? "").includes("application/json")) {
      deadline.arm(this.#timeoutMs, "the response body");
      try {
        const json = await readJsonBody(
          response,
          this.name,
          deadline.signal,
          this.#maxEventBytes,
        );
        const parsed = this.#parse(json, response.headers);
        deadline.clear();
        for (const event of responseToEvents(parsed)) {
          if (signal?.aborted) throw abortedError(signal, this.name);
          yield event;
        }
      } catch (error) {
        deadline.clear();
        yield {
          type: "error",
          error: deadline.timeoutError ?? errorFromFailure(error, this.name, signal),
        };
      }
      return;
    }
    // Translation is inline rather than a delegated generator: one less await per event.
    const accumulator = new StreamAccumulator(this.name);
    const translator = this.#wire.translator();
    const rateLimit = readRateLimit(response.headers);
    const finishWith = (signalEvent: FinishSignal): FinishEvent =>
      accumulator.finish(rateLimit ? { ...signalEvent, rateLimit } : signalEvent);
    const callIds = new StreamCallIds();
    /** The event with its call id made unique, added to the response being built. */
    const record = (out: LlmStreamEvent): LlmStreamEvent => {
      const unique = callIds.rewrite(out);
      accumulator.add(unique);
      return unique;
    };
    const sse = parseSseBatches(response.body, {
      maxEventBytes: this.#maxEventBytes,
      provider: this.name,
    });
    // Set while we wait on the network: a failure then is the connection's; a
    // failure otherwise is a translator choking on an event it could not read.
    let reading = false;
    try {
      while (true) {
        // The idle timer only runs while we wait on the network, not while a
        // slow consumer holds an event.
        deadline.arm(this.#idleTimeoutMs, "waiting for the next stream chunk");
        reading = true;
        const next = await sse.next();
        reading = false;
        deadline.clear();
        if (next.done) break;
        // Its events are translated and handed out by EventStream as they are
        // asked for; what that throws is thrown back in here, at this yield.
        const chunk = new ChunkEvents(
          next.value,
          translator,
          record,
          finishWith,
          signal,
          this.name,
        );
        yield chunk;
        if (chunk.finished) return;
      }
      if (signal?.aborted) throw abortedError(signal, this.name);
      for (const out of translator.end()) {
        if (out.type === "finish_signal") {
          yield finishWith(out);
          return;
        }
        yield record(out);
      }
      throw new NetworkError(`${this.name}: stream ended before the response was complete`, {
        provider: this.name,
      });
    } catch (error) {
      const failure = error instanceof NotEventStreamError
        ? errorInBody(this.name, error)
        : !reading && !(error instanceof LlmError) && !signal?.aborted
        ? new InvalidResponseError(
          `${this.name}: unreadable stream event: ${(error as Error)?.message ?? String(error)}`,
          { provider: this.name, cause: error },
        )
        : error;
      yield {
        type: "error",
        error: deadline.timeoutError ?? errorFromFailure(failure, this.name, signal),
      };
    } finally {
      deadline.clear();
      await sse.return(undefined);
    }
  }
}

/**
 * The events of one network chunk, translated one SSE event at a time as they
 * are taken, exactly as the stream loop did before handing them out.
 */
class ChunkEvents {
  readonly #events: readonly SseEvent[];
  readonly #translator: StreamTranslator;
  readonly #record: (out: LlmStreamEvent) => LlmStreamEvent;
  readonly #finish: (signal: FinishSignal) => FinishEvent;
  readonly #signal: AbortSignal | undefined;
  readonly #provider: string;
  #next = 0;
  #outs: readonly TranslatedEvent[] = [];
  #out = 0;
  /** Set once the finish event has been taken: the stream is over. */
  finished = false;

  constructor(
    events: readonly SseEvent[],
    translator: StreamTranslator,
    record: (out: LlmStreamEvent) => LlmStreamEvent,
    finish: (signal: FinishSignal) => FinishEvent,
    signal: AbortSignal | undefined,
    provider: string,
  ) {
    this.#events = events;
    this.#translator = translator;
    this.#record = record;
    this.#finish = finish;
    this.#signal = signal;
    this.#provider = provider;
  }

  /** The next event, or undefined when the chunk is spent; throws what translating throws. */
  take(): LlmStreamEvent | undefined {
    while (this.#out === this.#outs.length) {
      if (this.finished || this.#next === this.#events.length) return undefined;
      // Checked per event: a consumer may abort between two events of one chunk.
      if (this.#signal?.aborted) throw abortedError(this.#signal, this.#provider);
      this.#outs = this.#translator.push(this.#events[this.#next++]);
      this.#out = 0;
    }
    const out = this.#outs[this.#out++];
    if (out.type !== "finish_signal") return this.#record(out);
    this.finished = true;
    this.#outs = [];
    this.#out = 0;
    return this.#finish(out);
  }
}

/**
 * The stream's async generator, with each chunk's events handed out from
 * `next()` directly: a yield from an async generator costs several promise
 * turns, and a stream may carry tens of thousands of events. Everything else
 * (reading, errors, the end, `return` and `throw`) is the wrapped generator's,
 * and calls wait for the one before, as an async generator's do.
 */
class EventStream implements AsyncGenerator<LlmStreamEvent, void, unknown> {
  readonly #source: AsyncGenerator<LlmStreamEvent | ChunkEvents, void, unknown>;
  /** The chunk being handed out. */
  #chunk: ChunkEvents | undefined;
  /** Calls not yet settled; while there are any, a new call waits behind them. */
  #waiting = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(source: AsyncGenerator<LlmStreamEvent | ChunkEvents, void, unknown>) {
    this.#source = source;
  }

  next(): Promise<IteratorResult<LlmStreamEvent, void>> {
    if (this.#waiting > 0) return this.#serial(() => Promise.resolve(this.#step()));
    const step = this.#step();
    return step instanceof Promise ? this.#serial(() => step) : Promise.resolve(step);
  }

  return(value?: void | PromiseLike<void>): Promise<IteratorResult<LlmStreamEvent, void>> {
    return this.#serial(() => {
      this.#chunk = undefined;
      return this.#pull(this.#source.return(value));
    });
  }

  throw(error?: unknown): Promise<IteratorResult<LlmStreamEvent, void>> {
    return this.#serial(() => {
      this.#chunk = undefined;
      return this.#pull(this.#source.throw(error));
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** Runs `call` after the calls before it have settled. */
  #serial<T>(call: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const run = this.#waiting === 1 ? call() : this.#queue.then(call);
    const result = run.finally(() => this.#waiting--);
    this.#queue = result.catch(() => {});
    return result;
  }

  /**
   * The next event: taken from the chunk being handed out when it has one
   * left (no promise involved), else asked of the source. Only one runs at a time.
   */
  #step():
    | IteratorResult<LlmStreamEvent, void>
    | Promise<IteratorResult<LlmStreamEvent, void>> {
    const chunk = this.#chunk;
    if (chunk !== undefined) {
      let event: LlmStreamEvent | undefined;
      try {
        event = chunk.take();
      } catch (error) {
        this.#chunk = undefined;
        return this.#pull(this.#source.throw(error));
      }
      if (event !== undefined) return { value: event, done: false };
      this.#chunk = undefined;
    }
    return this.#pull(this.#source.next());
  }

  /** The first event `step` leads to, taking it from a chunk the source yields. */
  async #pull(
    step: Promise<IteratorResult<LlmStreamEvent | ChunkEvents, void>>,
  ): Promise<IteratorResult<LlmStreamEvent, void>> {
    let result = await step;
    while (!result.done) {
      const item = result.value;
      if (!(item instanceof ChunkEvents)) return { value: item, done: false };
      let event: LlmStreamEvent | undefined;
      try {
        event = item.take();
      } catch (error) {
        result = await this.#source.throw(error);
        continue;
      }
      if (event !== undefined) {
        this.#chunk = item;
        return { value: event, done: false };
      }
      result = await this.#source.next();
    }
    return result;
  }
}

/**
 * What a 200 "stream" without a single event said: a JSON error object some
 * proxies and servers send unframed is classified like any provider error
 * (its message kept); anything else (an HTML page) stays an invalid response.
 * Either way not a retryable network error: the server did answer.
 */
function errorInBody(provider: string, error: NotEventStreamError): LlmError {
  let json: unknown;
  try {
    json = JSON.parse(error.body);
  } catch {
    return error;
  }
  return readErrorBody(json).message === undefined ? error : errorFromStreamBody(provider, json);
}
