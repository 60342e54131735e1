/**
 * The three provider-aligned profiles of the spec (§3.4–3.6). Each carries
 * the tool set its model family is trained on: OpenAI edits with
 * apply_patch, Anthropic with edit_file (old_string/new_string), Gemini with
 * edit_file plus list_dir and read_many_files. The base instructions are our
 * own words covering the topics the spec lists for each.
 *
 * @module
 */
import type { JsonObject } from "../llm/types.ts";
import { coreTools } from "../tools/core.ts";
import type { RegisteredTool } from "../tools/types.ts";
import { listDirTool, readManyFilesTool } from "./gemini_tools.ts";
import { createProfile } from "./profile.ts";
import type { ProviderProfile } from "./types.ts";

/** Options shared by the profile factories. */
export interface ProfileOptions {
  /** Model id; each factory has a default. */
  readonly model?: string;
  /** Extra tools registered after the profile's own (same name: yours wins). */
  readonly extraTools?: readonly RegisteredTool[];
  /** Provider options for each request. */
  readonly providerOptions?: Record<string, JsonObject>;
  /** Context window override. */
  readonly contextWindowSize?: number;
}

const SHARED_PRACTICES = `
Working practices:
- Read the relevant code before changing it; keep changes minimal and focused on the task.
- Follow the conventions of the surrounding code (naming, formatting, error handling).
- After a change, run the project's tests or checks with the shell tool when they exist.
- When a tool fails, read its error, adjust, and try another way rather than repeating the same call.
- Never invent file contents or command results; use the tools to find out.
- When you are done, reply with a short summary of what changed and anything left open.`;

const SUBAGENT_GUIDE = `
Subagents: spawn_agent starts a helper on a scoped task with its own history and your filesystem;
wait returns its result, send_input gives it more instructions, close_agent stops it.`;

/** The OpenAI profile (codex-aligned): apply_patch for edits. */
export function openaiProfile(options: ProfileOptions = {}): ProviderProfile {
  return createProfile({
    id: "openai",
    model: options.model ?? "gpt-5.2-codex",
    tools: [...coreTools({ editFile: false, applyPatch: true }), ...(options.extraTools ?? [])],
    contextWindowSize: options.contextWindowSize ?? 400_000,
    providerOptions: options.providerOptions,
    baseInstructions: `You are a coding agent working in the user's workspace through tools.
You and the user share the same workspace; act on it directly instead of describing what to do.

Editing files: use apply_patch. A patch starts with "*** Begin Patch" and ends with "*** End Patch";
each file section is "*** Add File: <path>", "*** Delete File: <path>" or "*** Update File: <path>"
(optionally followed by "*** Move to: <path>"). In an update, "@@" lines anchor a hunk, context lines
start with a space, removed lines with "-", added lines with "+". Give enough context to be unique.
Use write_file only to create a new file in one go.
Use read_file, grep and glob to explore, and shell for commands (builds, tests, git).
${SHARED_PRACTICES}
${SUBAGENT_GUIDE}`,
  });
}

/** The Anthropic profile (Claude Code-aligned): edit_file with old_string/new_string. */
export function anthropicProfile(options: ProfileOptions = {}): ProviderProfile {
  const defaultCommandTimeoutMs = 120_000;
  return createProfile({
    id: "anthropic",
    model: options.model ?? "claude-sonnet-4-5",
    // The 120 s default lives on the profile, not in the shell tool: the session gives the shell
    // `SessionConfig.defaultCommandTimeoutMs ?? profile.defaultCommandTimeoutMs`, so a host's
    // configured default still wins (a tool-level default would override the session's).
    tools: [...coreTools({ editFile: true }), ...(options.extraTools ?? [])],
    defaultCommandTimeoutMs,
    contextWindowSize: options.contextWindowSize ?? 200_000,
    providerOptions: options.providerOptions,
    baseInstructions:
      `You are an interactive coding agent that helps with software engineering tasks
using the tools available to you.

Tool selection:
- Read a file with read_file before editing it.
- Prefer editing existing files over creating new ones: use edit_file with old_string and new_string.
  old_string must match the file exactly (including indentation) and must be unique in the file;
  include more surrounding lines when it is not, or set replace_all to change every occurrence.
- Use write_file for new files or complete rewrites.
- Use grep to search contents and glob to find files by name; use shell for builds, tests and git.
  Shell commands time out after 120 seconds unless you set timeout_ms.
${SHARED_PRACTICES}
${SUBAGENT_GUIDE}`,
  });
}

/** The Gemini profile (gemini-cli-aligned): edit_file, list_dir and read_many_files. */
export function geminiProfile(options: ProfileOptions = {}): ProviderProfile {
  const core = coreTools({ editFile: true });
  const [read, ...rest] = core;
  return createProfile({
    id: "gemini",
    model: options.model ?? "gemini-3-pro-preview",
    tools: [read, readManyFilesTool(), ...rest, listDirTool(), ...(options.extraTools ?? [])],
    contextWindowSize: options.contextWindowSize ?? 1_000_000,
    providerOptions: options.providerOptions,
    baseInstructions:
      `You are a coding agent specialising in software engineering tasks, working in the
user's project through tools.

Conventions: follow the instructions in GEMINI.md and AGENTS.md files; they describe the project's
rules. Explore before acting: list_dir, glob and grep to find your way, read_file or read_many_files
to read. Change files with edit_file (exact old_string → new_string, unique in the file) or
write_file for new files. Run commands with shell; explain briefly what a command that modifies the
system does before you run it.
${SHARED_PRACTICES}
${SUBAGENT_GUIDE}`,
  });
}
