/**
 * How a session persists its records: through the turn store's record
 * writer (`@forge/turnstore/writer`), with the agent's registry bundle and
 * the agent's idempotency keys. The modes, retries, pipelining and chain
 * check are the writer's; see its module.
 *
 * @module
 */
import { RecordWriter, type RetryPolicy, type WriteBehindHold } from "@forge/turnstore/writer";
import type { ForgeStore } from "@forge/turnstore/contract";
import { agentIdempotencyKey } from "../keys.ts";
import {
  agentBundle,
  type AssistantTurn,
  type SessionLifecycle,
  type SteeringTurn,
  type SubagentClose,
  type SubagentSpawn,
  type SystemTurn,
  type ToolCallLifecycle,
  type ToolResultsTurn,
  type UserTurn,
} from "../records.ts";

export {
  DEFAULT_PIPELINE_WINDOW,
  DEFAULT_RETRY,
  DEFAULT_WRITE_BEHIND_HOLD,
  NO_HOLD,
  PERSISTENCE_MODES,
  PersistenceError,
  type PersistenceMode,
  type WriteBehindHold,
} from "@forge/turnstore/writer";

/** How failed writes are retried (the writer's {@link RetryPolicy}). */
export type PersistenceRetryPolicy = RetryPolicy;

/** The record types a session writes. */
export type AgentRecordType =
  | typeof UserTurn
  | typeof AssistantTurn
  | typeof ToolResultsTurn
  | typeof SystemTurn
  | typeof SteeringTurn
  | typeof SessionLifecycle
  | typeof ToolCallLifecycle
  | typeof SubagentSpawn
  | typeof SubagentClose;

/** A record writer of agent records. */
export type SessionWriter = RecordWriter<AgentRecordType>;

/** Options of {@link sessionWriter}. */
export interface SessionWriterOptions {
  /** The store; may be absent only in mode `off`. */
  readonly store?: ForgeStore;
  /** The mode. */
  readonly mode: "off" | "best_effort" | "required";
  /** The session whose records these are; part of every idempotency key. */
  readonly sessionId: string;
  /** Receives a failed write in mode `best_effort`. */
  readonly onWarning?: (message: string, error: unknown) => void;
  /** Retry policy; default the writer's. */
  readonly retry?: PersistenceRetryPolicy;
  /** Most writes in flight at once; default the writer's. */
  readonly pipelineWindow?: number;
  /** How long queued records may wait to reach the store together; default the writer's. */
  readonly hold?: WriteBehindHold;
}

/**
 * A writer for one session: publishes the agent bundle on open, and keys each
 * write `forge-agent:v1|<session>|<sequence>|<event>`. Call `open` (with
 * `forkFrom` for a subagent) before writing.
 */
export function sessionWriter(options: SessionWriterOptions): SessionWriter {
  const sessionId = options.sessionId;
  return new RecordWriter<AgentRecordType>({
    store: options.store,
    mode: options.mode,
    key: (sequence, event) => agentIdempotencyKey(sessionId, sequence, event),
    label: `session ${sessionId}`,
    bundle: agentBundle,
    onWarning: options.onWarning,
    retry: options.retry,
    pipelineWindow: options.pipelineWindow,
    hold: options.hold,
  });
}
