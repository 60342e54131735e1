/**
 * The model layer of the Forge coding agent: unified LLM types, typed errors,
 * provider adapters (OpenAI Responses, Anthropic Messages, OpenAI-compatible
 * Chat Completions) and a deterministic scripted provider.
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
