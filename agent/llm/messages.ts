/**
 * Small constructors and accessors over the unified data model, so callers
 * build messages and read responses without spelling out content parts.
 *
 * @module
 */

import type {
  ContentPart,
  JsonObject,
  LlmMessage,
  LlmResponse,
  ServerToolCall,
  ServerToolResult,
  Thinking,
  ToolCall,
  ToolResult,
  Usage,
} from "./types.ts";

/** A system message with one text part. */
export function systemMessage(text: string): LlmMessage {
  return { role: "system", content: [{ kind: "text", text }] };
}

/** A developer message with one text part. */
export function developerMessage(text: string): LlmMessage {
  return { role: "developer", content: [{ kind: "text", text }] };
}

/** A user message with one text part. */
export function userMessage(text: string): LlmMessage {
  return { role: "user", content: [{ kind: "text", text }] };
}

/** An image given as its bytes (base64, no `data:` prefix) and MIME type. */
export function imageFromBase64(data: string, mediaType: string): ContentPart {
  return { kind: "image", image: { data, mediaType } };
}

/** An image given as a URL the provider fetches (or a provider file URI). */
export function imageFromUrl(url: string, detail?: "auto" | "low" | "high"): ContentPart {
  return { kind: "image", image: detail === undefined ? { url } : { url, detail } };
}

/** A user message with text and images (or other parts), in order. */
export function userContent(parts: readonly (string | ContentPart)[]): LlmMessage {
  return {
    role: "user",
    content: parts.map((part) => typeof part === "string" ? { kind: "text", text: part } : part),
  };
}

/** An assistant message: plain text, or explicit parts (text, tool calls, thinking). */
export function assistantMessage(content: string | readonly ContentPart[]): LlmMessage {
  return {
    role: "assistant",
    content: typeof content === "string" ? [{ kind: "text", text: content }] : [...content],
  };
}

/** A tool message carrying one or more tool results. */
export function toolResultsMessage(results: readonly ToolResult[]): LlmMessage {
  return {
    role: "tool",
    content: results.map((toolResult) => ({ kind: "tool_result", toolResult })),
  };
}

/** A tool message carrying one tool result. */
export function toolResultMessage(
  callId: string,
  content: string,
  options: { isError?: boolean; toolName?: string } = {},
): LlmMessage {
  const result: ToolResult = options.toolName === undefined
    ? { callId, content, isError: options.isError ?? false }
    : { callId, content, isError: options.isError ?? false, toolName: options.toolName };
  return toolResultsMessage([result]);
}

/** The concatenated text parts of a message ("" when it has none). */
export function messageText(message: LlmMessage): string {
  let text = "";
  for (const part of message.content) if (part.kind === "text") text += part.text;
  return text;
}

/** The concatenated text of a response's message. */
export function responseText(response: LlmResponse): string {
  return messageText(response.message);
}

/** The tool calls of a response, in order. */
export function responseToolCalls(response: LlmResponse): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const part of response.message.content) {
    if (part.kind === "tool_call") calls.push(part.toolCall);
  }
  return calls;
}

/** The tools the provider ran itself during a response (web search, code execution, MCP…), in order. */
export function responseServerToolCalls(response: LlmResponse): ServerToolCall[] {
  const calls: ServerToolCall[] = [];
  for (const part of response.message.content) {
    if (part.kind === "server_tool_call") calls.push(part.serverToolCall);
  }
  return calls;
}

/** The results of tools the provider ran itself, when it sends them apart (Anthropic), in order. */
export function responseServerToolResults(response: LlmResponse): ServerToolResult[] {
  const results: ServerToolResult[] = [];
  for (const part of response.message.content) {
    if (part.kind === "server_tool_result") results.push(part.serverToolResult);
  }
  return results;
}

/** The concatenated readable reasoning of a response, or undefined when there is none. */
export function responseReasoning(response: LlmResponse): string | undefined {
  const texts: string[] = [];
  for (const part of response.message.content) {
    if (part.kind === "thinking" && !part.thinking.redacted) texts.push(part.thinking.text);
  }
  return texts.length === 0 ? undefined : texts.join("");
}

/** Reads tool-call argument text as a JSON object; never throws. */
export function parseToolArguments(
  rawArguments: string,
): { arguments: JsonObject; argumentsError?: string } {
  // An empty argument string is how several providers say "no arguments".
  if (rawArguments.trim() === "") return { arguments: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawArguments);
  } catch (error) {
    return {
      arguments: {},
      argumentsError: `tool arguments are not valid JSON: ${(error as Error).message}`,
    };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { arguments: {}, argumentsError: "tool arguments are not a JSON object" };
  }
  return { arguments: parsed as JsonObject };
}

/** Builds a ToolCall from the argument text the model produced. */
export function toolCallFromRaw(id: string, name: string, rawArguments: string): ToolCall {
  const parsed = parseToolArguments(rawArguments);
  return parsed.argumentsError === undefined
    ? { callId: id, name, arguments: parsed.arguments, rawArguments }
    : {
      callId: id,
      name,
      arguments: parsed.arguments,
      rawArguments,
      argumentsError: parsed.argumentsError,
    };
}

/**
 * Builds a ToolCall from arguments a provider sent as JSON (Anthropic `input`,
 * Gemini `args`): missing is `{}`; anything but an object (a string, a list)
 * keeps its JSON as `rawArguments` and gets an `argumentsError`, rather than
 * passing for a call with no arguments.
 */
export function toolCallFromValue(id: string, name: string, value: unknown): ToolCall {
  if (value === undefined || value === null) return toolCallFromObject(id, name, {});
  if (typeof value === "object" && !Array.isArray(value)) {
    return toolCallFromObject(id, name, value as JsonObject);
  }
  return toolCallFromRaw(id, name, JSON.stringify(value));
}

/** Builds a ToolCall from already-parsed arguments (rawArguments is their JSON). */
export function toolCallFromObject(id: string, name: string, args: JsonObject): ToolCall {
  return { callId: id, name, arguments: args, rawArguments: JSON.stringify(args) };
}

/** A thinking part. */
export function thinkingPart(thinking: Thinking): ContentPart {
  return { kind: "thinking", thinking };
}

/** Usage with every count zero. */
export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

/** Builds a Usage from input/output counts and optional extras, computing the total. */
export function makeUsage(
  inputTokens: number,
  outputTokens: number,
  extras: { reasoningTokens?: number; cacheReadTokens?: number; cacheWriteTokens?: number } = {},
): Usage {
  const usage: {
    inputTokens: number;
    outputTokens: number;
    totalTokens: number;
    reasoningTokens?: number;
    cacheReadTokens?: number;
    cacheWriteTokens?: number;
  } = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (extras.reasoningTokens !== undefined) usage.reasoningTokens = extras.reasoningTokens;
  if (extras.cacheReadTokens !== undefined) usage.cacheReadTokens = extras.cacheReadTokens;
  if (extras.cacheWriteTokens !== undefined) usage.cacheWriteTokens = extras.cacheWriteTokens;
  return usage;
}

/**
 * Sums two usages. Optional counts stay undefined only when both sides lack
 * them, so "not reported" is never confused with "zero".
 */
export function addUsage(a: Usage, b: Usage): Usage {
  const sumOptional = (x?: number, y?: number) =>
    x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0);
  return makeUsage(a.inputTokens + b.inputTokens, a.outputTokens + b.outputTokens, {
    reasoningTokens: sumOptional(a.reasoningTokens, b.reasoningTokens),
    cacheReadTokens: sumOptional(a.cacheReadTokens, b.cacheReadTokens),
    cacheWriteTokens: sumOptional(a.cacheWriteTokens, b.cacheWriteTokens),
  });
}
