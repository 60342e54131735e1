/**
 * The limits the session loop checks between steps: the tool rounds of one
 * input, the model calls of the session, how full the context window is, and
 * when repeated tool calls earn a loop warning.
 *
 * @module
 */
import type { StopReason } from "./events.ts";
import { detectLoop } from "./loop_detection.ts";

/** A limit the loop reached: what to emit, what to record, why it stopped. */
export interface LimitReached {
  readonly limit: "max_tool_rounds_per_input" | "max_model_calls";
  readonly value: number;
  /** The system entry added to the history. */
  readonly message: string;
  readonly stopReason: Extract<StopReason, "round_limit" | "model_call_limit">;
}

/** The limit reached before the next model call, if any; a limit of 0 is no limit. */
export function limitReached(
  rounds: number,
  maxRounds: number,
  modelCallCount: number,
  maxModelCalls: number,
): LimitReached | undefined {
  if (maxRounds > 0 && rounds >= maxRounds) {
    return {
      limit: "max_tool_rounds_per_input",
      value: maxRounds,
      message: `Tool round limit reached (${maxRounds} rounds for this input); stopped.`,
      stopReason: "round_limit",
    };
  }
  if (maxModelCalls > 0 && modelCallCount >= maxModelCalls) {
    return {
      limit: "max_model_calls",
      value: maxModelCalls,
      message: `Session model-call limit reached (${maxModelCalls} model calls); stopped.`,
      stopReason: "model_call_limit",
    };
  }
  return undefined;
}

/**
 * The warning to give when the history fills more than 80% of the context
 * window (at ~4 characters a token), else undefined.
 */
export function contextUsageWarning(
  historyChars: number,
  contextWindowSize: number,
): string | undefined {
  const window = contextWindowSize;
  if (!(window > 0)) return undefined;
  const approxTokens = historyChars / 4;
  if (approxTokens <= window * 0.8) return undefined;
  return `Context usage at ~${Math.round((approxTokens / window) * 100)}% of context window`;
}

/**
 * The loop-detection warning due after the latest tool calls, else
 * undefined: only after a whole new window of calls since the last warning
 * (at `lastWarnedAt` calls), and only when that window repeats a pattern.
 */
export function loopWarning(
  signatures: readonly string[],
  window: number,
  lastWarnedAt: number,
): string | undefined {
  if (signatures.length - lastWarnedAt < window) return undefined;
  if (!detectLoop(signatures, window)) return undefined;
  return `Loop detected: the last ${window} tool calls follow a repeating pattern. ` +
    "Try a different approach.";
}
