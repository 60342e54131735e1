/**
 * The session's moving parts, for those who build their own loop or extend
 * this one: the subagent manager, the event hub, loop detection, the scoped
 * environment a subagent gets, config validation, and the session's record
 * writer. `Session` itself is exported by `@forge/agent`.
 *
 * @module
 */
export {
  type SessionConfig,
  SessionError,
  type SessionErrorCode,
  validateConfig,
} from "./config.ts";
export { EventHub } from "./events.ts";
export { canonicalJson, detectLoop, toolCallSignature } from "./loop_detection.ts";
export { resolveIn, ScopedEnvironment } from "./scoped_env.ts";
export {
  type ChildSession,
  type ParentSession,
  SubagentManager,
  type SubagentManagerOptions,
  type SubagentResult,
} from "./subagents.ts";
export {
  type AgentRecordType,
  type SessionWriter,
  sessionWriter,
  type SessionWriterOptions,
} from "./persistence.ts";
