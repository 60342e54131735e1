/**
 * @forge/agent: a programmable coding agent loop (after StrongDM's
 * coding-agent-loop spec) whose every step can be persisted as typed records
 * in a Forge turn store and read back as a session tree.
 *
 * ```ts
 * import { anthropicProfile, LocalExecutionEnvironment, ScriptedProvider, Session } from "@forge/agent";
 * import { openTurnStore } from "@forge/turnstore";
 *
 * await using store = await openTurnStore("memory:");
 * const session = new Session({
 *   provider: new ScriptedProvider([{ text: "Nothing to do." }]),
 *   profile: anthropicProfile(),
 *   env: new LocalExecutionEnvironment({ workingDirectory: Deno.cwd() }),
 *   store,
 *   persistence: "required",
 * });
 * const result = await session.submit("Say hello");
 * await session.close();
 * ```
 *
 * This module is the core: the session, its configuration and events,
 * persistence, the provider profiles, the execution environments, the model
 * providers you construct, and `readSession`. The rest is behind subpaths:
 *
 * | import | what |
 * | --- | --- |
 * | `@forge/agent/llm` | the model layer: request/response types, streaming, provider adapters and wire builders, errors, retry |
 * | `@forge/agent/tools` | the tool registry, the core tools, apply_patch, output truncation |
 * | `@forge/agent/env` | every execution environment, shell policy, process runner, env var filtering |
 * | `@forge/agent/records` | the agent's record types, catalog, bundle and idempotency keys (loads no store backend) |
 * | `@forge/agent/session` | the session's parts: subagent manager, event hub, loop detection, record writer |
 * | `@forge/agent/prompt` | system prompt layers, environment context, project docs |
 *
 * @module
 */

// The session.
export {
  type HistoryEntry,
  Session,
  type SessionState,
  type SubmitResult,
} from "./session/session.ts";
export {
  type SessionConfig,
  SessionError,
  type SessionErrorCode,
  type SubagentOrigin,
} from "./session/config.ts";
export type {
  EventBase,
  SessionEvent,
  SessionEventData,
  SessionEventKind,
  StopReason,
  WarningSource,
} from "./session/events.ts";
export {
  DEFAULT_PIPELINE_WINDOW,
  DEFAULT_RETRY,
  DEFAULT_WRITE_BEHIND_HOLD,
  NO_HOLD,
  PERSISTENCE_MODES,
  PersistenceError,
  type PersistenceMode,
  type PersistenceRetryPolicy,
  type WriteBehindHold,
} from "./session/persistence.ts";

// Provider profiles: the model, its tools and its system prompt.
export type { ProviderProfile } from "./profiles/types.ts";
export { createProfile, type ProfileSpec } from "./profiles/profile.ts";
export {
  anthropicProfile,
  geminiProfile,
  openaiProfile,
  type ProfileOptions,
} from "./profiles/providers.ts";
export { createProviderForProfile, providerKindForProfile } from "./profiles/provider_for.ts";

// Where tools run.
export type { ExecutionEnvironment } from "./env/types.ts";
export {
  ConfinedEnvironment,
  type ConfinedEnvironmentOptions,
  type Confinement,
  defaultEnvironment,
  describeConfinement,
  type LocalEnvironmentOptions,
  LocalExecutionEnvironment,
  ReadOnlyExecutionEnvironment,
} from "./env/mod.ts";

// Model providers.
export {
  createProvider,
  createProviderFromEnv,
  type LlmProvider,
  type LlmRequest,
  type LlmResponse,
  type ReasoningEffort,
  RoutingProvider,
  ScriptedProvider,
  type ScriptedReply,
} from "./llm/mod.ts";

// Reading a session back from the store alone.
export * from "./query.ts";
