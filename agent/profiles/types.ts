/**
 * Provider profiles (coding-agent-loop spec §3.2): the model, the tools that
 * model family is trained on, its base instructions, its project instruction
 * files and its capabilities.
 *
 * @module
 */
import type { JsonObject } from "../llm/types.ts";
import type { ToolDefinition, ToolRegistry } from "../tools/types.ts";

/** What a session needs to know about the model family it talks to. */
export interface ProviderProfile {
  /** "openai", "anthropic", "gemini", or a custom id. */
  readonly id: string;
  /** The model id sent with each request. */
  readonly model: string;
  /** The profile's tools; register custom tools here (latest registration wins). */
  readonly toolRegistry: ToolRegistry;
  /** Whether the model accepts a reasoning effort. */
  readonly supportsReasoning: boolean;
  /** Whether the session should stream responses (text deltas). */
  readonly supportsStreaming: boolean;
  /** Whether several tool calls of one response may run at once. */
  readonly supportsParallelToolCalls: boolean;
  /** Context window in tokens, for the usage warning. */
  readonly contextWindowSize: number;
  /** Knowledge cutoff shown in the environment block, when known. */
  readonly knowledgeCutoff?: string;
  /** The profile's shell timeout when the session config sets none (Anthropic: 120 s). */
  readonly defaultCommandTimeoutMs?: number;
  /** Project instruction files this profile reads, AGENTS.md first. */
  readonly projectDocFiles: readonly string[];
  /** Provider-specific base instructions (layer 1 of the system prompt). */
  baseInstructions(): string;
  /** Definitions of the profile's tools. */
  tools(): ToolDefinition[];
  /** Provider options merged into each request, keyed by provider name. */
  providerOptions(): Record<string, JsonObject> | undefined;
  /** The same profile for another model (subagent model override); tools are shared. */
  withModel(model: string): ProviderProfile;
}
