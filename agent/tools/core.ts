/**
 * The shared core tool set and a registry holding it.
 *
 * @module
 */

import type { RegisteredTool, ToolRegistryOptions } from "./types.ts";
import { DefaultToolRegistry } from "./registry.ts";
import { readFileTool } from "./read_file.ts";
import { writeFileTool } from "./write_file.ts";
import { editFileTool } from "./edit_file.ts";
import { applyPatchTool } from "./apply_patch.ts";
import { grepTool } from "./grep.ts";
import { globTool } from "./glob.ts";
import { shellTool, type ShellToolOptions } from "./shell.ts";

/** Which core tools to include. */
export interface CoreToolOptions {
  /** Include edit_file (Anthropic/Gemini style; default true). */
  readonly editFile?: boolean;
  /** Include apply_patch (OpenAI style; default false). */
  readonly applyPatch?: boolean;
  /** Options of the shell tool (profile default timeout). */
  readonly shell?: ShellToolOptions;
}

/** The shared core tools (spec §3.3): read_file, write_file, edit_file and/or apply_patch, shell, grep, glob. */
export function coreTools(options: CoreToolOptions = {}): RegisteredTool[] {
  const tools = [readFileTool(), writeFileTool()];
  if (options.editFile ?? true) tools.push(editFileTool());
  if (options.applyPatch ?? false) tools.push(applyPatchTool());
  tools.push(shellTool(options.shell), grepTool(), globTool());
  return tools;
}

/** A registry holding the core tools. */
export function createCoreToolRegistry(
  options: CoreToolOptions = {},
  registryOptions: ToolRegistryOptions = {},
): DefaultToolRegistry {
  return new DefaultToolRegistry(coreTools(options), registryOptions);
}
