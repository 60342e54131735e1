/**
 * The session's history and how it maps to model messages and to stored
 * records: one history entry becomes one message (or two) for the model and
 * one record for the store.
 *
 * @module
 */
import type { WritableRecord } from "@forge/turnstore/writer";
import type { LlmMessage, LlmResponse, ToolCall, ToolResult, Usage } from "../llm/types.ts";
import { assistantMessage, toolResultsMessage, userMessage } from "../llm/messages.ts";
import {
  AssistantTurn,
  type SteeringSourceLabel,
  SteeringTurn,
  SystemTurn,
  ToolResultsTurn,
  UserTurn,
} from "../records.ts";
import type { AgentRecordType } from "./persistence.ts";
import { responsePartEntries } from "./response_parts.ts";

/** One entry of the in-memory history (the spec's `Turn`, §2.4: `UserTurn`, `AssistantTurn`…). */
export type HistoryEntry =
  | { readonly kind: "user"; readonly content: string; readonly at: number }
  | {
    readonly kind: "assistant";
    readonly text: string;
    readonly toolCalls: readonly ToolCall[];
    readonly reasoning?: string;
    readonly usage: Usage;
    readonly responseId: string;
    /** The provider's message, kept whole so thinking signatures round-trip. */
    readonly message: LlmMessage;
    readonly at: number;
  }
  | { readonly kind: "tool_results"; readonly results: readonly ToolResult[]; readonly at: number }
  | { readonly kind: "system"; readonly content: string; readonly at: number }
  | {
    readonly kind: "steering";
    readonly content: string;
    readonly source: SteeringSourceLabel;
    readonly at: number;
  };

/** Writes one record of the session (the session decides whether it waits for it). */
export type RecordWrite = <V>(
  type: AgentRecordType & WritableRecord<V>,
  event: string,
  value: V,
) => Promise<unknown>;

/** Writes the record of one history entry; `response` is the model response of an assistant entry. */
export function recordHistoryEntry(
  entry: HistoryEntry,
  response: LlmResponse | undefined,
  write: RecordWrite,
): Promise<unknown> {
  switch (entry.kind) {
    case "user":
      return write(UserTurn, "user_turn", { at: entry.at, content: entry.content });
    case "system":
      return write(SystemTurn, "system_turn", { at: entry.at, content: entry.content });
    case "steering":
      return write(SteeringTurn, "steering_turn", {
        at: entry.at,
        content: entry.content,
        source: entry.source,
      });
    case "tool_results":
      return write(ToolResultsTurn, "tool_results_turn", {
        at: entry.at,
        results: entry.results.map((res) => ({
          callId: res.callId,
          toolName: res.toolName ?? "",
          content: res.content,
          isError: res.isError,
        })),
      });
    case "assistant":
      return write(AssistantTurn, "assistant_turn", {
        at: entry.at,
        text: entry.text,
        toolCalls: entry.toolCalls.map((c) => ({
          callId: c.callId,
          name: c.name,
          arguments: c.rawArguments || JSON.stringify(c.arguments),
        })),
        reasoning: entry.reasoning,
        usage: usageRecord(entry.usage),
        responseId: entry.responseId || undefined,
        model: response?.model,
        finishReason: response?.finishReason.raw ?? response?.finishReason.reason,
        parts: responsePartEntries(entry.message),
      });
  }
}

/** The model messages of one history entry. */
export function toMessages(entry: HistoryEntry): LlmMessage[] {
  switch (entry.kind) {
    case "user":
      return [userMessage(entry.content)];
    case "steering":
      return [userMessage(entry.content)];
    case "system":
      // Providers accept one system prompt; a mid-conversation notice goes as user text.
      return [userMessage(`[system notice] ${entry.content}`)];
    case "assistant":
      return [entry.message.content.length ? entry.message : assistantMessage(entry.text)];
    case "tool_results":
      return [toolResultsMessage(entry.results)];
  }
}

/** The characters one history entry adds to the context (for the usage estimate). */
export function entryChars(entry: HistoryEntry): number {
  switch (entry.kind) {
    case "assistant":
      return entry.text.length + (entry.reasoning?.length ?? 0) +
        entry.toolCalls.reduce((n, c) => n + c.rawArguments.length, 0);
    case "tool_results":
      return entry.results.reduce((n, r) => n + r.content.length, 0);
    default:
      return entry.content.length;
  }
}

function usageRecord(u: Usage) {
  const int = (n: number | undefined) =>
    n === undefined || !Number.isFinite(n) ? undefined : Math.max(0, Math.round(n));
  return {
    inputTokens: int(u.inputTokens) ?? 0,
    outputTokens: int(u.outputTokens) ?? 0,
    totalTokens: int(u.totalTokens) ?? 0,
    reasoningTokens: int(u.reasoningTokens),
    cacheReadTokens: int(u.cacheReadTokens),
    cacheWriteTokens: int(u.cacheWriteTokens),
  };
}
