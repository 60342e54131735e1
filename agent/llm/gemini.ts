/**
 * Adapter for Gemini's native API (`POST {base}/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse`): system text goes to
 * `systemInstruction`, the assistant is the `model` role, tool calls and
 * results are `functionCall` / `functionResponse` parts matched by id and
 * name, thought signatures go back on the part they came with, reasoning
 * effort becomes a `thinkingConfig` budget with thought summaries, and a
 * response schema uses `responseJsonSchema`.
 *
 * @module
 */

import { ConfigurationError } from "./errors.ts";
import {
  GEMINI_LOCAL_CALL_ID,
  GEMINI_PROVIDER,
  GeminiStreamTranslator,
  parseGenerateContentResponse,
} from "./gemini_read.ts";
import { normalizeBaseUrl, readEnv, readRateLimit } from "./http.ts";
import { HttpLlmProvider, type HttpProviderOptions, type WireFormat } from "./http_provider.ts";
import type {
  ContentPart,
  ImageData,
  JsonObject,
  JsonValue,
  LlmRequest,
  ReasoningEffort,
  ToolCall,
} from "./types.ts";
import { imageSource, providerOptionsFor, systemText } from "./wire_util.ts";

export {
  GEMINI_PROVIDER,
  geminiFinishReason,
  parseGenerateContentResponse,
  readGeminiUsage,
} from "./gemini_read.ts";

const PROVIDER = GEMINI_PROVIDER;

/** Thinking budgets (tokens) used when a request sets `reasoningEffort`. */
export const GEMINI_THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  low: 1024,
  medium: 8192,
  high: 24576,
};

/** Options of the Gemini adapter. */
export interface GeminiOptions extends HttpProviderOptions {
  /** API key; defaults to GEMINI_API_KEY, else GOOGLE_API_KEY. */
  readonly apiKey?: string;
  /**
   * Base URL up to and including the API version; defaults to GEMINI_BASE_URL
   * or https://generativelanguage.googleapis.com/v1beta.
   */
  readonly baseUrl?: string;
}

/**
 * Creates a provider for Gemini's native API. Throws a ConfigurationError
 * naming GEMINI_API_KEY and GOOGLE_API_KEY when neither is set.
 */
export function createGeminiProvider(options: GeminiOptions = {}): HttpLlmProvider {
  const apiKey = options.apiKey ?? readEnv("GEMINI_API_KEY") ?? readEnv("GOOGLE_API_KEY");
  if (apiKey === undefined) {
    throw new ConfigurationError(
      "gemini: no API key: set the GEMINI_API_KEY (or GOOGLE_API_KEY) environment variable or pass apiKey",
      { provider: PROVIDER },
    );
  }
  const explicit = options.baseUrl ?? readEnv("GEMINI_BASE_URL");
  const baseUrl = normalizeBaseUrl(
    explicit ?? "https://generativelanguage.googleapis.com/v1beta",
    PROVIDER,
    options.baseUrl ? "baseUrl" : "GEMINI_BASE_URL",
  );
  return new HttpLlmProvider(geminiWire(baseUrl, apiKey), options);
}

/** The Gemini wire format, for a base URL (with its version) and key. */
export function geminiWire(baseUrl: string, apiKey: string): WireFormat {
  return {
    provider: PROVIDER,
    url: (request, stream) => {
      const model = encodeURIComponent(request.model.replace(/^models\//, ""));
      return stream
        ? `${baseUrl}/models/${model}:streamGenerateContent?alt=sse`
        : `${baseUrl}/models/${model}:generateContent`;
    },
    headers: () => ({ "x-goog-api-key": apiKey }),
    body: (request) => buildGenerateContentBody(request),
    parseResponse: (json, headers) => {
      const response = parseGenerateContentResponse(json);
      const rateLimit = readRateLimit(headers);
      return rateLimit ? { ...response, rateLimit } : response;
    },
    translator: () => new GeminiStreamTranslator(),
  };
}

/** An image as a Gemini part: inline bytes, or a file URI (uploaded file, `gs://`, or URL). */
function imagePart(image: ImageData): JsonObject {
  const url = imageSource(image, PROVIDER);
  if (image.data !== undefined) {
    return { inlineData: { mimeType: image.mediaType!, data: image.data } };
  }
  return {
    fileData: {
      fileUri: url,
      ...(image.mediaType ? { mimeType: image.mediaType } : {}),
    },
  };
}

function functionCallPart(call: ToolCall): JsonObject {
  const own = !call.callId.startsWith(GEMINI_LOCAL_CALL_ID);
  return {
    functionCall: { ...(own ? { id: call.callId } : {}), name: call.name, args: call.arguments },
    ...(call.signature === undefined ? {} : { thoughtSignature: call.signature }),
  };
}

/** The wire parts of one message. Tool results need the call's name: from the result, else the call. */
function messageParts(
  content: readonly ContentPart[],
  callNames: ReadonlyMap<string, string>,
): JsonObject[] {
  const parts: JsonObject[] = [];
  for (const part of content) {
    switch (part.kind) {
      case "text":
        if (part.text !== "") parts.push({ text: part.text });
        break;
      case "image":
        parts.push(imagePart(part.image));
        break;
      case "tool_call":
        parts.push(functionCallPart(part.toolCall));
        break;
      case "tool_result": {
        const result = part.toolResult;
        const own = !result.callId.startsWith(GEMINI_LOCAL_CALL_ID);
        parts.push({
          functionResponse: {
            ...(own ? { id: result.callId } : {}),
            name: result.toolName ?? callNames.get(result.callId) ?? "",
            response: result.isError ? { error: result.content } : { result: result.content },
          },
        });
        for (const image of result.images ?? []) parts.push(imagePart(image));
        break;
      }
      case "thinking": {
        const thinking = part.thinking;
        if (thinking.provider !== PROVIDER) break; // another provider's reasoning means nothing here
        if (thinking.text === "" && thinking.signature !== undefined) {
          // A signature that came on the part before: it goes back on that part.
          const previous = parts.at(-1);
          if (previous !== undefined && previous.thoughtSignature === undefined) {
            previous.thoughtSignature = thinking.signature;
          } else parts.push({ text: "", thoughtSignature: thinking.signature });
        } else if (thinking.text !== "" || thinking.signature !== undefined) {
          parts.push({
            text: thinking.text,
            thought: true,
            ...(thinking.signature === undefined ? {} : { thoughtSignature: thinking.signature }),
          });
        }
        break;
      }
      case "server_tool_call":
        if (part.serverToolCall.provider === PROVIDER) parts.push({ ...part.serverToolCall.raw });
        break;
      case "server_tool_result":
        if (part.serverToolResult.provider === PROVIDER) {
          parts.push({ ...part.serverToolResult.raw });
        }
        break;
      case "provider":
        // Candidate metadata (grounding) is not a part; real part types go back as they came.
        if (part.provider === PROVIDER && !part.type.endsWith("Metadata")) {
          parts.push({ ...part.raw });
        }
        break;
    }
  }
  return parts;
}

/** Builds the JSON body of a `generateContent` request (the same for the stream). */
export function buildGenerateContentBody(request: LlmRequest): JsonObject {
  const callNames = new Map<string, string>();
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.kind === "tool_call") callNames.set(part.toolCall.callId, part.toolCall.name);
    }
  }
  const contents: { role: "user" | "model"; parts: JsonObject[] }[] = [];
  for (const message of request.messages) {
    if (message.role === "system" || message.role === "developer") continue;
    const role = message.role === "assistant" ? "model" : "user";
    const parts = messageParts(message.content, callNames);
    if (parts.length === 0) continue;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  const body: JsonObject = { contents: contents as unknown as JsonValue };
  const system = systemText(request);
  if (system !== undefined) body.systemInstruction = { parts: [{ text: system }] };
  const choice = request.toolChoice ?? { mode: "auto" };
  if (request.tools && request.tools.length > 0) {
    body.tools = [{
      functionDeclarations: request.tools.map((tool) => ({
        name: tool.name,
        description: tool.description,
        // parametersJsonSchema takes full JSON Schema; `parameters` only an OpenAPI subset.
        parametersJsonSchema: tool.parameters,
      })),
    }];
    body.toolConfig = {
      functionCallingConfig: choice.mode === "named"
        ? { mode: "ANY", allowedFunctionNames: [choice.toolName] }
        : { mode: choice.mode === "required" ? "ANY" : choice.mode === "none" ? "NONE" : "AUTO" },
    };
  }
  const generation: JsonObject = {};
  if (request.maxTokens !== undefined) generation.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) generation.temperature = request.temperature;
  if (request.topP !== undefined) generation.topP = request.topP;
  if (request.stopSequences && request.stopSequences.length > 0) {
    generation.stopSequences = [...request.stopSequences];
  }
  if (request.reasoningEffort) {
    generation.thinkingConfig = {
      thinkingBudget: GEMINI_THINKING_BUDGETS[request.reasoningEffort],
      includeThoughts: true,
    };
  }
  if (request.responseFormat) {
    generation.responseMimeType = "application/json";
    generation.responseJsonSchema = request.responseFormat.schema;
  }
  const options = providerOptionsFor(request, PROVIDER);
  // generationConfig from the options is merged field by field, not swapped whole.
  const extra = options.generationConfig;
  if (extra !== null && typeof extra === "object" && !Array.isArray(extra)) {
    Object.assign(generation, extra);
    delete options.generationConfig;
  }
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  return { ...body, ...options };
}
