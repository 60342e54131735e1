/**
 * The parts of a model response that the assistant turn record does not
 * hold in typed fields (server-side tool calls and results, provider parts),
 * as record entries, so nothing a provider sent is lost from the trace.
 *
 * @module
 */
import type { LlmMessage } from "../llm/types.ts";
import type { ResponsePartEntryValue } from "../records.ts";

/** The parts of a response the typed fields do not hold, as record entries (undefined: none). */
export function responsePartEntries(message: LlmMessage): ResponsePartEntryValue[] | undefined {
  const entries: ResponsePartEntryValue[] = [];
  for (const part of message.content) {
    if (part.kind === "server_tool_call") {
      const call = part.serverToolCall;
      entries.push({
        kind: part.kind,
        provider: call.provider,
        name: call.name,
        callId: call.callId,
        raw: JSON.stringify(call.raw),
      });
    } else if (part.kind === "server_tool_result") {
      const result = part.serverToolResult;
      entries.push({
        kind: part.kind,
        provider: result.provider,
        name: result.name,
        callId: result.callId,
        raw: JSON.stringify(result.raw),
      });
    } else if (part.kind === "provider") {
      entries.push({
        kind: part.kind,
        provider: part.provider,
        name: part.type,
        raw: JSON.stringify(part.raw),
      });
    }
  }
  return entries.length === 0 ? undefined : entries;
}
