/**
 * The typed records an agent session appends to a turn store, defined once
 * with the turn store's record DSL. Type ids are those of the Rust Forge, so
 * either project can read the other's traces through a CXDB server; versions
 * and tags are chosen so that our bundle is accepted beside the one the Rust
 * Forge registered (see {@link RUST_FORGE_AGENT_TAGS}).
 *
 * Lineage (context, parent, depth, append time) lives in the turn DAG, never
 * in a payload, and no payload restates it: no write counter, no session id
 * on every turn. A session's turns are its `session_lifecycle` started record
 * (which carries the session id) and every turn after it in its context; the
 * turns before it are the history a subagent's forked context shares with its
 * parent. The links carry the ids that join contexts (child context, child
 * session, the turn a child forks from).
 *
 * @module
 */
import {
  contentAddressedBundle,
  defineEnum,
  defineStruct,
  type EnumType,
  f,
  RecordCatalog,
  type RecordType,
  type RegistryBundle,
  typedRecord,
} from "@forge/turnstore/records";
import { EARLIER_AGENT_RECORD_TYPES } from "./records_earlier.ts";

/**
 * Prefix of the registry bundle id; the id ends with a digest of the content,
 * so a changed record set never collides with a published bundle.
 */
export const AGENT_BUNDLE_PREFIX = "forge.agent.runtime.deno";

/**
 * Version of the transcript turn types. The Rust Forge registered 2; 3 added
 * typed fields and kept its `session_id` (1) and `sequence_no` (4); 4 drops
 * those two, which restated the context and the depth.
 */
export const TRANSCRIPT_VERSION = 4;
/**
 * Version of the lifecycle types (the Rust Forge registered 1; 2 was typed;
 * 3 drops `sequence_no`, and `session_id` from the tool call lifecycle).
 */
export const LIFECYCLE_VERSION = 3;
/**
 * Version of forge.link.subagent_spawn (the Rust Forge wrote 1 without
 * registering it; 3 drops the parent's `session_id` and `sequence_no`).
 */
export const SUBAGENT_SPAWN_VERSION = 3;
/** Version of forge.link.subagent_close (2 drops the parent's `session_id` and `sequence_no`). */
export const SUBAGENT_CLOSE_VERSION = 2;

/** Fields of every transcript turn. */
export interface TranscriptFields {
  /** When the session produced the turn, ms since the epoch. */
  at: number;
}

// Tags 1..9 are left unused: the Rust Forge gave them other wire types (and
// versions 2 and 3 used 1 and 4 for the session id and write number, which a
// tag keeps forever). Every field of ours starts at tag 10.
const common = {
  at: f.unixMs(10, { doc: "when the session produced the turn" }),
};

/** A user turn. */
export interface UserTurnValue extends TranscriptFields {
  /** The input. */
  content: string;
}

/** The user's input to a session. */
export const UserTurn: RecordType<UserTurnValue> = typedRecord<UserTurnValue>()({
  typeId: "forge.agent.user_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11) },
});

/** A tool call the model asked for. */
export interface ToolCallEntryValue {
  /** The model's id for the call. */
  callId: string;
  /** The tool. */
  name: string;
  /** The arguments as JSON text. */
  arguments: string;
}

const ToolCallEntry = defineStruct({
  typeId: "forge.agent.ToolCall",
  fields: {
    callId: f.string(1),
    name: f.string(2),
    arguments: f.json(3, { doc: "the arguments as JSON text" }),
  },
});

/** Token counts of one model call. */
export interface UsageValue {
  /** Prompt tokens. */
  inputTokens: number;
  /** Generated tokens. */
  outputTokens: number;
  /** Both. */
  totalTokens: number;
  /** Reasoning tokens, when reported. */
  reasoningTokens?: number;
  /** Prompt tokens read from the cache. */
  cacheReadTokens?: number;
  /** Prompt tokens written to the cache. */
  cacheWriteTokens?: number;
}

const UsageEntry = defineStruct({
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

/**
 * A part of a model response beyond text, tool calls and reasoning: a tool
 * the provider ran itself (web search, code execution, MCP…), its result, or
 * a part of a type the model layer does not model, kept verbatim.
 */
export interface ResponsePartEntryValue {
  /** "server_tool_call", "server_tool_result" or "provider". */
  kind: string;
  /** The provider that produced it. */
  provider: string;
  /** The tool (calls), the result type (results) or the provider's part type. */
  name: string;
  /** The call id (calls) or the id of the call answered (results). */
  callId?: string;
  /** The provider's item or block as received, as JSON text. */
  raw: string;
}

const ResponsePartEntry = defineStruct({
  typeId: "forge.agent.ResponsePart",
  fields: {
    kind: f.string(1),
    provider: f.string(2),
    name: f.string(3),
    callId: f.string(4).optional(),
    raw: f.json(5, { doc: "the provider's item or block as JSON text" }),
  },
});

/** An assistant turn. */
export interface AssistantTurnValue extends TranscriptFields {
  /** The text the model produced. */
  text: string;
  /** The tool calls it asked for. */
  toolCalls: ToolCallEntryValue[];
  /** Its reasoning summary, when the provider gave one. */
  reasoning?: string;
  /** Token counts. */
  usage?: UsageValue;
  /** The provider's response id. */
  responseId?: string;
  /** The model that answered. */
  model?: string;
  /** Why generation stopped. */
  finishReason?: string;
  /** Server-side tool calls and results, and parts of types not modelled, in order. */
  parts?: ResponsePartEntryValue[];
}

/** One model response: text, tool calls, reasoning summary and usage. */
export const AssistantTurn: RecordType<AssistantTurnValue> = typedRecord<AssistantTurnValue>()({
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
    parts: f.structs(18, ResponsePartEntry).optional(),
  },
});

/** The result of one tool call, as the model saw it. */
export interface ToolResultEntryValue {
  /** The call it answers. */
  callId: string;
  /** The tool. */
  toolName: string;
  /** What the model received, after truncation. */
  content: string;
  /** Whether the call failed. */
  isError: boolean;
}

const ToolResultEntry = defineStruct({
  typeId: "forge.agent.ToolResult",
  fields: {
    callId: f.string(1),
    toolName: f.string(2),
    content: f.string(3, { doc: "what the model received, after truncation" }),
    isError: f.bool(4),
  },
});

/** A tool results turn. */
export interface ToolResultsTurnValue extends TranscriptFields {
  /** One result per call, in call order. */
  results: ToolResultEntryValue[];
}

/** The results of one round of tool calls. */
export const ToolResultsTurn: RecordType<ToolResultsTurnValue> = typedRecord<
  ToolResultsTurnValue
>()({
  typeId: "forge.agent.tool_results_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, results: f.structs(11, ToolResultEntry) },
});

/** A system turn. */
export interface SystemTurnValue extends TranscriptFields {
  /** The notice. */
  content: string;
}

/** A notice the session itself adds to the history (a limit was hit, an input was aborted). */
export const SystemTurn: RecordType<SystemTurnValue> = typedRecord<SystemTurnValue>()({
  typeId: "forge.agent.system_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11) },
});

/** Where a steering message came from. */
export type SteeringSourceLabel = "host" | "loop_detection";

/** Where a steering message came from, on the wire. */
export const SteeringSource: EnumType<SteeringSourceLabel> = defineEnum(
  "forge.agent.SteeringSource",
  { host: 1, loop_detection: 2 },
);

/** A steering turn. */
export interface SteeringTurnValue extends TranscriptFields {
  /** The message. */
  content: string;
  /** Who injected it. */
  source: SteeringSourceLabel;
}

/** A message injected between tool rounds. */
export const SteeringTurn: RecordType<SteeringTurnValue> = typedRecord<SteeringTurnValue>()({
  typeId: "forge.agent.steering_turn",
  version: TRANSCRIPT_VERSION,
  fields: { ...common, content: f.string(11), source: f.enum(12, SteeringSource) },
});

/** Session lifecycle kinds. */
export const SessionLifecycleKind: EnumType<"started" | "ended"> = defineEnum(
  "forge.agent.SessionLifecycleKind",
  { started: 1, ended: 2 },
);

/** The state a session ended in. */
export type SessionFinalStateLabel = "closed" | "aborted" | "failed";

/** The state a session ended in, on the wire. */
export const SessionFinalState: EnumType<SessionFinalStateLabel> = defineEnum(
  "forge.agent.SessionFinalState",
  { closed: 1, aborted: 2, failed: 3 },
);

/** A session lifecycle record. */
export interface SessionLifecycleValue {
  /** The session: what readers attribute the turns after the started record to. */
  sessionId: string;
  /** Started or ended. */
  kind: "started" | "ended";
  /** When, ms since the epoch. */
  at: number;
  /** How it ended (ended only). */
  finalState?: SessionFinalStateLabel;
  /** Provider profile id (started only). */
  profileId?: string;
  /** Model (started only). */
  model?: string;
  /** Working directory (started only). */
  workingDir?: string;
  /** Nesting depth, 0 for a top-level session (started only). */
  subagentDepth?: number;
  /** The parent session, for a subagent (started only). */
  parentSessionId?: string;
  /** Why it failed (ended only). */
  error?: string;
  /** The OS sandbox the tools run in: "bwrap" or "none" (started only). */
  sandbox?: "bwrap" | "none";
  /** Where the file tools run (started only). */
  fileTools?: "sandbox" | "deno-permissions" | "unconfined";
  /** Whether the shell is offered and how it is confined (started only). */
  shell?: "sandbox" | "unconfined" | "unavailable";
  /** Network of the file side and the shell (started only). */
  network?: "none" | "allowed-hosts" | "host";
  /** Hosts web_fetch may reach, when network is "allowed-hosts" (started only). */
  allowedHosts?: string[];
}

/** The OS sandbox a session's tools run in. */
export const SandboxKind: EnumType<"bwrap" | "none"> = defineEnum("forge.agent.SandboxKind", {
  bwrap: 1,
  none: 2,
});

/** Where a session's file tools run. */
export const FileToolConfinement: EnumType<"sandbox" | "deno-permissions" | "unconfined"> =
  defineEnum("forge.agent.FileToolConfinement", {
    sandbox: 1,
    "deno-permissions": 2,
    unconfined: 3,
  });

/** Whether a session offers a shell, and how it is confined. */
export const ShellConfinement: EnumType<"sandbox" | "unconfined" | "unavailable"> = defineEnum(
  "forge.agent.ShellConfinement",
  { sandbox: 1, unconfined: 2, unavailable: 3 },
);

/** A session's network reach. */
export const NetworkReach: EnumType<"none" | "allowed-hosts" | "host"> = defineEnum(
  "forge.agent.NetworkReach",
  { none: 1, "allowed-hosts": 2, host: 3 },
);

// Rust v1: 1 session_id string, 2 kind string, 3 timestamp string, 4 final_state
// string, 5 sequence_no u64, 6..9 thread key and fs snapshot. Ours keeps 1 (the
// session's identity) and starts its typed fields at 10; 5 stays unused.
/** A session started or ended. */
export const SessionLifecycle: RecordType<SessionLifecycleValue> = typedRecord<
  SessionLifecycleValue
>()({
  typeId: "forge.agent.session_lifecycle",
  version: LIFECYCLE_VERSION,
  fields: {
    sessionId: f.string(1, { doc: "the session; its turns are this record and those after it" }),
    kind: f.enum(10, SessionLifecycleKind),
    at: f.unixMs(11),
    finalState: f.enum(12, SessionFinalState).optional(),
    profileId: f.string(13).optional(),
    model: f.string(14).optional(),
    workingDir: f.string(15).optional(),
    subagentDepth: f.u32(16).optional(),
    parentSessionId: f.string(17, { doc: "set on a subagent's session" }).optional(),
    error: f.string(18).optional(),
    sandbox: f.enum(19, SandboxKind).optional(),
    fileTools: f.enum(20, FileToolConfinement).optional(),
    shell: f.enum(21, ShellConfinement, {
      doc: '"unconfined" only when the user opted in to a shell without an OS sandbox',
    }).optional(),
    network: f.enum(22, NetworkReach).optional(),
    allowedHosts: f.array(23, "string").optional(),
  },
});

/** Tool call lifecycle kinds. */
export const ToolCallLifecycleKind: EnumType<"started" | "ended"> = defineEnum(
  "forge.agent.ToolCallLifecycleKind",
  { started: 1, ended: 2 },
);

/** A tool call lifecycle record. */
export interface ToolCallLifecycleValue {
  /** The model's id for the call. */
  callId: string;
  /** The tool. */
  toolName: string;
  /** Whether it failed (ended only). */
  isError?: boolean;
  /** Started or ended. */
  kind: "started" | "ended";
  /** When, ms since the epoch. */
  at: number;
  /** Arguments as JSON text (started only). */
  arguments?: string;
  /** The full, untruncated output (ended only). */
  output?: string;
  /** Wall-clock duration (ended only). */
  durationMs?: number;
}

// Rust v1: 1 session_id, 2 kind string, 3 timestamp string, 4 call_id string,
// 5 tool_name string, 6 arguments any, 7 output any, 8 is_error bool,
// 9 sequence_no u64, 10..13 thread key and fs snapshot. Ours keeps 4, 5 and 8
// and starts its typed fields at 14; 1 and 9 stay unused.
/** A tool call started (with its arguments) or ended (with its full output). */
export const ToolCallLifecycle: RecordType<ToolCallLifecycleValue> = typedRecord<
  ToolCallLifecycleValue
>()({
  typeId: "forge.agent.tool_call_lifecycle",
  version: LIFECYCLE_VERSION,
  fields: {
    callId: f.string(4),
    toolName: f.string(5),
    isError: f.bool(8).optional(),
    kind: f.enum(14, ToolCallLifecycleKind),
    at: f.unixMs(15),
    arguments: f.json(16).optional(),
    output: f.string(17, { doc: "the full, untruncated output" }).optional(),
    durationMs: f.durationMs(18).optional(),
  },
});

/** A subagent spawn link. */
export interface SubagentSpawnValue {
  /** When, ms since the epoch. */
  at: number;
  /** The parent's turn the child context forks from. */
  forkedFromTurnId: string;
  /** The child's context. */
  childContextId: string;
  /** The child's session. */
  childSessionId: string;
  /** The id the parent's tools use for the child. */
  subagentId: string;
  /** Nesting depth, 1 for a child of a top-level session. */
  subagentDepth: number;
  /** The task given to the child. */
  task: string;
  /** Its working directory, when scoped. */
  workingDir?: string;
  /** Its model, when overridden. */
  model?: string;
}

/** Written on the parent's context when a subagent is spawned. */
export const SubagentSpawn: RecordType<SubagentSpawnValue> = typedRecord<SubagentSpawnValue>()({
  typeId: "forge.link.subagent_spawn",
  version: SUBAGENT_SPAWN_VERSION,
  fields: {
    at: f.unixMs(10),
    forkedFromTurnId: f.id(11, { doc: "the parent's turn the child context forks from" }),
    childContextId: f.id(12),
    childSessionId: f.string(13),
    subagentId: f.string(14),
    subagentDepth: f.u32(15, { doc: "1 for a child of a top-level session" }),
    task: f.string(16),
    workingDir: f.string(17).optional(),
    model: f.string(18).optional(),
  },
});

/** How a subagent ended. */
export type SubagentStatusLabel = "completed" | "failed" | "closed";

/** How a subagent ended, on the wire. */
export const SubagentStatus: EnumType<SubagentStatusLabel> = defineEnum(
  "forge.link.SubagentStatus",
  { completed: 1, failed: 2, closed: 3 },
);

/** A subagent close link. */
export interface SubagentCloseValue {
  /** When, ms since the epoch. */
  at: number;
  /** The id the parent's tools used. */
  subagentId: string;
  /** The child's context. */
  childContextId: string;
  /** The child's session. */
  childSessionId: string;
  /** How it ended. */
  status: SubagentStatusLabel;
  /** The child's last stored turn at close. */
  childHeadTurnId?: string;
  /** Its last output. */
  output?: string;
  /** Model calls it made. */
  modelCallsUsed: number;
}

/** Written on the parent's context when a subagent is closed. */
export const SubagentClose: RecordType<SubagentCloseValue> = typedRecord<SubagentCloseValue>()({
  typeId: "forge.link.subagent_close",
  version: SUBAGENT_CLOSE_VERSION,
  fields: {
    at: f.unixMs(10),
    subagentId: f.string(11),
    childContextId: f.id(12),
    childSessionId: f.string(13),
    status: f.enum(14, SubagentStatus),
    childHeadTurnId: f.id(15, { doc: "the child's last turn at close" }).optional(),
    output: f.string(16).optional(),
    modelCallsUsed: f.u32(17, { wireName: "turns_used" }),
  },
});

/** Every record type of an agent session. */
export const AGENT_RECORD_TYPES: readonly RecordType[] = [
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

/**
 * Decodes stored agent turns by (type id, version): the current versions, and
 * the earlier ones (`records_earlier.ts`) so older stores still read.
 */
export const agentCatalog: RecordCatalog = new RecordCatalog([
  ...AGENT_RECORD_TYPES,
  ...EARLIER_AGENT_RECORD_TYPES,
]);

/** The registry bundle of every agent record, published when persistence is on. */
export const agentBundle: RegistryBundle = contentAddressedBundle(
  AGENT_BUNDLE_PREFIX,
  AGENT_RECORD_TYPES,
);

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

// The idempotency-key format of these records.
export { AGENT_KEY_NAMESPACE, agentIdempotencyKey } from "./keys.ts";
