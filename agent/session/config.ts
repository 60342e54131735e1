/**
 * Session configuration (coding-agent-loop spec §2.2) plus persistence, and
 * the errors a session throws on purpose.
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore/contract";
import type { ExecutionEnvironment } from "../env/types.ts";
import type { LlmProvider, ReasoningEffort } from "../llm/types.ts";
import type { ProviderProfile } from "../profiles/types.ts";
import type { PersistenceMode, PersistenceRetryPolicy, WriteBehindHold } from "./persistence.ts";

/** Everything a session needs; only `provider`, `profile` and `env` are required. */
export interface SessionConfig {
  /** The model provider (an adapter, or the scripted provider in tests). */
  readonly provider: LlmProvider;
  /** Tools, prompts and capabilities of the model family. */
  readonly profile: ProviderProfile;
  /** Where tools run. */
  readonly env: ExecutionEnvironment;
  /** The session id; default a random UUID. */
  readonly sessionId?: string;
  /** Most model calls over the whole session; 0 (default) = unlimited. */
  readonly maxModelCalls?: number;
  /** Most tool rounds per user input; 0 (default) = unlimited. */
  readonly maxToolRoundsPerInput?: number;
  /** Shell timeout when a call sets none; default the profile's, else 10 000 ms. */
  readonly defaultCommandTimeoutMs?: number;
  /** Upper bound of any shell timeout; default 600 000 ms. */
  readonly maxCommandTimeoutMs?: number;
  /** Reasoning effort sent with each request; null/absent = provider default. */
  readonly reasoningEffort?: ReasoningEffort | null;
  /** Character limits per tool name (overrides the spec defaults). */
  readonly toolOutputLimits?: Readonly<Record<string, number>>;
  /** Line limits per tool name (null removes a default limit). */
  readonly toolLineLimits?: Readonly<Record<string, number | null>>;
  /** Wall-clock limit per tool name; an expired call returns an error result. */
  readonly toolTimeoutsMs?: Readonly<Record<string, number>>;
  /** Warn the model when tool calls repeat a pattern; default true. */
  readonly enableLoopDetection?: boolean;
  /** How many recent tool calls loop detection looks at; default 10. */
  readonly loopDetectionWindow?: number;
  /** How deep subagents may nest; default 1 (a subagent cannot spawn another). */
  readonly maxSubagentDepth?: number;
  /** Instructions appended last to the system prompt. */
  readonly userInstructions?: string;
  /** Stream responses (text deltas); default the profile's `supportsStreaming`. */
  readonly streaming?: boolean;
  /**
   * When a text-only reply counts as a question to the user, putting the
   * session in `awaiting_input` (spec §2.3): by default when its last line
   * ends with a question mark; `false` never; or your own test.
   */
  readonly detectQuestions?: boolean | ((text: string) => boolean);
  /** The turn store; any ForgeStore. Required unless `persistence` is "off". */
  readonly store?: ForgeStore;
  /** How the store is used; default "off". */
  readonly persistence?: PersistenceMode;
  /**
   * Wait for each record to be stored before the loop goes on (default false:
   * records are queued in order and the loop waits for them at the end of
   * each input, so a successful submit means everything it did is stored).
   */
  readonly awaitEachWrite?: boolean;
  /**
   * Most record writes in flight at once (see persistence.ts); default 256 on
   * the memory, kv and fs backends, 1 on others.
   */
  readonly pipelineWindow?: number;
  /**
   * How long queued records may wait to reach the store together (see
   * persistence.ts); default 5 ms or 256 records when the window is above 1.
   * In mode `required` a failing store is noticed at most one hold after the
   * failing record, so the loop may take that much more work before it stops.
   */
  readonly writeBehindHold?: WriteBehindHold;
  /** Retry policy of failed writes (see persistence.ts). */
  readonly retry?: PersistenceRetryPolicy;
  /** Aborts the session: the current input stops and the session closes. */
  readonly signal?: AbortSignal;
  /** Set by the parent session on a subagent; not for hosts. */
  readonly origin?: SubagentOrigin;
}

/** Where a subagent session comes from. */
export interface SubagentOrigin {
  /** Nesting depth, 1 for a child of a top-level session. */
  readonly depth: number;
  /** The parent session. */
  readonly parentSessionId: string;
  /** The parent's turn the child's context forks from ("0" or absent: a fresh context). */
  readonly forkFromTurnId?: string;
}

/** Codes of {@link SessionError}. */
export type SessionErrorCode = "InvalidConfig" | "Busy" | "Closed";

/** A session refused a call: a bad configuration, a submit while busy, a closed session. */
export class SessionError extends Error {
  /** Stable, machine-readable code. */
  readonly code: SessionErrorCode;

  /** Creates the error; the message names what was wrong. */
  constructor(code: SessionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "SessionError";
  }
}

/** Checks the numeric settings of a config; throws InvalidConfig naming the first bad one. */
export function validateConfig(config: SessionConfig): void {
  const fail = (what: string): never => {
    throw new SessionError("InvalidConfig", `session config: ${what}`);
  };
  if (!config || typeof config !== "object") fail("must be an object");
  if (!config.provider || typeof config.provider.complete !== "function") {
    fail("provider must be an LlmProvider");
  }
  if (!config.profile || !config.profile.toolRegistry) fail("profile must be a ProviderProfile");
  if (!config.env || typeof config.env.workingDirectory !== "function") {
    fail("env must be an ExecutionEnvironment");
  }
  const counts = [
    ["maxModelCalls", config.maxModelCalls],
    ["maxToolRoundsPerInput", config.maxToolRoundsPerInput],
    ["maxSubagentDepth", config.maxSubagentDepth],
  ] as const;
  for (const [name, value] of counts) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      fail(`${name} must be an integer of 0 or more, got ${value}`);
    }
  }
  const positive = [
    ["loopDetectionWindow", config.loopDetectionWindow],
    ["defaultCommandTimeoutMs", config.defaultCommandTimeoutMs],
    ["maxCommandTimeoutMs", config.maxCommandTimeoutMs],
  ] as const;
  for (const [name, value] of positive) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      fail(`${name} must be a positive integer, got ${value}`);
    }
  }
  const effort = config.reasoningEffort;
  if (effort !== undefined && effort !== null && !["low", "medium", "high"].includes(effort)) {
    fail(`reasoningEffort must be "low", "medium", "high" or null, got ${JSON.stringify(effort)}`);
  }
  const mode = config.persistence ?? "off";
  if (!["off", "best_effort", "required"].includes(mode)) {
    fail(`persistence must be "off", "best_effort" or "required", got ${JSON.stringify(mode)}`);
  }
  if (mode !== "off" && !config.store) fail(`persistence "${mode}" needs a store`);
}
