/**
 * Earlier versions of the agent's records, frozen as they were written, so
 * that stores written before the current versions still decode (the CLI
 * shows them, `readSession` reads them). They are in `agentCatalog` but never
 * written, and not in `agentBundle`: the bundle published with them already
 * describes them. Do not edit: a published (type id, version) is immutable.
 *
 * What changed since: transcript turns 3 → 4, lifecycles 2 → 3,
 * subagent_spawn 2 → 3 and subagent_close 1 → 2 dropped `sessionId` (but on
 * the session lifecycle) and `sequenceNo`, which restated the context and
 * the depth.
 *
 * @module
 */
import {
  defineEnum,
  defineRecord,
  defineStruct,
  f,
  type RecordType,
} from "@forge/turnstore/records";

// The enums and structs those versions reference, with the same names and values.
const SteeringSource = defineEnum("forge.agent.SteeringSource", { host: 1, loop_detection: 2 });
const SessionLifecycleKind = defineEnum("forge.agent.SessionLifecycleKind", {
  started: 1,
  ended: 2,
});
const SessionFinalState = defineEnum("forge.agent.SessionFinalState", {
  closed: 1,
  aborted: 2,
  failed: 3,
});
const ToolCallLifecycleKind = defineEnum("forge.agent.ToolCallLifecycleKind", {
  started: 1,
  ended: 2,
});
const SubagentStatus = defineEnum("forge.link.SubagentStatus", {
  completed: 1,
  failed: 2,
  closed: 3,
});
const ToolCallEntry = defineStruct({
  typeId: "forge.agent.ToolCall",
  fields: { callId: f.string(1), name: f.string(2), arguments: f.json(3) },
});
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
const ToolResultEntry = defineStruct({
  typeId: "forge.agent.ToolResult",
  fields: { callId: f.string(1), toolName: f.string(2), content: f.string(3), isError: f.bool(4) },
});

const transcript = () => ({ sessionId: f.string(1), sequenceNo: f.u64(4), at: f.unixMs(10) });

/** Every earlier version the agent wrote, for decoding only. */
export const EARLIER_AGENT_RECORD_TYPES: readonly RecordType[] = [
  defineRecord({
    typeId: "forge.agent.user_turn",
    version: 3,
    fields: { ...transcript(), content: f.string(11) },
  }),
  defineRecord({
    typeId: "forge.agent.assistant_turn",
    version: 3,
    fields: {
      ...transcript(),
      text: f.string(11),
      toolCalls: f.structs(12, ToolCallEntry),
      reasoning: f.string(13).optional(),
      usage: f.struct(14, UsageEntry).optional(),
      responseId: f.string(15).optional(),
      model: f.string(16).optional(),
      finishReason: f.string(17).optional(),
    },
  }),
  defineRecord({
    typeId: "forge.agent.tool_results_turn",
    version: 3,
    fields: { ...transcript(), results: f.structs(11, ToolResultEntry) },
  }),
  defineRecord({
    typeId: "forge.agent.system_turn",
    version: 3,
    fields: { ...transcript(), content: f.string(11) },
  }),
  defineRecord({
    typeId: "forge.agent.steering_turn",
    version: 3,
    fields: { ...transcript(), content: f.string(11), source: f.enum(12, SteeringSource) },
  }),
  defineRecord({
    typeId: "forge.agent.session_lifecycle",
    version: 2,
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
      parentSessionId: f.string(17).optional(),
      error: f.string(18).optional(),
    },
  }),
  defineRecord({
    typeId: "forge.agent.tool_call_lifecycle",
    version: 2,
    fields: {
      sessionId: f.string(1),
      callId: f.string(4),
      toolName: f.string(5),
      isError: f.bool(8).optional(),
      sequenceNo: f.u64(9),
      kind: f.enum(14, ToolCallLifecycleKind),
      at: f.unixMs(15),
      arguments: f.json(16).optional(),
      output: f.string(17).optional(),
      durationMs: f.durationMs(18).optional(),
    },
  }),
  defineRecord({
    typeId: "forge.link.subagent_spawn",
    version: 2,
    fields: {
      sessionId: f.string(1),
      sequenceNo: f.u64(4),
      at: f.unixMs(10),
      forkedFromTurnId: f.id(11),
      childContextId: f.id(12),
      childSessionId: f.string(13),
      subagentId: f.string(14),
      subagentDepth: f.u32(15),
      task: f.string(16),
      workingDir: f.string(17).optional(),
      model: f.string(18).optional(),
    },
  }),
  defineRecord({
    typeId: "forge.link.subagent_close",
    version: 1,
    fields: {
      sessionId: f.string(1),
      sequenceNo: f.u64(4),
      at: f.unixMs(10),
      subagentId: f.string(11),
      childContextId: f.id(12),
      childSessionId: f.string(13),
      status: f.enum(14, SubagentStatus),
      childHeadTurnId: f.id(15).optional(),
      output: f.string(16).optional(),
      modelCallsUsed: f.u32(17, { wireName: "turns_used" }),
    },
  }),
];
