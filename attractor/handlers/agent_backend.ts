/**
 * The codergen backend over the coding agent of `agent/`: one session per
 * stage, or one per thread under `full` fidelity (stages with the same
 * thread key continue the same conversation). Each session's context is a
 * fork of the stage's `started` turn in the run's context, and the stage is
 * linked to it by a `forge.link.stage_to_agent` record, so a trace can drill
 * down from a stage to the agent's transcript and tool calls.
 *
 * The session is told it runs for a pipeline through `origin` (depth 0,
 * parent `attractor:<run id>`): the agent's only way, today, to fork a
 * session's context from another turn.
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore";
import {
  type ExecutionEnvironment,
  type LlmProvider,
  type ProviderProfile,
  Session,
  type SessionConfig,
} from "@forge/agent";
import type { ToolRegistry } from "@forge/agent/tools";
import { StageToAgentLink } from "../records.ts";
import type { CodergenBackend, CodergenRequest, CodergenResult } from "./backend.ts";
import { withToolHooks } from "./tool_hooks.ts";

/** Options of {@link AgentBackend}. */
export interface AgentBackendOptions {
  /** The model provider (an adapter, or `ScriptedProvider` in tests and the demo). */
  readonly provider: LlmProvider;
  /** The profile, or one chosen per node (e.g. from its `llm_model`). */
  readonly profile: ProviderProfile | ((request: CodergenRequest) => ProviderProfile);
  /** Where the agent's tools run. */
  readonly env: ExecutionEnvironment;
  /** The store agent sessions persist to (the run's store). */
  readonly store?: ForgeStore;
  /** Agent persistence; default `required` with a store, else `off`. */
  readonly persistence?: "off" | "best_effort" | "required";
  /** More session settings (limits, timeouts). */
  readonly session?: Partial<SessionConfig>;
}

/** `profile` with `toolRegistry` replaced. */
function withRegistry(profile: ProviderProfile, registry: ToolRegistry): ProviderProfile {
  return new Proxy(profile, {
    get(target, prop) {
      if (prop === "toolRegistry") return registry;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Runs each LLM stage as an agent session. */
export class AgentBackend implements CodergenBackend {
  readonly #options: AgentBackendOptions;
  readonly #threads = new Map<string, Session>();

  /** Creates the backend. */
  constructor(options: AgentBackendOptions) {
    this.#options = options;
  }

  /** Runs the stage's prompt through a (new or thread) session. */
  async run(request: CodergenRequest): Promise<CodergenResult> {
    const o = this.#options;
    const thread = request.fidelity === "full" && request.threadKey ? request.threadKey : undefined;
    let session = thread ? this.#threads.get(thread) : undefined;
    const baseTurn = await request.stageTurnId?.();
    if (!session) {
      const base = typeof o.profile === "function" ? o.profile(request) : o.profile;
      const hooks = request.toolHooks;
      const profile = hooks?.pre || hooks?.post
        // The profile with its tool registry wrapped; every other member is
        // the original's, called on the original (profiles keep private state).
        ? withRegistry(
          base,
          withToolHooks(base.toolRegistry, hooks, {
            nodeId: request.node.id,
            stageDir: request.stageDir,
            cwd: o.env.workingDirectory(),
          }),
        )
        : base;
      const effort = request.node.reasoningEffort;
      session = new Session({
        ...o.session,
        provider: o.provider,
        profile,
        env: o.env,
        store: o.store,
        persistence: o.persistence ?? (o.store ? "required" : "off"),
        reasoningEffort: effort === "low" || effort === "medium" || effort === "high"
          ? effort
          : undefined,
        origin: {
          depth: 0,
          parentSessionId: `attractor:${request.runId}`,
          forkFromTurnId: baseTurn && baseTurn !== "0" ? baseTurn : undefined,
        },
      });
      if (thread) this.#threads.set(thread, session);
    }
    const before = session.history.length;
    const onAbort = () => session!.abort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const result = await session.submit(request.prompt);
      let input = 0, output = 0, total = 0;
      for (const entry of session.history.slice(before)) {
        if (entry.kind !== "assistant") continue;
        input += entry.usage.inputTokens;
        output += entry.usage.outputTokens;
        total += entry.usage.totalTokens;
      }
      const agentContextId = session.contextId;
      const pipelineContextId = request.recorder.contextId;
      if (agentContextId && pipelineContextId) {
        await request.recorder.write(
          StageToAgentLink,
          { nodeId: request.node.id, attempt: request.attempt, kind: "stage_to_agent" },
          {
            runId: request.runId,
            nodeId: request.node.id,
            stageAttemptId: request.stageAttemptId,
            agentSessionId: session.id,
            threadKey: thread,
            at: Date.now(),
            pipelineContextId,
            agentContextId,
            agentHeadTurnId: session.headTurnId,
            agentBaseTurnId: baseTurn && baseTurn !== "0" ? baseTurn : undefined,
          },
        );
      }
      if (result.stopReason === "aborted") {
        throw request.signal.reason ?? new Error("agent aborted");
      }
      return {
        text: result.text,
        usage: { inputTokens: input, outputTokens: output, totalTokens: total },
      };
    } finally {
      request.signal.removeEventListener("abort", onAbort);
      if (!thread) await session.close();
    }
  }

  /** Closes every thread session. */
  async close(): Promise<void> {
    for (const session of this.#threads.values()) await session.close().catch(() => {});
    this.#threads.clear();
  }
}
