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

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** `end` moved back by one when it would cut a surrogate pair in two. */
function headEnd(text: string, end: number): number {
  return end > 0 && isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
}

/** `start` moved on by one when it would begin with the second half of a surrogate pair. */
function tailStart(text: string, start: number): number {
  return start < text.length && isLowSurrogate(text.charCodeAt(start)) ? start + 1 : start;
}

/**
 * Cuts `output` to `maxChars` characters (spec §5.1), with a marker saying how
 * many went. A cut never splits a surrogate pair (an emoji, say): a lone half
 * is not valid Unicode and a provider may refuse the request that carries it,
 * so at most one more code unit goes, and the marker counts it.
 */
export function truncateChars(output: string, maxChars: number, mode: TruncationMode): string {
  if (output.length <= maxChars) return output;
  if (mode === "tail") {
    const start = tailStart(output, output.length - maxChars);
    return `[WARNING: Tool output was truncated. First ${start} characters were removed. ` +
      `The full output is available in the event stream.]\n\n` +
      output.slice(start);
  }
  const head = headEnd(output, Math.floor(maxChars / 2));
  const start = tailStart(output, output.length - (maxChars - Math.floor(maxChars / 2)));
  const removed = start - head;
  return output.slice(0, head) +
    `\n\n[WARNING: Tool output was truncated. ${removed} characters were removed from the middle. ` +
    `The full output is available in the event stream. ` +
    `If you need to see specific parts, re-run the tool with more targeted parameters.]\n\n` +
    output.slice(start);
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
