/**
 * How a session's system prompt is built: the provider's base prompt, the
 * environment context (working directory, platform, git), the project's
 * instruction files (AGENTS.md and the provider's own) and the user's
 * instructions, in that order.
 *
 * @module
 */
export * from "./environment.ts";
export * from "./project_docs.ts";
export * from "./system_prompt.ts";
