/**
 * One model call of the session loop: the request built from the profile,
 * the system prompt layers and the history, and the call itself, streamed as
 * text events when the session streams.
 *
 * @module
 */
import type {
  LlmMessage,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  ReasoningEffort,
} from "../llm/types.ts";
import { systemMessage } from "../llm/messages.ts";
import { withUniqueCallIds } from "../llm/call_ids.ts";
import type { ToolRegistry } from "../tools/types.ts";
import type { ProviderProfile } from "../profiles/types.ts";
import type { EnvironmentContext } from "../prompt/environment.ts";
import type { ProjectDoc } from "../prompt/project_docs.ts";
import { buildSystemPrompt } from "../prompt/system_prompt.ts";
import { SessionError } from "./config.ts";
import type { SessionEventData } from "./events.ts";

/** What a request is built from. */
export interface RequestParts {
  readonly profile: ProviderProfile;
  readonly registry: ToolRegistry;
  readonly environment: EnvironmentContext;
  readonly projectDocs: readonly ProjectDoc[];
  readonly projectDocsTruncated: boolean;
  readonly userInstructions: string | undefined;
  /** The history as model messages. */
  readonly messages: readonly LlmMessage[];
  readonly reasoningEffort: ReasoningEffort | null;
}

/** The next request: system prompt, history, the registry's tools and the profile's options. */
export function buildRequest(parts: RequestParts): LlmRequest {
  const tools = parts.registry.definitions();
  const system = buildSystemPrompt({
    baseInstructions: parts.profile.baseInstructions(),
    environment: parts.environment,
    tools,
    projectDocs: parts.projectDocs,
    projectDocsTruncated: parts.projectDocsTruncated,
    userInstructions: parts.userInstructions,
  });
  const messages: LlmMessage[] = [systemMessage(system), ...parts.messages];
  const providerOptions = parts.profile.providerOptions();
  return {
    model: parts.profile.model,
    messages,
    tools,
    toolChoice: tools.length ? { mode: "auto" } : undefined,
    ...(parts.reasoningEffort ? { reasoningEffort: parts.reasoningEffort } : {}),
    ...(providerOptions ? { providerOptions } : {}),
  };
}

/**
 * Calls the model; when streaming, emits the text as it arrives. The
 * response's tool call ids are made unique (the HTTP adapters already do;
 * any other provider may not), so every call gets its own result.
 */
export async function callModel(
  provider: LlmProvider,
  request: LlmRequest,
  options: ModelCallOptions,
): Promise<LlmResponse> {
  return withUniqueCallIds(await receive(provider, request, options));
}

/** How {@link callModel} calls: streaming or not, its signal, and where events go. */
export interface ModelCallOptions {
  /** Stream the answer, emitting its text as it arrives. */
  readonly streaming: boolean;
  /** Cancels the call. */
  readonly signal: AbortSignal;
  /** Receives the session events the call emits. */
  readonly emit: (data: SessionEventData) => void;
}

async function receive(
  provider: LlmProvider,
  request: LlmRequest,
  options: ModelCallOptions,
): Promise<LlmResponse> {
  const { signal, emit } = options;
  if (!options.streaming) return await provider.complete(request, signal);
  let started = false;
  for await (const event of provider.stream(request, signal)) {
    if (event.type === "text_delta") {
      if (!started) {
        started = true;
        emit({ kind: "assistant_text_start" });
      }
      emit({ kind: "assistant_text_delta", delta: event.delta });
    } else if (event.type === "finish") {
      return event.response;
    } else if (event.type === "error") {
      throw event.error;
    }
  }
  throw new SessionError("Closed", `the ${provider.name} stream ended without a finish event`);
}
