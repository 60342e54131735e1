/**
 * The coding agent's tools (coding-agent-loop spec §3, §5): the shared core
 * tools, apply_patch, the registry that validates, runs and truncates, and
 * `defineTool` for adding tools from a zod schema.
 *
 * @module
 */

export * from "./types.ts";
export {
  type ArgumentIssue,
  type ArgumentParseResult,
  type ArgumentSchema,
  defineTool,
  describeIssues,
  fail,
  ok,
  type ToolSpec,
  toParameters,
} from "./define.ts";
export {
  DefaultToolRegistry,
  describeToolError,
  parseArguments,
  ToolTimeoutError,
} from "./registry.ts";
export {
  DEFAULT_OUTPUT_LIMITS,
  FALLBACK_OUTPUT_LIMIT,
  outputLimitFor,
  truncateChars,
  truncateLines,
  truncateToolOutput,
} from "./truncate.ts";
export { type CoreToolOptions, coreTools, createCoreToolRegistry } from "./core.ts";
export { DEFAULT_READ_LIMIT, numberLines, readFileTool } from "./read_file.ts";
export { writeFileTool } from "./write_file.ts";
export { countOccurrences, editFileTool } from "./edit_file.ts";
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  formatExecResult,
  MAX_COMMAND_TIMEOUT_MS,
  shellTool,
  type ShellToolOptions,
} from "./shell.ts";
export { grepTool } from "./grep.ts";
export { globTool } from "./glob.ts";
export { webFetchTool } from "./web_fetch.ts";
export { applyPatchTool, type PlannedChange, planPatch } from "./apply_patch.ts";
export { applyHunks, type Hunk, parsePatch, PatchError, type PatchOperation } from "./v4a.ts";
export { findLineSequence, MATCH_LEVELS, type MatchLevel, normaliseLine } from "./matching.ts";
