/**
 * Tool execution for the session loop: runs one round of the model's tool
 * calls (in parallel when the profile allows it), streams their output as
 * events and records each call's start and end.
 *
 * @module
 */
import type { ToolCall, ToolResult } from "../llm/types.ts";
import type { ToolRegistry } from "../tools/types.ts";
import type { ExecutionEnvironment } from "../env/types.ts";
import { ToolCallLifecycle } from "../records.ts";
import type { SessionEventData } from "./events.ts";
import { toolCallSignature } from "./loop_detection.ts";
import type { RecordWrite } from "./history.ts";

const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_COMMAND_TIMEOUT_MS = 600_000;

/** What a round of tool calls needs from its session. */
export interface ToolRound {
  readonly registry: ToolRegistry;
  readonly env: ExecutionEnvironment;
  /** Run the calls of one response together when there are several. */
  readonly parallel: boolean;
  /** The session's setting, else the profile's; undefined for the default. */
  readonly defaultCommandTimeoutMs: number | undefined;
  readonly maxCommandTimeoutMs: number | undefined;
  /** The session's tool call signatures, for loop detection; appended to. */
  readonly signatures: string[];
  readonly emit: (data: SessionEventData) => void;
  readonly write: RecordWrite;
}

/** Runs the tool calls of one model response; results in call order. */
export async function executeToolCalls(
  round: ToolRound,
  calls: readonly ToolCall[],
  signal: AbortSignal,
): Promise<ToolResult[]> {
  for (const call of calls) round.signatures.push(toolCallSignature(call.name, call.arguments));
  if (round.parallel && calls.length > 1) {
    return await Promise.all(calls.map((call) => executeTool(round, call, signal)));
  }
  const results: ToolResult[] = [];
  for (const call of calls) results.push(await executeTool(round, call, signal));
  return results;
}

async function executeTool(
  round: ToolRound,
  call: ToolCall,
  signal: AbortSignal,
): Promise<ToolResult> {
  const argumentsText = call.rawArguments || JSON.stringify(call.arguments);
  round.emit({
    kind: "tool_call_start",
    callId: call.callId,
    toolName: call.name,
    arguments: argumentsText,
  });
  await round.write(ToolCallLifecycle, "tool_call_started", {
    kind: "started",
    at: Date.now(),
    callId: call.callId,
    toolName: call.name,
    arguments: argumentsText,
  });
  const result = await round.registry.execute(
    {
      name: call.name,
      // Arguments that did not parse go to the registry as text, so it names the problem.
      arguments: call.argumentsError ? call.rawArguments : call.arguments,
      callId: call.callId,
    },
    {
      env: round.env,
      signal,
      settings: {
        defaultCommandTimeoutMs: round.defaultCommandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
        maxCommandTimeoutMs: round.maxCommandTimeoutMs ?? DEFAULT_MAX_COMMAND_TIMEOUT_MS,
      },
      onOutput: (chunk) =>
        round.emit({
          kind: "tool_call_output_delta",
          callId: call.callId,
          toolName: call.name,
          stream: chunk.stream,
          delta: chunk.text,
        }),
    },
  );
  round.emit({
    kind: "tool_call_end",
    callId: call.callId,
    toolName: call.name,
    output: result.fullContent,
    isError: result.isError,
    truncated: result.truncated,
    durationMs: result.durationMs,
  });
  await round.write(ToolCallLifecycle, "tool_call_ended", {
    kind: "ended",
    at: Date.now(),
    callId: call.callId,
    toolName: call.name,
    output: result.fullContent,
    isError: result.isError,
    durationMs: Math.max(0, Math.round(result.durationMs)),
  });
  return {
    callId: call.callId,
    toolName: call.name,
    content: result.content,
    isError: result.isError,
  };
}
