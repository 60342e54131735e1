/**
 * Routing between scripted providers, for scripted runs where a parent
 * session and its subagents share one provider.
 *
 * @module
 */
import { messageText } from "./messages.ts";
import type { ScriptedProvider } from "./scripted.ts";
import type { LlmProvider, LlmRequest, LlmResponse, LlmStreamEvent } from "./types.ts";

/**
 * A provider that routes each request to a scripted provider chosen by the
 * conversation's first user message, so a parent and its subagents (which
 * share one provider) each follow their own script whatever the interleaving.
 */
export class RoutingProvider implements LlmProvider {
  /** Provider name. */
  readonly name = "routing";
  readonly #routes: Map<string, ScriptedProvider>;

  /** Routes first-user-message text → provider. */
  constructor(routes: Record<string, ScriptedProvider>) {
    this.#routes = new Map(Object.entries(routes));
  }

  #pick(request: LlmRequest): ScriptedProvider {
    const first = request.messages.find((m) => m.role === "user");
    const key = first ? messageText(first) : "";
    const provider = this.#routes.get(key);
    if (!provider) throw new Error(`no route for first user message ${JSON.stringify(key)}`);
    return provider;
  }

  /** Answers from the routed provider. */
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    return this.#pick(request).complete(request, signal);
  }

  /** Streams from the routed provider. */
  stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamEvent> {
    return this.#pick(request).stream(request, signal);
  }
}
