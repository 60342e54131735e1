/**
 * The tool seam of the coding agent (coding-agent-loop spec §3.8): what a
 * tool looks like to the model ({@linkcode ToolDefinition}), what it does
 * ({@linkcode RegisteredTool}), and the registry that validates arguments,
 * runs a tool and truncates its output.
 *
 * @module
 */

import type { ExecutionEnvironment, OutputChunk } from "../env/types.ts";
import type { JsonObject, ToolDefinition } from "../llm/types.ts";

/** A JSON Schema object (root type "object") describing a tool's arguments. */
export type JsonSchema = JsonObject;

// One type for what the model is told about a tool: the llm layer's, which the registry fills.
export type { ToolDefinition };

/** Settings a tool reads at run time; every field has a default. */
export interface ToolSettings {
  /** Default shell timeout when the call sets none (spec default 10 000 ms). */
  readonly defaultCommandTimeoutMs?: number;
  /** Upper bound of any shell timeout (spec default 600 000 ms). */
  readonly maxCommandTimeoutMs?: number;
  /** Extra environment variables for shell commands. */
  readonly commandEnv?: Readonly<Record<string, string>>;
}

/** What a tool receives besides its arguments. */
export interface ToolContext {
  /** Where the tool acts. */
  readonly env: ExecutionEnvironment;
  /** Cancels the tool (session abort, per-tool timeout). */
  readonly signal: AbortSignal;
  /** The model's id for this call, when it has one. */
  readonly callId?: string;
  /** Run-time settings (timeouts, command environment). */
  readonly settings?: ToolSettings;
  /**
   * Receives a long-running tool's output while it runs (the shell's
   * stdout and stderr), for `tool_call_output_delta` events.
   */
  readonly onOutput?: (chunk: OutputChunk) => void;
}

/** An image a tool hands back for multimodal models. */
export interface ToolImage {
  /** Media type, e.g. "image/png". */
  readonly mediaType: string;
  /** The raw bytes. */
  readonly data: Uint8Array;
}

/** What a tool returns: text for the model, and whether it is an error. */
export interface ToolOutput {
  /** The text the model sees (before truncation). */
  readonly content: string;
  /** Whether the call failed; the model sees the content as an error. */
  readonly isError: boolean;
  /** An image for multimodal models (read_file on an image). */
  readonly image?: ToolImage;
}

/**
 * A tool the registry can run. `execute` receives arguments that have
 * already been validated against `definition.parameters` (and parsed by
 * `parse` when the tool has one).
 */
export interface RegisteredTool {
  /** What the model is told. */
  readonly definition: ToolDefinition;
  /**
   * Validates and normalises raw arguments; throws a {@linkcode ToolArgumentError}
   * naming the bad field. Tools built with `defineTool` derive it from their
   * zod schema; without it the registry checks `definition.parameters`.
   */
  readonly parse?: (args: unknown) => Record<string, unknown>;
  /** Runs the tool. Throwing is allowed: the registry turns it into an error output. */
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

/** Arguments did not match the tool's schema. */
export class ToolArgumentError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidArguments" as const;
  /** The tool whose arguments were wrong. */
  readonly tool: string;

  /** Creates an error; `message` names the bad field and why. */
  constructor(tool: string, message: string, options?: ErrorOptions) {
    super(`invalid arguments for ${tool}: ${message}`, options);
    this.tool = tool;
    this.name = "ToolArgumentError";
  }
}

/** How output is shortened when it is too long (spec §5.1). */
export type TruncationMode = "head_tail" | "tail";

/** Output limits of one tool. */
export interface ToolOutputLimit {
  /** Most characters the model sees. */
  readonly maxChars: number;
  /** Which part is kept when characters are cut. */
  readonly mode: TruncationMode;
  /** Most lines the model sees after character truncation; undefined = no line limit. */
  readonly maxLines?: number;
}

/** Registry configuration: every field overrides the spec defaults per tool name. */
export interface ToolRegistryOptions {
  /** Character limits per tool name. */
  readonly outputLimits?: Readonly<Record<string, number>>;
  /** Line limits per tool name (null removes the default limit). */
  readonly lineLimits?: Readonly<Record<string, number | null>>;
  /** Truncation mode per tool name. */
  readonly truncationModes?: Readonly<Record<string, TruncationMode>>;
  /** Wall-clock limit per tool name; on expiry the tool's signal aborts and an error is returned. */
  readonly timeoutsMs?: Readonly<Record<string, number>>;
}

/**
 * A request to the registry to run one tool: the session builds it from the
 * model's `ToolCall` (passing the argument text when it did not parse, so the
 * registry names the problem); a host may build one directly.
 */
export interface ToolInvocation {
  /** Tool name. */
  readonly name: string;
  /** Arguments: a JSON object, or its JSON text as the model sent it. */
  readonly arguments: unknown;
  /** The model's id for the call. */
  readonly callId?: string;
}

/** The result of running one {@link ToolInvocation} through the registry. */
export interface ToolInvocationResult {
  /** Tool name as called. */
  readonly name: string;
  /** The model's id for the call, when given. */
  readonly callId?: string;
  /** What the model sees: the output after truncation. */
  readonly content: string;
  /** The full output before truncation (for the event stream / persistence). */
  readonly fullContent: string;
  /** Whether the call failed (unknown tool, bad arguments, tool error, timeout). */
  readonly isError: boolean;
  /** Whether `content` was shortened. */
  readonly truncated: boolean;
  /** Image for multimodal models, when the tool returned one. */
  readonly image?: ToolImage;
  /** Wall-clock duration of the call. */
  readonly durationMs: number;
}

/** The set of tools a session offers the model (latest registration wins). */
export interface ToolRegistry {
  /** Adds a tool, replacing any tool with the same name. */
  register(tool: RegisteredTool): void;
  /** Removes a tool; returns whether it was there. */
  unregister(name: string): boolean;
  /** The tool with this name, if any. */
  get(name: string): RegisteredTool | undefined;
  /** Names of all tools, in registration order. */
  names(): string[];
  /** Definitions of all tools, in registration order, for the model. */
  definitions(): ToolDefinition[];
  /**
   * Looks up, validates, executes and truncates one call. Never throws for
   * a bad call: unknown tools, invalid arguments, tool failures and
   * timeouts come back with `isError: true`.
   */
  execute(call: ToolInvocation, ctx: Omit<ToolContext, "callId">): Promise<ToolInvocationResult>;
}
