/**
 * The model layer of the Forge coding agent: unified LLM types, typed errors,
 * provider adapters (OpenAI Responses, Anthropic Messages, Gemini,
 * OpenAI-compatible Chat Completions) over `fetch` and `eventsource-parser`,
 * one error classification, retries, structured output, and a deterministic
 * scripted provider for tests and keyless demos.
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export * from "./messages.ts";
export * from "./accumulate.ts";
export * from "./sse.ts";
export * from "./retry.ts";
export {
  classifyError,
  ERROR_RULES,
  type ErrorBodyFields,
  type ErrorRule,
  type ErrorSignals,
  type MakeError,
  readErrorBody,
} from "./classify.ts";
export {
  errorFromHttp,
  errorFromProviderCode,
  errorFromStreamBody,
  type FetchLike,
  parseRetryAfter,
  readRateLimit,
} from "./http.ts";
export {
  type FinishSignal,
  HttpLlmProvider,
  type HttpProviderOptions,
  type StreamTranslator,
  type TranslatedEvent,
  type WireFormat,
} from "./http_provider.ts";
export {
  buildResponsesBody,
  createOpenAiResponsesProvider,
  type OpenAiResponsesOptions,
  openAiResponsesWire,
  parseResponsesResponse,
} from "./openai_responses.ts";
export {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  ANTHROPIC_THINKING_BUDGETS,
  ANTHROPIC_VERSION,
  type AnthropicOptions,
  anthropicWire,
  buildMessagesBody,
  createAnthropicProvider,
  type MessagesBodyOptions,
  parseMessagesResponse,
} from "./anthropic.ts";
export {
  buildChatCompletionsBody,
  chatCompletionsWire,
  createOpenAiCompatibleProvider,
  OPENAI_COMPAT_PROVIDER,
  type OpenAiCompatibleOptions,
  parseChatCompletionsResponse,
} from "./openai_compat.ts";
export {
  buildGenerateContentBody,
  createGeminiProvider,
  GEMINI_PROVIDER,
  GEMINI_THINKING_BUDGETS,
  geminiFinishReason,
  type GeminiOptions,
  geminiWire,
  parseGenerateContentResponse,
  readGeminiUsage,
} from "./gemini.ts";
export { OPENAI_SERVER_TOOL_ITEMS } from "./openai_responses_read.ts";
export * from "./structured.ts";
export * from "./scripted.ts";
export * from "./providers.ts";
export { RoutingProvider } from "./routing.ts";
