/**
 * The layered system prompt (coding-agent-loop spec §6.1): provider base
 * instructions, environment context, tool descriptions, project instruction
 * files, and the user's instructions last (highest priority).
 *
 * @module
 */
import type { ToolDefinition } from "../tools/types.ts";
import { type EnvironmentContext, renderEnvironment } from "./environment.ts";
import { type ProjectDoc, renderProjectDocs } from "./project_docs.ts";

/** The layers of a system prompt. */
export interface SystemPromptLayers {
  /** Provider-specific base instructions. */
  readonly baseInstructions: string;
  /** The environment snapshot. */
  readonly environment: EnvironmentContext;
  /** The tools the model may call. */
  readonly tools: readonly ToolDefinition[];
  /** Project instruction files, root first. */
  readonly projectDocs: readonly ProjectDoc[];
  /** Whether the project files were cut by the budget. */
  readonly projectDocsTruncated?: boolean;
  /** The user's own instructions, appended last. */
  readonly userInstructions?: string;
}

/** Joins the layers in the spec's order, skipping empty ones. */
export function buildSystemPrompt(layers: SystemPromptLayers): string {
  const sections = [
    layers.baseInstructions.trim(),
    renderEnvironment(layers.environment),
    layers.tools.length
      ? ["# Tools", ...layers.tools.map((t) => `- ${t.name}: ${t.description}`)].join("\n")
      : "",
    renderProjectDocs(layers.projectDocs, layers.projectDocsTruncated ?? false),
    layers.userInstructions?.trim() ? `# User instructions\n${layers.userInstructions.trim()}` : "",
  ];
  return sections.filter((s) => s.length > 0).join("\n\n");
}
