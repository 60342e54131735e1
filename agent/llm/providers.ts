/**
 * Choosing a provider by name or from the environment, so a CLI can say
 * `--provider anthropic` or just rely on whichever key is set.
 *
 * @module
 */

import { type AnthropicOptions, createAnthropicProvider } from "./anthropic.ts";
import { ConfigurationError } from "./errors.ts";
import { createGeminiProvider, type GeminiOptions } from "./gemini.ts";
import { readEnv } from "./http.ts";
import type { HttpLlmProvider } from "./http_provider.ts";
import { createOpenAiCompatibleProvider, type OpenAiCompatibleOptions } from "./openai_compat.ts";
import { createOpenAiResponsesProvider, type OpenAiResponsesOptions } from "./openai_responses.ts";

/** The HTTP providers this layer can build. */
export type ProviderKind = "openai" | "anthropic" | "gemini" | "openai-compatible";

/** The provider kinds, in the order `providerKindFromEnv` prefers them. */
export const PROVIDER_KINDS: readonly ProviderKind[] = [
  "anthropic",
  "openai",
  "gemini",
  "openai-compatible",
];

/** Options for any provider kind (each factory reads the fields it knows). */
export type AnyProviderOptions =
  & AnthropicOptions
  & OpenAiResponsesOptions
  & GeminiOptions
  & OpenAiCompatibleOptions;

/** Builds the provider of `kind`; keys and base URLs default to the environment. */
export function createProvider(
  kind: ProviderKind,
  options: AnyProviderOptions = {},
): HttpLlmProvider {
  switch (kind) {
    case "openai":
      return createOpenAiResponsesProvider(options);
    case "anthropic":
      return createAnthropicProvider(options);
    case "gemini":
      return createGeminiProvider(options);
    case "openai-compatible":
      return createOpenAiCompatibleProvider(options);
    default:
      throw new ConfigurationError(
        `unknown provider "${String(kind)}"; known: ${PROVIDER_KINDS.join(", ")}`,
      );
  }
}

/** Reads a provider kind from text, e.g. a CLI flag; unknown names are a ConfigurationError. */
export function parseProviderKind(text: string): ProviderKind {
  const kind = PROVIDER_KINDS.find((k) => k === text.trim().toLowerCase());
  if (!kind) {
    throw new ConfigurationError(`unknown provider "${text}"; known: ${PROVIDER_KINDS.join(", ")}`);
  }
  return kind;
}

/**
 * The provider the environment asks for: FORGE_LLM_PROVIDER when set, else
 * the first of ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY / GOOGLE_API_KEY,
 * FORGE_OPENAI_COMPAT_BASE_URL / OLLAMA_BASE_URL that is set. None set is a ConfigurationError naming them.
 */
export function providerKindFromEnv(): ProviderKind {
  const chosen = readEnv("FORGE_LLM_PROVIDER");
  if (chosen) return parseProviderKind(chosen);
  if (readEnv("ANTHROPIC_API_KEY")) return "anthropic";
  if (readEnv("OPENAI_API_KEY")) return "openai";
  if (readEnv("GEMINI_API_KEY") || readEnv("GOOGLE_API_KEY")) return "gemini";
  if (readEnv("FORGE_OPENAI_COMPAT_BASE_URL") || readEnv("OLLAMA_BASE_URL")) {
    return "openai-compatible";
  }
  throw new ConfigurationError(
    "no model provider configured: set FORGE_LLM_PROVIDER, or one of ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY, FORGE_OPENAI_COMPAT_BASE_URL, OLLAMA_BASE_URL",
  );
}

/** Builds the provider the environment asks for (see `providerKindFromEnv`). */
export function createProviderFromEnv(options: AnyProviderOptions = {}): HttpLlmProvider {
  return createProvider(providerKindFromEnv(), options);
}
