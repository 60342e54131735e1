/**
 * Minimal, well-formed wire streams of each adapter's provider, built from
 * parts so a robustness test can send a valid answer, cut it, or break one
 * piece of it. Shapes follow the published formats (as the recordings in
 * this folder do).
 *
 * @module
 */

import type { ProviderKind } from "../providers.ts";
import type { LlmErrorCode } from "../errors.ts";
import { sse } from "./hostile_server.ts";

/** A tool call as the model sends it: `args` is the wire argument text (Gemini: its JSON value). */
export interface WireCall {
  readonly id: string;
  readonly name: string;
  readonly args: string;
}

/** What a test needs of one provider's wire format. */
export interface Dialect {
  /** The SSE events of a whole text answer, one string per event. */
  textEvents(text: string): string[];
  /** The SSE events of a whole answer with these tool calls. */
  toolCallEvents(calls: readonly WireCall[]): string[];
  /** A stream that starts, then reports an overload or server error inside the stream. */
  errorMidStream: {
    readonly events: string[];
    readonly code: LlmErrorCode;
    readonly message: string;
  };
  /** A 200 JSON body of the wrong shape, and the field the error must name. */
  readonly wrongShape: { readonly body: string; readonly field: string };
}

const ANTHROPIC_START = sse({
  type: "message_start",
  message: { id: "msg_1", model: "m", usage: { input_tokens: 3 } },
}, "message_start");

const anthropic: Dialect = {
  textEvents: (text) => [
    ANTHROPIC_START,
    sse({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }, "content_block_start"),
    sse({
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text },
    }, "content_block_delta"),
    sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
    sse({
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: 2 },
    }, "message_delta"),
    sse({ type: "message_stop" }, "message_stop"),
  ],
  toolCallEvents: (calls) => [
    ANTHROPIC_START,
    ...calls.flatMap((call, index) => [
      sse({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      }, "content_block_start"),
      sse({
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: call.args },
      }, "content_block_delta"),
      sse({ type: "content_block_stop", index }, "content_block_stop"),
    ]),
    sse({
      type: "message_delta",
      delta: { stop_reason: "tool_use" },
      usage: { output_tokens: 2 },
    }, "message_delta"),
    sse({ type: "message_stop" }, "message_stop"),
  ],
  errorMidStream: {
    events: [
      ANTHROPIC_START,
      sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"),
    ],
    code: "overloaded",
    message: "Overloaded",
  },
  wrongShape: { body: '{"type":"message","id":"m","content":"not a list"}', field: "content" },
};

const OPENAI_CREATED = sse({
  type: "response.created",
  response: { id: "resp_1", model: "m", output: [] },
});
const OPENAI_COMPLETED = sse({
  type: "response.completed",
  response: {
    id: "resp_1",
    model: "m",
    status: "completed",
    output: [],
    usage: { input_tokens: 3, output_tokens: 2 },
  },
});

const openai: Dialect = {
  textEvents: (text) => [
    OPENAI_CREATED,
    sse({
      type: "response.output_item.added",
      output_index: 0,
      item: { type: "message", id: "msg_1", role: "assistant", content: [] },
    }),
    sse({ type: "response.output_text.delta", output_index: 0, content_index: 0, delta: text }),
    sse({
      type: "response.output_item.done",
      output_index: 0,
      item: {
        type: "message",
        id: "msg_1",
        role: "assistant",
        content: [{ type: "output_text", text }],
      },
    }),
    OPENAI_COMPLETED,
  ],
  toolCallEvents: (calls) => [
    OPENAI_CREATED,
    ...calls.flatMap((call, index) => [
      sse({
        type: "response.output_item.added",
        output_index: index,
        item: {
          type: "function_call",
          id: `fc_${index}`,
          call_id: call.id,
          name: call.name,
          arguments: "",
        },
      }),
      sse({
        type: "response.function_call_arguments.delta",
        output_index: index,
        item_id: `fc_${index}`,
        delta: call.args,
      }),
      sse({
        type: "response.output_item.done",
        output_index: index,
        item: {
          type: "function_call",
          id: `fc_${index}`,
          call_id: call.id,
          name: call.name,
          arguments: call.args,
        },
      }),
    ]),
    OPENAI_COMPLETED,
  ],
  errorMidStream: {
    events: [
      OPENAI_CREATED,
      sse({ type: "error", code: "server_error", message: "The server had an error" }),
    ],
    code: "server",
    message: "The server had an error",
  },
  wrongShape: { body: '{"id":"resp_1","output":"not a list"}', field: "output" },
};

const gemini: Dialect = {
  textEvents: (text) => [
    sse({ candidates: [{ content: { role: "model", parts: [{ text }] } }], responseId: "g1" }),
    sse({
      candidates: [{ content: { role: "model", parts: [] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2 },
    }),
  ],
  toolCallEvents: (calls) => [
    sse({
      candidates: [{
        content: {
          role: "model",
          parts: calls.map((call) => ({
            functionCall: { id: call.id, name: call.name, args: JSON.parse(call.args) },
          })),
        },
        finishReason: "STOP",
      }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2 },
    }),
  ],
  errorMidStream: {
    events: [
      sse({ candidates: [{ content: { role: "model", parts: [{ text: "Hi" }] } }] }),
      sse({ error: { code: 503, status: "UNAVAILABLE", message: "The model is overloaded." } }),
    ],
    code: "overloaded",
    message: "The model is overloaded.",
  },
  wrongShape: { body: '{"candidates":"not a list"}', field: "candidates" },
};

const chat: Dialect = {
  textEvents: (text) => [
    sse({
      id: "c1",
      model: "m",
      choices: [{ index: 0, delta: { role: "assistant", content: text } }],
    }),
    sse({ id: "c1", model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
    sse("[DONE]"),
  ],
  toolCallEvents: (calls) => [
    ...calls.map((call, index) =>
      sse({
        id: "c1",
        model: "m",
        choices: [{
          index: 0,
          delta: {
            tool_calls: [{
              index,
              id: call.id,
              type: "function",
              function: { name: call.name, arguments: call.args },
            }],
          },
        }],
      })
    ),
    sse({ id: "c1", model: "m", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
    sse("[DONE]"),
  ],
  errorMidStream: {
    events: [
      sse({ id: "c1", model: "m", choices: [{ index: 0, delta: { content: "Hi" } }] }),
      sse({ error: { message: "upstream model crashed", type: "server_error" } }),
    ],
    code: "server",
    message: "upstream model crashed",
  },
  wrongShape: { body: '{"id":"c1","choices":"not a list"}', field: "choices" },
};

/** Each adapter's dialect. */
export const DIALECTS: Readonly<Record<ProviderKind, Dialect>> = {
  anthropic,
  openai,
  gemini,
  "openai-compatible": chat,
};
