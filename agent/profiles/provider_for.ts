/**
 * The provider a profile talks to: the OpenAI profile to the Responses API,
 * the Anthropic profile to the Messages API, the Gemini profile to Gemini's
 * native API, each with its key from the environment unless given.
 *
 * @module
 */
import { ConfigurationError } from "../llm/errors.ts";
import type { HttpLlmProvider } from "../llm/http_provider.ts";
import { type AnyProviderOptions, createProvider, type ProviderKind } from "../llm/providers.ts";
import type { ProviderProfile } from "./types.ts";

const KIND_BY_PROFILE: Readonly<Record<string, ProviderKind>> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gemini",
};

/** The provider kind of a built-in profile; a custom profile id is a ConfigurationError. */
export function providerKindForProfile(profile: ProviderProfile): ProviderKind {
  const kind = KIND_BY_PROFILE[profile.id];
  if (kind === undefined) {
    throw new ConfigurationError(
      `profile "${profile.id}" has no built-in provider; known: ${
        Object.keys(KIND_BY_PROFILE).join(", ")
      } (build the provider yourself for a custom profile)`,
    );
  }
  return kind;
}

/**
 * Builds the provider for `profile` (e.g. `geminiProfile()` → Gemini's
 * native API, key from GEMINI_API_KEY or GOOGLE_API_KEY).
 */
export function createProviderForProfile(
  profile: ProviderProfile,
  options: AnyProviderOptions = {},
): HttpLlmProvider {
  return createProvider(providerKindForProfile(profile), options);
}
