/**
 * Reads an agent session back from a turn store alone: its transcript, its
 * tool calls (arguments, full output, timing) and its subagents, recursively,
 * found through the `forge.link.subagent_spawn` records on the parent's
 * context. Works on any backend, since it only uses the turn store contract.
 *
 * A subagent's context is a fork of its parent's turn at spawn, so its
 * history starts with the parent's turns. A session's own turns are its
 * `session_lifecycle` started record and every turn after it in its context
 * (nothing else writes there), so the reader needs no join key on each turn:
 * the turns before the started record are inherited and not even decoded.
 *
 * @module
 */
import {
  InvalidInputError,
  type StoredTurn,
  type TurnId,
  type TurnStore,
  walkHistory,
} from "@forge/turnstore/contract";
import {
  agentCatalog,
  AssistantTurn,
  type AssistantTurnValue,
  SessionLifecycle,
  type SessionLifecycleValue,
  SteeringTurn,
  type SteeringTurnValue,
  SubagentClose,
  type SubagentCloseValue,
  SubagentSpawn,
  type SubagentSpawnValue,
  SystemTurn,
  ToolCallLifecycle,
  type ToolCallLifecycleValue,
  ToolResultsTurn,
  type ToolResultsTurnValue,
  UserTurn,
} from "./records.ts";

/** Where a transcript entry is stored. */
export interface EntryPosition {
  /** The turn that holds it. */
  readonly turnId: TurnId;
  /** That turn's depth in its context (the store's, not a payload field). */
  readonly depth: number;
  /** When the session produced it (ms since the epoch). */
  readonly at: number;
}

/** One entry of a session's conversation history, in order. */
export type TranscriptEntry =
  | EntryPosition & { readonly kind: "user"; readonly content: string }
  | EntryPosition & {
    readonly kind: "assistant";
    readonly text: string;
    readonly toolCalls: AssistantTurnValue["toolCalls"];
    readonly reasoning?: string;
    readonly usage?: AssistantTurnValue["usage"];
    readonly responseId?: string;
    readonly model?: string;
    readonly finishReason?: string;
    /** Server-side tool calls and results and parts of unknown types, when the response had any. */
    readonly parts?: AssistantTurnValue["parts"];
  }
  | EntryPosition & {
    readonly kind: "tool_results";
    readonly results: ToolResultsTurnValue["results"];
  }
  | EntryPosition & { readonly kind: "system"; readonly content: string }
  | EntryPosition & {
    readonly kind: "steering";
    readonly content: string;
    readonly source: SteeringTurnValue["source"];
  };

/** A tool call, joined from its started and ended records. */
export interface ToolCallView {
  /** The model's id for the call. */
  readonly callId: string;
  /** The tool. */
  readonly toolName: string;
  /** The arguments as JSON text. */
  readonly arguments?: string;
  /** The full, untruncated output; absent while the call has not ended. */
  readonly output?: string;
  /** Whether the call failed. */
  readonly isError?: boolean;
  /** Wall-clock duration. */
  readonly durationMs?: number;
  /** When it started. */
  readonly startedAt?: number;
  /** When it ended. */
  readonly endedAt?: number;
  /** The turn of the started record. */
  readonly startedTurnId?: TurnId;
  /** The turn of the ended record. */
  readonly endedTurnId?: TurnId;
}

/** A subagent, from its spawn (and close) link records. */
export interface SubagentView {
  /** The id the parent's tools use. */
  readonly agentId: string;
  /** The child's session id. */
  readonly childSessionId: string;
  /** The child's context: a fork of `forkedFromTurnId`. */
  readonly childContextId: string;
  /** The parent's turn the child context forks from. */
  readonly forkedFromTurnId: TurnId;
  /** The turn of the spawn link record on the parent's context. */
  readonly spawnTurnId: TurnId;
  /** Nesting depth (1 for a child of a top-level session). */
  readonly depth: number;
  /** The task it was given. */
  readonly task: string;
  /** How it ended; absent while it has not been closed. */
  readonly status?: SubagentCloseValue["status"];
  /** Its final output, when closed. */
  readonly output?: string;
  /** Model calls it made, when closed. */
  readonly modelCallsUsed?: number;
  /** The turn of the close link record. */
  readonly closeTurnId?: TurnId;
  /** The child session, read recursively (absent beyond `maxDepth`). */
  readonly session?: SessionView;
}

/** Everything a store holds about one session. */
export interface SessionView {
  /** The session. */
  readonly sessionId: string;
  /** Its context. */
  readonly contextId: string;
  /** The context's head when read. */
  readonly headTurnId: TurnId;
  /** When it started, from its lifecycle record. */
  readonly startedAt?: number;
  /** When it ended; absent while it runs (or if the end was never stored). */
  readonly endedAt?: number;
  /** How it ended. */
  readonly finalState?: SessionLifecycleValue["finalState"];
  /** Provider profile id. */
  readonly profileId?: string;
  /** Model. */
  readonly model?: string;
  /** The parent session, for a subagent. */
  readonly parentSessionId?: string;
  /** The conversation, oldest first. */
  readonly transcript: readonly TranscriptEntry[];
  /** Tool calls in the order they started. */
  readonly toolCalls: readonly ToolCallView[];
  /** Subagents in the order they were spawned. */
  readonly subagents: readonly SubagentView[];
  /** Turns of the context before the session started (a fork's inherited history). */
  readonly inheritedTurns: number;
  /** Turns of this session whose type the agent catalog does not know. */
  readonly unknownTurns: number;
}

/** Options of {@link readSession}. */
export interface ReadSessionOptions {
  /** The session to read; default: the last session that started in the context. */
  readonly sessionId?: string;
  /** How many levels of subagents to read; default unlimited. */
  readonly maxDepth?: number;
  /** Stops the read between pages. */
  readonly signal?: AbortSignal;
}

/** The whole history of a context, oldest first. */
async function readHistory(
  store: TurnStore,
  contextId: string,
  signal?: AbortSignal,
): Promise<StoredTurn[]> {
  const pages: StoredTurn[][] = [];
  for await (const page of walkHistory(store, contextId, { signal })) pages.push(page);
  return pages.reverse().flat();
}

/**
 * The session's started record: the last one in the history, or the last one
 * of `sessionId`. Only lifecycle records are decoded, newest first.
 */
function findStart(
  history: readonly StoredTurn[],
  sessionId: string | undefined,
): { index: number; sessionId: string } | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const turn = history[i];
    if (turn.typeId !== SessionLifecycle.typeId) continue;
    const record = decode(turn);
    if (!record || record.value.kind !== "started") continue;
    const id = record.value.sessionId as string;
    if (sessionId === undefined || id === sessionId) return { index: i, sessionId: id };
  }
  return undefined;
}

function decode(turn: StoredTurn): { typeId: string; value: Record<string, unknown> } | undefined {
  try {
    const decoded = agentCatalog.decode(turn);
    return decoded && { typeId: turn.typeId, value: decoded.value };
  } catch (error) {
    throw new InvalidInputError(
      `turn ${turn.turnId} (${turn.typeId} v${turn.typeVersion}) does not decode: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/**
 * Reads the session stored in `contextId` and, recursively, its subagents.
 * Throws NotFound for an unknown context and InvalidInput when the context
 * holds no agent session or a turn does not decode.
 */
export async function readSession(
  store: TurnStore,
  contextId: string,
  options: ReadSessionOptions = {},
): Promise<SessionView> {
  const head = await store.getHead(contextId);
  const history = await readHistory(store, contextId, options.signal);
  const start = findStart(history, options.sessionId);
  if (!start) {
    const which = options.sessionId === undefined
      ? "no agent session"
      : `no agent session ${options.sessionId}`;
    throw new InvalidInputError(
      `context ${contextId} holds ${which} (no ${SessionLifecycle.typeId} started record)`,
    );
  }
  const { index: startIndex, sessionId } = start;
  const view = {
    sessionId,
    contextId,
    headTurnId: head.headTurnId,
    transcript: [] as TranscriptEntry[],
    toolCalls: [] as ToolCallView[],
    subagents: [] as SubagentView[],
    inheritedTurns: startIndex,
    unknownTurns: 0,
  } as
    & {
      -readonly [K in keyof SessionView]: SessionView[K];
    }
    & { transcript: TranscriptEntry[]; toolCalls: ToolCallView[]; subagents: SubagentView[] };
  const calls = new Map<string, ToolCallView>();
  const spawns = new Map<string, SubagentView>();

  for (let i = startIndex; i < history.length; i++) {
    const turn = history[i];
    const record = decode(turn);
    if (!record) {
      view.unknownTurns++;
      continue;
    }
    const v = record.value;
    const pos = { turnId: turn.turnId, depth: turn.depth, at: v.at as number };
    switch (record.typeId) {
      case SessionLifecycle.typeId: {
        const life = v as unknown as SessionLifecycleValue;
        if (life.kind === "started") {
          view.startedAt = life.at;
          view.profileId = life.profileId;
          view.model = life.model;
          view.parentSessionId = life.parentSessionId;
        } else {
          view.endedAt = life.at;
          view.finalState = life.finalState;
        }
        break;
      }
      case UserTurn.typeId:
        view.transcript.push({ ...pos, kind: "user", content: v.content as string });
        break;
      case SystemTurn.typeId:
        view.transcript.push({ ...pos, kind: "system", content: v.content as string });
        break;
      case SteeringTurn.typeId: {
        const s = v as unknown as SteeringTurnValue;
        view.transcript.push({ ...pos, kind: "steering", content: s.content, source: s.source });
        break;
      }
      case AssistantTurn.typeId: {
        const a = v as unknown as AssistantTurnValue;
        view.transcript.push({
          ...pos,
          kind: "assistant",
          text: a.text,
          toolCalls: a.toolCalls,
          reasoning: a.reasoning,
          usage: a.usage,
          responseId: a.responseId,
          model: a.model,
          finishReason: a.finishReason,
          ...(a.parts === undefined ? {} : { parts: a.parts }),
        });
        break;
      }
      case ToolResultsTurn.typeId:
        view.transcript.push({
          ...pos,
          kind: "tool_results",
          results: (v as unknown as ToolResultsTurnValue).results,
        });
        break;
      case ToolCallLifecycle.typeId: {
        const t = v as unknown as ToolCallLifecycleValue;
        const prior = calls.get(t.callId);
        if (t.kind === "started") {
          const call: ToolCallView = {
            ...prior,
            callId: t.callId,
            toolName: t.toolName,
            arguments: t.arguments,
            startedAt: t.at,
            startedTurnId: turn.turnId,
          };
          calls.set(t.callId, call);
        } else {
          calls.set(t.callId, {
            ...prior,
            callId: t.callId,
            toolName: t.toolName,
            output: t.output,
            isError: t.isError,
            durationMs: t.durationMs,
            endedAt: t.at,
            endedTurnId: turn.turnId,
          });
        }
        break;
      }
      case SubagentSpawn.typeId: {
        const s = v as unknown as SubagentSpawnValue;
        spawns.set(s.subagentId, {
          agentId: s.subagentId,
          childSessionId: s.childSessionId,
          childContextId: s.childContextId,
          forkedFromTurnId: s.forkedFromTurnId,
          spawnTurnId: turn.turnId,
          depth: s.subagentDepth,
          task: s.task,
        });
        break;
      }
      case SubagentClose.typeId: {
        const c = v as unknown as SubagentCloseValue;
        const prior = spawns.get(c.subagentId);
        if (prior) {
          spawns.set(c.subagentId, {
            ...prior,
            status: c.status,
            output: c.output,
            modelCallsUsed: c.modelCallsUsed,
            closeTurnId: turn.turnId,
          });
        }
        break;
      }
    }
  }
  view.toolCalls = [...calls.values()];
  const maxDepth = options.maxDepth ?? Infinity;
  for (const sub of spawns.values()) {
    if (sub.depth > maxDepth) {
      view.subagents.push(sub);
      continue;
    }
    const session = await readSession(store, sub.childContextId, {
      sessionId: sub.childSessionId,
      maxDepth,
      signal: options.signal,
    });
    view.subagents.push({ ...sub, session });
  }
  return view;
}

/** Flattens a session tree: the session, then each subagent's tree, depth first. */
export function* walkSessionTree(view: SessionView): Generator<SessionView> {
  yield view;
  for (const sub of view.subagents) if (sub.session) yield* walkSessionTree(sub.session);
}
