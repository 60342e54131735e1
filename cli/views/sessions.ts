/**
 * The agent sessions of a store, newest first, paged: one row per top-level
 * session (a session whose started record names no parent), with its
 * subagents counted. Built on the store's `listContexts`, so a page reads
 * only the contexts it lists (and the contexts in between that hold no
 * top-level session), each from its head back to its session's start.
 *
 * @module
 */
import type { ForgeStore, StoredTurn } from "@forge/turnstore";
import {
  agentCatalog,
  AssistantTurn,
  SessionLifecycle,
  SubagentSpawn,
  ToolCallLifecycle,
} from "@forge/agent/records";

/** One listed session. */
export interface SessionRow {
  /** The session id. */
  readonly sessionId: string;
  /** Its context (the listing cursor). */
  readonly contextId: string;
  /** The context's head. */
  readonly headTurnId: string;
  /** Turns the session wrote. */
  readonly turns: number;
  /** When it started (ms since the epoch). */
  readonly startedAt?: number;
  /** When it ended; absent while it runs. */
  readonly endedAt?: number;
  /** How it ended: completed, closed, aborted, error…; "running" while it runs. */
  readonly state: string;
  /** The model of its started record. */
  readonly model?: string;
  /** Subagents it spawned (direct children). */
  readonly subagents: number;
  /** Tool calls it started. */
  readonly toolCalls: number;
  /** Tokens of its model calls (input + output), from the usage they reported. */
  readonly tokens: number;
}

/** Options of {@link listSessions}. */
export interface ListSessionsOptions {
  /** Most sessions to return; default 20. */
  readonly limit?: number;
  /** List sessions in contexts older than this one (the last row's contextId). */
  readonly beforeContextId?: string;
}

/** A page of {@link listSessions}. */
export interface SessionPage {
  /** The sessions, newest first. */
  readonly sessions: SessionRow[];
  /** The cursor of the next page; undefined when this was the last one. */
  readonly nextBeforeContextId?: string;
}

const PAGE = 200;

/** Lists top-level agent sessions newest first. */
export async function listSessions(
  store: ForgeStore,
  options: ListSessionsOptions = {},
): Promise<SessionPage> {
  const limit = options.limit ?? 20;
  const sessions: SessionRow[] = [];
  let before = options.beforeContextId;
  for (;;) {
    const contexts = await store.listContexts({
      limit: Math.max(limit, 20),
      beforeContextId: before,
    });
    for (const ctx of contexts) {
      before = ctx.contextId;
      if (ctx.headDepth === 0) continue;
      const row = await summarize(store, ctx.contextId, ctx.headTurnId);
      if (row) sessions.push(row);
      if (sessions.length === limit) return { sessions, nextBeforeContextId: ctx.contextId };
    }
    if (contexts.length === 0) return { sessions };
  }
}

/**
 * The session that wrote a context's head, when it is a top-level agent
 * session. A session's turns are its `started` lifecycle record and every
 * turn after it in the context, so the context is read from the head back to
 * the newest `started` record; the turns before it are inherited.
 */
export async function summarize(
  store: ForgeStore,
  contextId: string,
  headTurnId: string,
): Promise<SessionRow | undefined> {
  let turns = 0, subagents = 0, toolCalls = 0, tokens = 0;
  let endedAt: number | undefined, finalState: string | undefined;
  let cursor: string | undefined;
  let first = true;
  for (;;) {
    const page: StoredTurn[] = await store.listTurns(contextId, {
      limit: PAGE,
      beforeTurnId: cursor,
    });
    if (page.length === 0) return undefined; // no started record: not a session context
    for (let i = page.length - 1; i >= 0; i--) {
      const turn = page[i];
      let value: Record<string, unknown> | undefined;
      try {
        value = agentCatalog.decode(turn)?.value;
      } catch {
        value = undefined;
      }
      if (first && !value) return undefined; // the head is not an agent record
      first = false;
      turns++;
      if (!value) continue;
      switch (turn.typeId) {
        case SessionLifecycle.typeId:
          if (value.kind === "started") {
            if (value.parentSessionId !== undefined) return undefined; // a subagent or a stage's
            return {
              sessionId: value.sessionId as string,
              contextId,
              headTurnId,
              turns,
              startedAt: value.at as number,
              endedAt,
              state: finalState ?? "running",
              model: value.model as string | undefined,
              subagents,
              toolCalls,
              tokens,
            };
          }
          endedAt ??= value.at as number;
          finalState ??= (value.finalState as string | undefined) ?? "ended";
          break;
        case SubagentSpawn.typeId:
          subagents++;
          break;
        case ToolCallLifecycle.typeId:
          if (value.kind === "started") toolCalls++;
          break;
        case AssistantTurn.typeId: {
          const usage = value.usage as { inputTokens: number; outputTokens: number } | undefined;
          if (usage) tokens += Number(usage.inputTokens) + Number(usage.outputTokens);
          break;
        }
      }
    }
    cursor = page[0].turnId;
  }
}
