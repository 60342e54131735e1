/**
 * Adapter for the OpenAI Responses API (`POST /v1/responses`), the API
 * OpenAI's reasoning models need: system text goes to `instructions`, tool
 * calls and results are top-level input items, reasoning effort maps to
 * `reasoning.effort`, and usage reports reasoning and cached tokens.
 *
 * @module
 */

import { ConfigurationError } from "./errors.ts";
import { normalizeBaseUrl, readEnv, readRateLimit, requireApiKey } from "./http.ts";
import { HttpLlmProvider, type HttpProviderOptions, type WireFormat } from "./http_provider.ts";
import { parseResponsesResponse, ResponsesStreamTranslator } from "./openai_responses_read.ts";
import type {
  ContentPart,
  ImageData,
  JsonObject,
  JsonValue,
  LlmRequest,
  Thinking,
  ToolChoice,
} from "./types.ts";
import { imageSource, providerOptionsFor, systemText } from "./wire_util.ts";

export { parseResponsesResponse } from "./openai_responses_read.ts";

const PROVIDER = "openai";

/** Options of the OpenAI Responses adapter. */
export interface OpenAiResponsesOptions extends HttpProviderOptions {
  /** API key; defaults to the OPENAI_API_KEY environment variable. */
  readonly apiKey?: string;
  /** Base URL up to and including `/v1`; defaults to OPENAI_BASE_URL or https://api.openai.com/v1. */
  readonly baseUrl?: string;
  /** Sent as the OpenAI-Organization header when set. */
  readonly organization?: string;
}

/**
 * Creates a provider for the OpenAI Responses API. Throws a
 * ConfigurationError naming OPENAI_API_KEY when no key is available.
 */
export function createOpenAiResponsesProvider(
  options: OpenAiResponsesOptions = {},
): HttpLlmProvider {
  const apiKey = requireApiKey(options.apiKey, "OPENAI_API_KEY", PROVIDER);
  const explicit = options.baseUrl ?? readEnv("OPENAI_BASE_URL");
  const baseUrl = normalizeBaseUrl(
    explicit ?? "https://api.openai.com/v1",
    PROVIDER,
    options.baseUrl ? "baseUrl" : "OPENAI_BASE_URL",
  );
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (options.organization) headers["openai-organization"] = options.organization;
  return new HttpLlmProvider(openAiResponsesWire(`${baseUrl}/responses`, headers), options);
}

/** The Responses wire format, for a given URL and auth headers. */
export function openAiResponsesWire(url: string, headers: Record<string, string>): WireFormat {
  return {
    provider: PROVIDER,
    url,
    headers: () => headers,
    body: buildResponsesBody,
    parseResponse: (json, responseHeaders) => {
      const response = parseResponsesResponse(json);
      const rateLimit = readRateLimit(responseHeaders);
      return rateLimit ? { ...response, rateLimit } : response;
    },
    translator: () => new ResponsesStreamTranslator(),
  };
}

function toolChoiceWire(choice: ToolChoice): JsonValue {
  return choice.mode === "named" ? { type: "function", name: choice.toolName } : choice.mode;
}

/** Builds the JSON body of a Responses API request. */
export function buildResponsesBody(request: LlmRequest, stream: boolean): JsonObject {
  if (request.stopSequences && request.stopSequences.length > 0) {
    throw new ConfigurationError(
      "openai: the Responses API does not support stopSequences; remove them from the request",
      { provider: PROVIDER },
    );
  }
  const input: JsonValue[] = [];
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue;
    if (message.role === "user") {
      const content: JsonValue[] = [];
      for (const part of message.content) {
        if (part.kind === "text") content.push({ type: "input_text", text: part.text });
        else if (part.kind === "image") content.push(inputImage(part.image));
        else if (part.kind === "tool_result") input.push(functionCallOutput(part));
      }
      if (content.length > 0) input.push({ type: "message", role: "user", content });
      continue;
    }
    if (message.role === "tool") {
      for (const part of message.content) {
        if (part.kind === "tool_result") input.push(functionCallOutput(part));
      }
      continue;
    }
    // assistant: text runs become one message item; calls and reasoning are items of their own
    let texts: JsonValue[] = [];
    const flush = () => {
      if (texts.length > 0) input.push({ type: "message", role: "assistant", content: texts });
      texts = [];
    };
    for (const part of message.content) {
      if (part.kind === "text") {
        if (part.text !== "") texts.push({ type: "output_text", text: part.text });
      } else if (part.kind === "tool_call") {
        flush();
        // No item `id`: an fc_ id would oblige us to send its reasoning item too.
        input.push({
          type: "function_call",
          call_id: part.toolCall.callId,
          name: part.toolCall.name,
          arguments: part.toolCall.rawArguments === ""
            ? JSON.stringify(part.toolCall.arguments)
            : part.toolCall.rawArguments,
        });
      } else if (part.kind === "thinking") {
        const reasoning = reasoningItem(part.thinking);
        if (reasoning) {
          flush();
          input.push(reasoning);
        }
      }
    }
    flush();
  }
  const body: JsonObject = { model: request.model };
  const instructions = systemText(request);
  if (instructions !== undefined) body.instructions = instructions;
  body.input = input;
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      strict: false,
    }));
    body.tool_choice = toolChoiceWire(request.toolChoice ?? { mode: "auto" });
  }
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.text = {
      format: {
        type: "json_schema",
        name: format.name,
        schema: format.schema,
        strict: format.strict ?? false,
        ...(format.description === undefined ? {} : { description: format.description }),
      },
    };
  }
  if (request.reasoningEffort) body.reasoning = { effort: request.reasoningEffort };
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.metadata) body.metadata = { ...request.metadata };
  if (stream) body.stream = true;
  return { ...body, ...providerOptionsFor(request, PROVIDER) };
}

/** An image as a Responses input part: a URL, or the bytes as a data URL. */
function inputImage(image: ImageData): JsonObject {
  const url = imageSource(image, PROVIDER);
  return { type: "input_image", image_url: url, detail: image.detail ?? "auto" };
}

function functionCallOutput(part: ContentPart): JsonValue {
  if (part.kind !== "tool_result") throw new Error("unreachable");
  const images = part.toolResult.images ?? [];
  // With images the output is a list of input parts: the text, then each image.
  const output: JsonValue = images.length === 0 ? part.toolResult.content : [
    ...(part.toolResult.content === ""
      ? []
      : [{ type: "input_text", text: part.toolResult.content }]),
    ...images.map(inputImage),
  ];
  return { type: "function_call_output", call_id: part.toolResult.callId, output };
}

/** Only OpenAI's own encrypted reasoning can be sent back; other providers' thinking is dropped. */
function reasoningItem(thinking: Thinking): JsonValue | undefined {
  if (thinking.provider !== PROVIDER || thinking.signature === undefined || !thinking.id) {
    return undefined;
  }
  return {
    type: "reasoning",
    id: thinking.id,
    summary: thinking.text === "" ? [] : [{ type: "summary_text", text: thinking.text }],
    encrypted_content: thinking.signature,
  };
}
