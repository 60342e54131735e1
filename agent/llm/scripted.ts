/**
 * A deterministic provider for tests and the keyless demo. It answers from a
 * queue of scripted replies, or replays a recorded transcript of
 * request→response pairs (checking each request against the recording), and
 * keeps every request it received so tests can assert on them. Streams are
 * the same replies cut into events.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { responseToEvents } from "./accumulate.ts";
import {
  AbortedError,
  ConfigurationError,
  InvalidRequestError,
  LlmError,
  type LlmErrorCode,
} from "./errors.ts";
import { makeUsage, toolCallFromObject } from "./messages.ts";
import { abortedError } from "./retry.ts";
import type {
  ContentPart,
  FinishReasonKind,
  JsonObject,
  LlmMessage,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
  Usage,
} from "./types.ts";

/** A scripted tool call; `callId` defaults to `call_<n>_<i>` (call number, position). */
export interface ScriptedToolCall {
  /** Call id. */
  readonly callId?: string;
  /** Tool name. */
  readonly name: string;
  /** Arguments (default `{}`). */
  readonly arguments?: JsonObject;
}

/** A scripted successful answer. */
export interface ScriptedAnswer {
  /** Assistant text. */
  readonly text?: string;
  /** Tool calls, after the text. */
  readonly toolCalls?: readonly ScriptedToolCall[];
  /** Reasoning, before the text. */
  readonly thinking?: string;
  /** Defaults to "tool_calls" when there are tool calls, else "stop". */
  readonly finishReason?: FinishReasonKind;
  /** Defaults to an estimate of about 4 characters a token. */
  readonly usage?: Usage;
}

/** A scripted failure: the call fails with this error code and message. */
export interface ScriptedFailure {
  /** The failure. */
  readonly error: { readonly code: LlmErrorCode; readonly message: string };
}

/** One scripted reply: an answer or a failure. */
export type ScriptedReply = ScriptedAnswer | ScriptedFailure;

/** One recorded exchange of a transcript. */
export interface TranscriptExchange {
  /** What was asked; when present, the received request must match it (model, messages, tool names). */
  readonly request?: {
    readonly model?: string;
    readonly messages?: readonly LlmMessage[];
    readonly toolNames?: readonly string[];
  };
  /** A scripted reply… */
  readonly reply?: ScriptedReply;
  /** …or a full recorded response (exactly one of the two). */
  readonly response?: LlmResponse;
}

/** A recorded conversation with a model, as stored in a JSON file. */
export interface Transcript {
  /** Format version; 1. */
  readonly version: 1;
  /** The exchanges, in order. */
  readonly exchanges: readonly TranscriptExchange[];
}

const ERROR_CODES = [
  "auth",
  "access_denied",
  "not_found",
  "rate_limit",
  "quota",
  "server",
  "overloaded",
  "invalid_request",
  "context_length",
  "content_filter",
  "network",
  "timeout",
  "aborted",
  "configuration",
  "invalid_response",
  "invalid_output",
] as const satisfies readonly LlmErrorCode[];

const replySchema = z.union([
  z.object({
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
  }).strict(),
  z.object({
    text: z.string().optional(),
    thinking: z.string().optional(),
    toolCalls: z.array(
      z.object({
        callId: z.string().optional(),
        // The earlier name of callId, still read in transcripts written before it.
        id: z.string().optional(),
        name: z.string().min(1),
        arguments: z.record(z.string(), z.unknown()).optional(),
      }).strict(),
    ).optional(),
    finishReason: z.enum(["stop", "length", "tool_calls", "content_filter", "error", "other"])
      .optional(),
    usage: z.object({
      inputTokens: z.number(),
      outputTokens: z.number(),
      totalTokens: z.number(),
    }).passthrough().optional(),
  }).strict(),
]);

const transcriptSchema = z.object({
  version: z.literal(1),
  exchanges: z.array(
    z.object({
      request: z.object({
        model: z.string().optional(),
        messages: z.array(z.object({ role: z.string(), content: z.array(z.unknown()) })).optional(),
        toolNames: z.array(z.string()).optional(),
      }).optional(),
      reply: replySchema.optional(),
      response: z.object({
        id: z.string(),
        model: z.string(),
        provider: z.string(),
        message: z.object({ role: z.literal("assistant"), content: z.array(z.unknown()) }),
        finishReason: z.object({ reason: z.string() }).passthrough(),
        usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }).passthrough(),
        warnings: z.array(z.unknown()),
      }).passthrough().optional(),
    }).refine((e) => (e.reply === undefined) !== (e.response === undefined), {
      message: "each exchange needs exactly one of reply or response",
    }),
  ),
});

/** Checks untrusted JSON as a transcript; a bad one is a ConfigurationError saying where. */
export function parseTranscript(json: unknown, source = "transcript"): Transcript {
  const result = transcriptSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigurationError(
      `scripted: ${source} is not a valid transcript: ${
        issue.path.join(".") || "(root)"
      }: ${issue.message}`,
    );
  }
  return upgradeTranscript(json as Transcript);
}

type Loose = Record<string, unknown>;

/** A call written with its id under the earlier name `id`, renamed `callId`. */
function upgradeCall(call: unknown): unknown {
  if (typeof call !== "object" || call === null) return call;
  const { id, ...rest } = call as Loose;
  return id === undefined || "callId" in rest ? call : { ...rest, callId: id };
}

/**
 * Transcripts written before the call id was named `callId` everywhere say
 * `id` (in a reply's `toolCalls`, and in a recorded response's tool-call
 * parts): read them as `callId`, so old recordings replay unchanged.
 */
function upgradeTranscript(transcript: Transcript): Transcript {
  const exchanges = transcript.exchanges.map((exchange) => {
    const reply = exchange.reply as Loose | undefined;
    const response = exchange.response as Loose | undefined;
    const message = response?.message as Loose | undefined;
    return {
      ...exchange,
      ...(reply && Array.isArray(reply.toolCalls)
        ? { reply: { ...reply, toolCalls: reply.toolCalls.map(upgradeCall) } }
        : {}),
      ...(response && message && Array.isArray(message.content)
        ? {
          response: {
            ...response,
            message: {
              ...message,
              content: message.content.map((part: Loose) =>
                part?.kind === "tool_call"
                  ? { ...part, toolCall: upgradeCall(part.toolCall) }
                  : part?.kind === "server_tool_call"
                  ? { ...part, serverToolCall: upgradeCall(part.serverToolCall) }
                  : part
              ),
            },
          },
        }
        : {}),
    };
  });
  return { ...transcript, exchanges } as Transcript;
}

/** Options of the scripted provider. */
export interface ScriptedProviderOptions {
  /** Provider name (default "scripted"). */
  readonly name?: string;
  /** Model reported when the request's model is empty. */
  readonly model?: string;
  /** Characters per streamed text delta (default 16). */
  readonly chunkSize?: number;
}

type QueueItem = {
  readonly reply: ScriptedReply | LlmResponse;
  readonly expect?: TranscriptExchange["request"];
};

function isFailure(reply: ScriptedReply | LlmResponse): reply is ScriptedFailure {
  return "error" in reply && typeof (reply as ScriptedFailure).error === "object";
}

function isResponse(reply: ScriptedReply | LlmResponse): reply is LlmResponse {
  return "message" in reply && "finishReason" in reply && typeof reply.finishReason === "object";
}

function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** A provider that answers from a script. Deterministic: same script and requests, same answers. */
export class ScriptedProvider implements LlmProvider {
  /** Provider name. */
  readonly name: string;
  readonly #queue: QueueItem[] = [];
  readonly #requests: LlmRequest[] = [];
  readonly #model: string;
  readonly #chunkSize: number;

  /** Creates a provider answering `replies` in order. */
  constructor(replies: readonly ScriptedReply[] = [], options: ScriptedProviderOptions = {}) {
    this.name = options.name ?? "scripted";
    this.#model = options.model ?? "scripted-model";
    this.#chunkSize = options.chunkSize ?? 16;
    this.enqueue(...replies);
  }

  /** A provider replaying `transcript`, checking each request against its recording. */
  static fromTranscript(
    transcript: Transcript,
    options: ScriptedProviderOptions = {},
  ): ScriptedProvider {
    const checked = parseTranscript(transcript);
    const provider = new ScriptedProvider([], options);
    for (const exchange of checked.exchanges) {
      provider.#queue.push({
        reply: exchange.response ?? exchange.reply!,
        expect: exchange.request,
      });
    }
    return provider;
  }

  /** A provider replaying the JSON transcript stored at `path`. */
  static async fromTranscriptFile(
    path: string | URL,
    options: ScriptedProviderOptions = {},
  ): Promise<ScriptedProvider> {
    let json: unknown;
    try {
      json = JSON.parse(await Deno.readTextFile(path));
    } catch (error) {
      throw new ConfigurationError(
        `scripted: cannot read transcript ${String(path)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return ScriptedProvider.fromTranscript(parseTranscript(json, String(path)), options);
  }

  /** Appends replies to the queue. */
  enqueue(...replies: ScriptedReply[]): void {
    for (const reply of replies) {
      const result = replySchema.safeParse(reply);
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new ConfigurationError(
          `scripted: invalid reply: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
        );
      }
      const toolCalls = (reply as Loose).toolCalls;
      this.#queue.push({
        reply: Array.isArray(toolCalls)
          ? { ...reply, toolCalls: toolCalls.map(upgradeCall) as ScriptedToolCall[] }
          : reply,
      });
    }
  }

  /** Every request received so far (copies), in order. */
  get requests(): readonly LlmRequest[] {
    return this.#requests;
  }

  /** How many replies are left. */
  get remaining(): number {
    return this.#queue.length;
  }

  /** Answers with the next reply; a scripted failure rejects with its typed error. */
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    try {
      if (signal?.aborted) throw abortedError(signal, this.name);
      return Promise.resolve(this.#next(request));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Streams the next reply as events; failures and aborts end it with an `error` event. */
  async *stream(request: LlmRequest, signal?: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    let response: LlmResponse;
    try {
      if (signal?.aborted) throw abortedError(signal, this.name);
      response = this.#next(request);
    } catch (error) {
      yield { type: "error", error: error as LlmError };
      return;
    }
    for (const event of responseToEvents(response, this.#chunkSize)) {
      // Checked between events so a consumer can abort mid-stream.
      if (signal?.aborted) {
        yield { type: "error", error: abortedError(signal, this.name) };
        return;
      }
      yield event;
    }
  }

  #next(request: LlmRequest): LlmResponse {
    this.#requests.push(structuredClone(request) as LlmRequest);
    const number = this.#requests.length;
    const item = this.#queue.shift();
    if (!item) {
      throw new ConfigurationError(
        `scripted: no reply left for request #${number} (the script had ${number - 1})`,
        { provider: this.name },
      );
    }
    if (item.expect) this.#check(number, request, item.expect);
    if (isResponse(item.reply)) return structuredClone(item.reply);
    if (isFailure(item.reply)) {
      const { code, message } = item.reply.error;
      if (code === "aborted") throw new AbortedError(message, { provider: this.name });
      throw new LlmError(code, `${this.name}: ${message}`, { provider: this.name });
    }
    return this.#answer(number, request, item.reply);
  }

  #check(number: number, request: LlmRequest, expect: NonNullable<TranscriptExchange["request"]>) {
    const fail = (what: string) => {
      throw new InvalidRequestError(
        `scripted: request #${number} does not match the transcript: ${what}`,
        { provider: this.name },
      );
    };
    if (expect.model !== undefined && expect.model !== request.model) {
      fail(`model is "${request.model}", recorded "${expect.model}"`);
    }
    if (expect.toolNames !== undefined) {
      const names = (request.tools ?? []).map((tool) => tool.name);
      if (!isDeepStrictEqual(names, [...expect.toolNames])) {
        fail(`tools are [${names.join(", ")}], recorded [${expect.toolNames.join(", ")}]`);
      }
    }
    if (expect.messages !== undefined) {
      const actual = JSON.parse(JSON.stringify(request.messages));
      const recorded = JSON.parse(JSON.stringify(expect.messages));
      if (actual.length !== recorded.length) {
        fail(`it has ${actual.length} messages, recorded ${recorded.length}`);
      }
      for (let i = 0; i < recorded.length; i++) {
        if (!isDeepStrictEqual(actual[i], recorded[i])) {
          fail(
            `messages[${i}] differs: got ${JSON.stringify(actual[i]).slice(0, 200)}, recorded ${
              JSON.stringify(recorded[i]).slice(0, 200)
            }`,
          );
        }
      }
    }
  }

  #answer(number: number, request: LlmRequest, reply: ScriptedAnswer): LlmResponse {
    const content: ContentPart[] = [];
    if (reply.thinking) {
      content.push({ kind: "thinking", thinking: { text: reply.thinking, provider: this.name } });
    }
    if (reply.text) content.push({ kind: "text", text: reply.text });
    (reply.toolCalls ?? []).forEach((call, index) => {
      content.push({
        kind: "tool_call",
        toolCall: toolCallFromObject(
          call.callId ?? `call_${number}_${index}`,
          call.name,
          call.arguments ?? {},
        ),
      });
    });
    const hasCalls = (reply.toolCalls ?? []).length > 0;
    const outputChars = (reply.text ?? "").length + (reply.thinking ?? "").length +
      (reply.toolCalls ?? []).reduce((n, c) => n + JSON.stringify(c.arguments ?? {}).length, 0);
    return {
      id: `scripted-${number}`,
      model: request.model || this.#model,
      provider: this.name,
      message: { role: "assistant", content },
      finishReason: { reason: reply.finishReason ?? (hasCalls ? "tool_calls" : "stop") },
      usage: reply.usage ??
        makeUsage(
          estimateTokens(JSON.stringify(request.messages).length),
          estimateTokens(outputChars),
        ),
      warnings: [],
    };
  }
}

/**
 * Wraps a provider and records each exchange, so a real session can be saved
 * as a transcript and replayed later by `ScriptedProvider.fromTranscript`.
 */
export class TranscriptRecorder implements LlmProvider {
  /** The wrapped provider's name. */
  readonly name: string;
  readonly #inner: LlmProvider;
  readonly #exchanges: TranscriptExchange[] = [];

  /** Wraps `inner`. */
  constructor(inner: LlmProvider) {
    this.#inner = inner;
    this.name = inner.name;
  }

  /** Forwards to the wrapped provider and records the exchange when it succeeds. */
  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    const response = await this.#inner.complete(request, signal);
    this.#record(request, response);
    return response;
  }

  /** Forwards the stream and records the exchange when it finishes. */
  async *stream(request: LlmRequest, signal?: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    for await (const event of this.#inner.stream(request, signal)) {
      if (event.type === "finish") this.#record(request, event.response);
      yield event;
    }
  }

  /** The transcript recorded so far. */
  transcript(): Transcript {
    return structuredClone({ version: 1, exchanges: this.#exchanges });
  }

  #record(request: LlmRequest, response: LlmResponse): void {
    this.#exchanges.push(structuredClone({
      request: {
        model: request.model,
        messages: request.messages,
        toolNames: (request.tools ?? []).map((tool) => tool.name),
      },
      response,
    }));
  }
}
