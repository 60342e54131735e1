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
 * The model layer (`llm/`), the tools (`tools/`) and the execution
 * environments (`env/`) are re-exported. Where the model layer and the tool
 * registry use the same name, the model layer's type keeps it (`ToolCall`,
 * `ToolDefinition`) and the registry's is exported as `RegistryToolCall` and
 * `RegistryToolDefinition`.
 *
 * @module
 */

export * from "./llm/mod.ts";
export * from "./tools/mod.ts";
export * from "./env/mod.ts";
export type { ToolCall, ToolDefinition } from "./llm/mod.ts";
export type {
  ToolCall as RegistryToolCall,
  ToolDefinition as RegistryToolDefinition,
} from "./tools/mod.ts";

// The turn store's types appear in this package's signatures (stores, record
// codecs, ids), so they are re-exported, as types only.
export type {
  AppendedTurn,
  AppendTurnInput,
  BlobStore,
  BundleField,
  BundleTypeVersion,
  ContextHead,
  ContextId,
  CreateContextOptions,
  ForgeStore,
  ListTurnsOptions,
  PublishBundleResult,
  PutBlobResult,
  RegistryBundle,
  StoredTurn,
  TurnId,
  TurnStore,
  TypedTurnStore,
} from "@forge/turnstore/contract";
export type {
  DecodedRecord,
  EnumType,
  FieldEntry,
  FieldMeta,
  ItemWire,
  RecordCatalog,
  RecordCodec,
  StructLike,
  WireType,
} from "@forge/turnstore/records";

export * from "./records.ts";
export * from "./keys.ts";
export * from "./query.ts";
export * from "./session/config.ts";
export * from "./session/events.ts";
export * from "./session/persistence.ts";
export {
  type HistoryTurn,
  Session,
  type SessionState,
  type SubmitResult,
} from "./session/session.ts";
export {
  type ChildSession,
  type ParentSession,
  SubagentManager,
  type SubagentManagerOptions,
  type SubagentResult,
} from "./session/subagents.ts";
export { canonicalJson, detectLoop, toolCallSignature } from "./session/loop_detection.ts";
export { resolveIn, ScopedEnvironment } from "./session/scoped_env.ts";
export type { ProviderProfile } from "./profiles/types.ts";
export { createProfile, type ProfileSpec } from "./profiles/profile.ts";
export {
  anthropicProfile,
  geminiProfile,
  openaiProfile,
  type ProfileOptions,
} from "./profiles/providers.ts";
export { listDirTool, readManyFilesTool } from "./profiles/gemini_tools.ts";
export * from "./prompt/environment.ts";
export * from "./prompt/project_docs.ts";
export * from "./prompt/system_prompt.ts";
