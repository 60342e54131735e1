/**
 * A plain-data provider profile: the one implementation behind the OpenAI,
 * Anthropic and Gemini profiles, and the way to build a custom one.
 *
 * @module
 */
import type { JsonObject } from "../llm/types.ts";
import type { RegisteredTool, ToolDefinition, ToolRegistry } from "../tools/types.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { projectDocNames } from "../prompt/project_docs.ts";
import type { ProviderProfile } from "./types.ts";

/** What {@link createProfile} needs. */
export interface ProfileSpec {
  /** Profile id ("openai", "anthropic", "gemini", or your own). */
  readonly id: string;
  /** Model id. */
  readonly model: string;
  /** The tools, in the order the model sees them. */
  readonly tools: readonly RegisteredTool[];
  /** Base instructions (layer 1 of the system prompt). */
  readonly baseInstructions: string;
  /** Capabilities; defaults: reasoning true, streaming true, parallel tool calls true. */
  readonly supportsReasoning?: boolean;
  /** Whether to stream. */
  readonly supportsStreaming?: boolean;
  /** Whether tool calls of one response may run at once. */
  readonly supportsParallelToolCalls?: boolean;
  /** Context window in tokens; default 200 000. */
  readonly contextWindowSize?: number;
  /** Knowledge cutoff, when known. */
  readonly knowledgeCutoff?: string;
  /** Profile shell timeout default. */
  readonly defaultCommandTimeoutMs?: number;
  /** Project instruction files; default AGENTS.md plus the provider's own. */
  readonly projectDocFiles?: readonly string[];
  /** Provider options for each request. */
  readonly providerOptions?: Record<string, JsonObject>;
}

class SpecProfile implements ProviderProfile {
  readonly id: string;
  readonly model: string;
  readonly toolRegistry: ToolRegistry;
  readonly supportsReasoning: boolean;
  readonly supportsStreaming: boolean;
  readonly supportsParallelToolCalls: boolean;
  readonly contextWindowSize: number;
  readonly knowledgeCutoff?: string;
  readonly defaultCommandTimeoutMs?: number;
  readonly projectDocFiles: readonly string[];
  readonly #spec: ProfileSpec;

  constructor(spec: ProfileSpec, registry?: ToolRegistry) {
    this.#spec = spec;
    this.id = spec.id;
    this.model = spec.model;
    this.toolRegistry = registry ?? new DefaultToolRegistry(spec.tools);
    this.supportsReasoning = spec.supportsReasoning ?? true;
    this.supportsStreaming = spec.supportsStreaming ?? true;
    this.supportsParallelToolCalls = spec.supportsParallelToolCalls ?? true;
    this.contextWindowSize = spec.contextWindowSize ?? 200_000;
    this.knowledgeCutoff = spec.knowledgeCutoff;
    this.defaultCommandTimeoutMs = spec.defaultCommandTimeoutMs;
    this.projectDocFiles = spec.projectDocFiles ?? projectDocNames(spec.id);
  }

  baseInstructions(): string {
    return this.#spec.baseInstructions;
  }

  tools(): ToolDefinition[] {
    return this.toolRegistry.definitions();
  }

  providerOptions(): Record<string, JsonObject> | undefined {
    return this.#spec.providerOptions;
  }

  withModel(model: string): ProviderProfile {
    return new SpecProfile({ ...this.#spec, model }, this.toolRegistry);
  }
}

/** Builds a profile from plain data. */
export function createProfile(spec: ProfileSpec): ProviderProfile {
  if (!spec.id || !spec.model) throw new TypeError("a profile needs an id and a model");
  return new SpecProfile(spec);
}
