/**
 * The typed records an agent session appends to a turn store, defined once
 * with the turn store's record DSL. Type ids are those of the Rust Forge, so
 * either project can read the other's traces through a CXDB server; versions
 * and tags are chosen so that our bundle is accepted beside the one the Rust
 * Forge registered (see {@link RUST_FORGE_AGENT_TAGS}).
 *
 * Lineage (context, parent, depth, append time) lives in the turn DAG, never
 * in a payload. Payload fields hold domain data, plus `sessionId` and
 * `sequenceNo`: the join keys that tell which session wrote a turn when a
 * subagent's context is a fork that shares its parent's history.
 *
 * @module
 */
import {
  buildBundle,
  defineEnum,
  defineRecord,
  defineStruct,
  f,
  RecordCatalog,
  type RecordValue,
  type RegistryBundle,
  type StructLike,
} from "@forge/turnstore";

/** Id of the registry bundle that describes every record below. */
export const AGENT_BUNDLE_ID = "forge.agent.runtime.deno.v3";

/** Version of the transcript turn types (the Rust Forge registered 2). */
export const TRANSCRIPT_VERSION = 3;
/** Version of the lifecycle types (the Rust Forge registered 1). */
export const LIFECYCLE_VERSION = 2;
/** Version of forge.link.subagent_spawn (the Rust Forge wrote 1 without registering it). */
export const SUBAGENT_SPAWN_VERSION = 2;

// Tags shared with the Rust Forge's transcript v2 (same name, same wire type):
// 1 session_id string, 4 sequence_no u64. Every typed field of ours starts at
// tag 10, above the tags the Rust Forge gave other wire types.
const common = {
  sessionId: f.string(1, { doc: "the session that wrote this turn" }),
  sequenceNo: f.u64(4, {
    doc: "position of the write in its session; part of the idempotency key",
  }),
  at: f.unixMs(10, { doc: "when the session produced the turn" }),
};

/** The user's input to a session. */
export const UserTurn = defineRecord({
  typeId: "forge.agent.user_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11) },
});

/** A tool call the model asked for. */
export const ToolCallEntry = defineStruct({
  typeId: "forge.agent.ToolCall",
  fields: {
    callId: f.string(1),
    name: f.string(2),
    arguments: f.json(3, { doc: "the arguments as JSON text" }),
  },
});

/** Token counts of one model call. */
export const UsageEntry = defineStruct({
  typeId: "forge.agent.Usage",
  fields: {
    inputTokens: f.u64(1),
    outputTokens: f.u64(2),
    totalTokens: f.u64(3),
    reasoningTokens: f.u64(4).optional(),
    cacheReadTokens: f.u64(5).optional(),
    cacheWriteTokens: f.u64(6).optional(),
  },
});

/** One model response: text, tool calls, reasoning summary and usage. */
export const AssistantTurn = defineRecord({
  typeId: "forge.agent.assistant_turn",
  version: TRANSCRIPT_VERSION,
  fields: {
    ...common,
    text: f.string(11),
    toolCalls: f.structs(12, ToolCallEntry),
    reasoning: f.string(13).optional(),
    usage: f.struct(14, UsageEntry).optional(),
    responseId: f.string(15).optional(),
    model: f.string(16).optional(),
    finishReason: f.string(17).optional(),
  },
});

/** The result of one tool call, as the model saw it (truncated). */
export const ToolResultEntry = defineStruct({
  typeId: "forge.agent.ToolResult",
  fields: {
    callId: f.string(1),
    toolName: f.string(2),
    content: f.string(3, { doc: "what the model received, after truncation" }),
    isError: f.bool(4),
  },
});

/** The results of one round of tool calls. */
export const ToolResultsTurn = defineRecord({
  typeId: "forge.agent.tool_results_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, results: f.structs(11, ToolResultEntry) },
});

/** A notice the session itself adds to the history (a limit was hit, the input was aborted). */
export const SystemTurn = defineRecord({
  typeId: "forge.agent.system_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11) },
});

/** Where a steering message came from. */
export const SteeringSource = defineEnum("forge.agent.SteeringSource", {
  host: 1,
  loop_detection: 2,
});

/** A message injected between tool rounds. */
export const SteeringTurn = defineRecord({
  typeId: "forge.agent.steering_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11), source: f.enum(12, SteeringSource) },
});

/** Session lifecycle kinds. */
export const SessionLifecycleKind = defineEnum("forge.agent.SessionLifecycleKind", {
  started: 1,
  ended: 2,
});

/** The state a session ended in. */
export const SessionFinalState = defineEnum("forge.agent.SessionFinalState", {
  closed: 1,
  aborted: 2,
  failed: 3,
});

// Rust v1: 1 session_id string, 2 kind string, 3 timestamp string, 4 final_state
// string, 5 sequence_no u64, 6..9 thread key and fs snapshot. Ours keeps 1 and 5
// and starts its typed fields at 10.
/** A session started or ended. */
export const SessionLifecycle = defineRecord({
  typeId: "forge.agent.session_lifecycle",
  version: LIFECYCLE_VERSION,
  fields: {
    sessionId: f.string(1),
    sequenceNo: f.u64(5),
    kind: f.enum(10, SessionLifecycleKind),
    at: f.unixMs(11),
    finalState: f.enum(12, SessionFinalState).optional(),
    profileId: f.string(13).optional(),
    model: f.string(14).optional(),
    workingDir: f.string(15).optional(),
    subagentDepth: f.u32(16).optional(),
    parentSessionId: f.string(17, { doc: "set on a subagent's session" }).optional(),
    error: f.string(18).optional(),
  },
});

/** Tool call lifecycle kinds. */
export const ToolCallLifecycleKind = defineEnum("forge.agent.ToolCallLifecycleKind", {
  started: 1,
  ended: 2,
});

// Rust v1: 1 session_id, 2 kind string, 3 timestamp string, 4 call_id string,
// 5 tool_name string, 6 arguments any, 7 output any, 8 is_error bool,
// 9 sequence_no u64, 10..13 thread key and fs snapshot. Ours keeps 1, 4, 5, 8
// and 9 and starts its typed fields at 14.
/** A tool call started (with its arguments) or ended (with its full output). */
export const ToolCallLifecycle = defineRecord({
  typeId: "forge.agent.tool_call_lifecycle",
  version: LIFECYCLE_VERSION,
  fields: {
    sessionId: f.string(1),
    callId: f.string(4),
    toolName: f.string(5),
    isError: f.bool(8).optional(),
    sequenceNo: f.u64(9),
    kind: f.enum(14, ToolCallLifecycleKind),
    at: f.unixMs(15),
    arguments: f.json(16).optional(),
    output: f.string(17, { doc: "the full, untruncated output" }).optional(),
    durationMs: f.durationMs(18).optional(),
  },
});

/** Written on the parent's context when a subagent is spawned. */
export const SubagentSpawn = defineRecord({
  typeId: "forge.link.subagent_spawn",
  version: SUBAGENT_SPAWN_VERSION,
  fields: {
    sessionId: f.string(1, { doc: "the parent session" }),
    sequenceNo: f.u64(4),
    at: f.unixMs(10),
    parentTurnId: f.id(11, { doc: "the parent's turn the child context forks from" }),
    childContextId: f.id(12),
    childSessionId: f.string(13),
    subagentId: f.string(14),
    depth: f.u32(15, { doc: "1 for a child of a top-level session" }),
    task: f.string(16),
    workingDir: f.string(17).optional(),
    model: f.string(18).optional(),
  },
});

/** How a subagent ended. */
export const SubagentStatus = defineEnum("forge.link.SubagentStatus", {
  completed: 1,
  failed: 2,
  closed: 3,
});

/** Written on the parent's context when a subagent is closed. */
export const SubagentClose = defineRecord({
  typeId: "forge.link.subagent_close",
  version: 1,
  fields: {
    sessionId: f.string(1, { doc: "the parent session" }),
    sequenceNo: f.u64(4),
    at: f.unixMs(10),
    subagentId: f.string(11),
    childContextId: f.id(12),
    childSessionId: f.string(13),
    status: f.enum(14, SubagentStatus),
    childHeadTurnId: f.id(15, { doc: "the child's last turn at close" }).optional(),
    output: f.string(16).optional(),
    turnsUsed: f.u32(17),
  },
});

/** Every record type of an agent session. */
export const AGENT_RECORD_TYPES: readonly StructLike[] = [
  SessionLifecycle,
  UserTurn,
  AssistantTurn,
  ToolResultsTurn,
  SystemTurn,
  SteeringTurn,
  ToolCallLifecycle,
  SubagentSpawn,
  SubagentClose,
];

/** Decodes stored agent turns by (type id, version). */
export const agentCatalog: RecordCatalog = new RecordCatalog(AGENT_RECORD_TYPES);

/** The registry bundle of every agent record, published when persistence is on. */
export function agentRegistryBundle(): RegistryBundle {
  return buildBundle(AGENT_BUNDLE_ID, AGENT_RECORD_TYPES);
}

/**
 * The tag table of the Rust Forge's agent bundle (`forge.agent.runtime.v2`):
 * type id → version → tag → [name, wire type]. Kept to prove, in a test, that
 * our bundle is accepted by a registry that already holds theirs.
 */
export const RUST_FORGE_AGENT_TAGS: Readonly<
  Record<string, { version: number; tags: Record<number, readonly [string, string]> }>
> = (() => {
  const turn = {
    1: ["session_id", "string"],
    2: ["timestamp", "string"],
    3: ["turn", "any"],
    4: ["sequence_no", "u64"],
    5: ["thread_key", "string"],
    6: ["fs_root_hash", "string"],
    7: ["snapshot_policy_id", "string"],
    8: ["snapshot_stats", "any"],
  } as const;
  return {
    "forge.agent.user_turn": { version: 2, tags: turn },
    "forge.agent.assistant_turn": { version: 2, tags: turn },
    "forge.agent.tool_results_turn": { version: 2, tags: turn },
    "forge.agent.system_turn": { version: 2, tags: turn },
    "forge.agent.steering_turn": { version: 2, tags: turn },
    "forge.agent.session_lifecycle": {
      version: 1,
      tags: {
        1: ["session_id", "string"],
        2: ["kind", "string"],
        3: ["timestamp", "string"],
        4: ["final_state", "string"],
        5: ["sequence_no", "u64"],
        6: ["thread_key", "string"],
        7: ["fs_root_hash", "string"],
        8: ["snapshot_policy_id", "string"],
        9: ["snapshot_stats", "any"],
      },
    },
    "forge.agent.tool_call_lifecycle": {
      version: 1,
      tags: {
        1: ["session_id", "string"],
        2: ["kind", "string"],
        3: ["timestamp", "string"],
        4: ["call_id", "string"],
        5: ["tool_name", "string"],
        6: ["arguments", "any"],
        7: ["output", "any"],
        8: ["is_error", "bool"],
        9: ["sequence_no", "u64"],
        10: ["thread_key", "string"],
        11: ["fs_root_hash", "string"],
        12: ["snapshot_policy_id", "string"],
        13: ["snapshot_stats", "any"],
      },
    },
  };
})();

/** The value type of a user turn. */
export type UserTurnValue = RecordValue<typeof UserTurn>;
/** The value type of an assistant turn. */
export type AssistantTurnValue = RecordValue<typeof AssistantTurn>;
/** The value type of a tool results turn. */
export type ToolResultsTurnValue = RecordValue<typeof ToolResultsTurn>;
/** The value type of a system turn. */
export type SystemTurnValue = RecordValue<typeof SystemTurn>;
/** The value type of a steering turn. */
export type SteeringTurnValue = RecordValue<typeof SteeringTurn>;
/** The value type of a session lifecycle record. */
export type SessionLifecycleValue = RecordValue<typeof SessionLifecycle>;
/** The value type of a tool call lifecycle record. */
export type ToolCallLifecycleValue = RecordValue<typeof ToolCallLifecycle>;
/** The value type of a subagent spawn link. */
export type SubagentSpawnValue = RecordValue<typeof SubagentSpawn>;
/** The value type of a subagent close link. */
export type SubagentCloseValue = RecordValue<typeof SubagentClose>;
