/**
 * Tool output truncation (coding-agent-loop spec §5): characters first, so
 * a single 10 MB line cannot slip through, then lines for readability; both
 * keep the head and/or tail and say plainly how much was removed.
 *
 * @module
 */

import type { ToolOutputLimit, ToolRegistryOptions, TruncationMode } from "./types.ts";

/** The spec's default limits per tool (§5.2, §5.3). */
export const DEFAULT_OUTPUT_LIMITS: Readonly<Record<string, ToolOutputLimit>> = {
  read_file: { maxChars: 50_000, mode: "head_tail" },
  shell: { maxChars: 30_000, mode: "head_tail", maxLines: 256 },
  grep: { maxChars: 20_000, mode: "tail", maxLines: 200 },
  glob: { maxChars: 20_000, mode: "tail", maxLines: 500 },
  edit_file: { maxChars: 10_000, mode: "tail" },
  apply_patch: { maxChars: 10_000, mode: "tail" },
  write_file: { maxChars: 1_000, mode: "tail" },
  spawn_agent: { maxChars: 20_000, mode: "head_tail" },
};

/** Limit of a tool missing from the table (custom tools). */
export const FALLBACK_OUTPUT_LIMIT: ToolOutputLimit = { maxChars: 30_000, mode: "head_tail" };

/** The limit that applies to `tool` once `options` overrides are applied. */
export function outputLimitFor(tool: string, options: ToolRegistryOptions = {}): ToolOutputLimit {
  const base = DEFAULT_OUTPUT_LIMITS[tool] ?? FALLBACK_OUTPUT_LIMIT;
  const lines = options.lineLimits && tool in options.lineLimits
    ? options.lineLimits[tool] ?? undefined
    : base.maxLines;
  return {
    maxChars: options.outputLimits?.[tool] ?? base.maxChars,
    mode: options.truncationModes?.[tool] ?? base.mode,
    maxLines: lines,
  };
}

/** Cuts `output` to `maxChars` characters (spec §5.1), with a marker saying how many went. */
export function truncateChars(output: string, maxChars: number, mode: TruncationMode): string {
  if (output.length <= maxChars) return output;
  const removed = output.length - maxChars;
  if (mode === "tail") {
    return `[WARNING: Tool output was truncated. First ${removed} characters were removed. ` +
      `The full output is available in the event stream.]\n\n` +
      output.slice(output.length - maxChars);
  }
  const head = Math.floor(maxChars / 2);
  const tail = maxChars - head;
  return output.slice(0, head) +
    `\n\n[WARNING: Tool output was truncated. ${removed} characters were removed from the middle. ` +
    `The full output is available in the event stream. ` +
    `If you need to see specific parts, re-run the tool with more targeted parameters.]\n\n` +
    output.slice(output.length - tail);
}

/** Keeps the first and last lines of `output` up to `maxLines` (spec §5.3). */
export function truncateLines(output: string, maxLines: number): string {
  const lines = output.split("\n");
  if (lines.length <= maxLines) return output;
  const head = Math.floor(maxLines / 2);
  const tail = maxLines - head;
  const omitted = lines.length - head - tail;
  return lines.slice(0, head).join("\n") +
    `\n[... ${omitted} lines omitted ...]\n` +
    lines.slice(lines.length - tail).join("\n");
}

/** The full pipeline: characters first, then lines. */
export function truncateToolOutput(output: string, limit: ToolOutputLimit): string {
  const byChars = truncateChars(output, limit.maxChars, limit.mode);
  return limit.maxLines === undefined ? byChars : truncateLines(byChars, limit.maxLines);
}
