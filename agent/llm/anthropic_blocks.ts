/**
 * Anthropic content blocks beyond text, tool use and thinking: server-side
 * tools (web search, web fetch, code execution, tool search), MCP tool calls
 * and results, and any block type not known yet (compaction, …). Shared by
 * the non-streamed reader and the stream translator so `complete()` and
 * `stream()` give the same parts.
 *
 * @module
 */

import type { ContentPart, JsonObject, JsonValue } from "./types.ts";
import { type Loose, str } from "./wire_util.ts";

const PROVIDER = "anthropic";

/** Block types that are a call of a tool Anthropic runs (or an MCP server runs for it). */
const SERVER_CALL_TYPES = new Set(["server_tool_use", "mcp_tool_use"]);

/** Whether a block is a server-side tool call, a server-side tool result, or neither. */
export function serverBlockKind(block: Loose): "call" | "result" | undefined {
  const type = str(block.type) ?? "";
  if (SERVER_CALL_TYPES.has(type)) return "call";
  // web_search_tool_result, web_fetch_tool_result, code_execution_tool_result,
  // bash_code_execution_tool_result, mcp_tool_result, tool_search_tool_result…
  // (the client tool's own `tool_result` only ever travels in user messages).
  if (type !== "tool_result" && type.endsWith("_tool_result")) return "result";
  return undefined;
}

/** The server tool's name; MCP calls are named after their server too. */
function serverToolName(block: Loose): string {
  const name = str(block.name) ?? "";
  const server = str(block.server_name);
  return server === undefined ? name : `mcp:${server}/${name}`;
}

/** A result is an error when flagged or when its content is an `*_error` object. */
function isErrorResult(block: Loose): boolean {
  if (block.is_error === true) return true;
  const content = block.content;
  if (content !== null && typeof content === "object" && !Array.isArray(content)) {
    const type = str((content as Loose).type) ?? "";
    return type.endsWith("_error");
  }
  return false;
}

/**
 * The part for a block that is not text, tool use or thinking: a typed
 * server tool call or result, else a provider part kept verbatim.
 */
export function otherBlockToPart(block: Loose): ContentPart {
  const raw = block as JsonObject;
  const kind = serverBlockKind(block);
  if (kind === "call") {
    return {
      kind: "server_tool_call",
      serverToolCall: {
        callId: str(block.id) ?? "",
        name: serverToolName(block),
        input: (block.input ?? {}) as JsonValue,
        provider: PROVIDER,
        raw,
      },
    };
  }
  if (kind === "result") {
    return {
      kind: "server_tool_result",
      serverToolResult: {
        callId: str(block.tool_use_id) ?? "",
        name: str(block.type) ?? "",
        content: (block.content ?? null) as JsonValue,
        isError: isErrorResult(block),
        provider: PROVIDER,
        raw,
      },
    };
  }
  return { kind: "provider", provider: PROVIDER, type: str(block.type) ?? "unknown", raw };
}

/**
 * A block being streamed that the translator does not model field by field.
 * Deltas are folded in generically: `partial_json` fragments build `input`
 * (as for tool use); any other string field of a delta is appended to the
 * block's field of the same name (a `compaction_delta` carrying `content`
 * grows the block's `content`); other fields replace the block's.
 */
export class OpenOtherBlock {
  readonly #block: Loose;
  #json = "";
  #sawJson = false;

  /** Starts from the `content_block_start` block. */
  constructor(block: Loose) {
    this.#block = { ...block };
  }

  /** Folds one delta in. */
  add(delta: Loose): void {
    for (const [key, value] of Object.entries(delta)) {
      if (key === "type") continue;
      if (key === "partial_json" && typeof value === "string") {
        this.#json += value;
        this.#sawJson = true;
      } else if (typeof value === "string" && typeof this.#block[key] === "string") {
        this.#block[key] = (this.#block[key] as string) + value;
      } else {
        this.#block[key] = value;
      }
    }
  }

  /** The finished block as a part. Unreadable streamed input is kept as text in `input`. */
  part(): ContentPart {
    if (this.#sawJson) {
      try {
        this.#block.input = this.#json.trim() === "" ? {} : JSON.parse(this.#json);
      } catch {
        this.#block.input = this.#json;
      }
    }
    return otherBlockToPart(this.#block);
  }
}

/**
 * The wire block for a part Anthropic produced that is not text, a tool
 * call or thinking: sent back verbatim (server tool blocks and blocks such as
 * compaction must be returned for the conversation to go on). Another
 * provider's server tools and parts are dropped.
 */
export function otherPartToBlock(part: ContentPart): JsonValue | undefined {
  if (part.kind === "server_tool_call" && part.serverToolCall.provider === PROVIDER) {
    return part.serverToolCall.raw;
  }
  if (part.kind === "server_tool_result" && part.serverToolResult.provider === PROVIDER) {
    return part.serverToolResult.raw;
  }
  if (part.kind === "provider" && part.provider === PROVIDER) return part.raw;
  return undefined;
}
