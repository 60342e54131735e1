/**
 * Reading runs back from a store, over typed records (each turn decoded by
 * its record type; never by re-parsing a JSON envelope). Everything is paged
 * from the head of a run's context backwards, so a 10,000-stage run is never
 * loaded whole: a page costs at most `limit` decoded turns plus the one page
 * of the store it ends in.
 *
 * ```ts
 * import { latestCheckpoint, readRun, stageTimeline } from "@forge/attractor";
 * const run = await readRun(store, contextId);
 * const page = await stageTimeline(store, contextId, { limit: 50 });
 * const older = await stageTimeline(store, contextId, { limit: 50, before: page.nextCursor });
 * ```
 *
 * @module
 */
import type { ForgeStore, StoredTurn } from "@forge/turnstore";
import { readSession, type SessionView } from "@forge/agent";
import {
  attractorCatalog,
  type CheckpointRecordValue,
  type InterviewLifecycleV3Value,
  type RouteDecisionV3Value,
  type RunLifecycleV3Value,
  type StageLifecycleV3Value,
  type StageToAgentLinkValue,
} from "./records.ts";
import { type Checkpoint, CheckpointError, parseCheckpoint } from "./engine/checkpoint.ts";
import {
  chainedStateHash,
  type CheckpointChain,
  checkpointStateJson,
} from "./persist/checkpoint_state.ts";
import { applyCheckpointDelta } from "./persist/checkpoint_delta.ts";

/** One decoded pipeline turn. */
export interface RunRecordEntry {
  /** The turn. */
  readonly turnId: string;
  /** Its record type id. */
  readonly typeId: string;
  /** Its record type version. */
  readonly typeVersion: number;
  /** The decoded value. */
  readonly value: Record<string, unknown>;
}

/** A page of results, newest first; pass `nextCursor` as `before` for the next (older) page. */
export interface Page<T> {
  /** The items, newest first. */
  readonly items: readonly T[];
  /** Cursor of the next older page; absent when this was the last. */
  readonly nextCursor?: string;
}

/** Paging options. */
export interface PageOptions {
  /** Items per page (default 100, at most 10,000). */
  readonly limit?: number;
  /** Start before this cursor (a turn id from `nextCursor`). */
  readonly before?: string;
}

const STORE_PAGE = 200;
const FIRST_PAGE = 16;

/**
 * Every pipeline record of a context, newest first, decoded; stops when the
 * caller stops. Turns of other families (none on a run context) are skipped,
 * and with `typeId` every turn of another type (before it is decoded).
 */
export async function* scanRunRecords(
  store: ForgeStore,
  contextId: string,
  options: {
    before?: string;
    typeId?: string;
    /** How many turns to list in the next (older) page; default 200. */
    nextPage?: () => number;
  } = {},
): AsyncGenerator<RunRecordEntry> {
  let before = options.before;
  // The first page is small: most readers (the latest checkpoint, a run's
  // status) stop within a few turns of the head.
  let limit = FIRST_PAGE;
  while (true) {
    const turns: StoredTurn[] = await store.listTurns(contextId, {
      limit,
      beforeTurnId: before,
    });
    if (turns.length === 0) return;
    // listTurns pages oldest-first within a page; walk it newest-first.
    for (let i = turns.length - 1; i >= 0; i--) {
      const turn = turns[i];
      if (options.typeId !== undefined && turn.typeId !== options.typeId) continue;
      const decoded = attractorCatalog.decode(turn);
      if (!decoded) continue;
      yield {
        turnId: turn.turnId,
        typeId: turn.typeId,
        typeVersion: turn.typeVersion,
        value: decoded.value,
      };
    }
    before = turns[0].turnId;
    if (turns.length < limit) return;
    limit = Math.max(1, Math.min(STORE_PAGE, options.nextPage?.() ?? STORE_PAGE));
  }
}

async function page<T>(
  store: ForgeStore,
  contextId: string,
  options: PageOptions,
  pick: (entry: RunRecordEntry) => T | undefined,
): Promise<Page<T>> {
  const limit = Math.min(Math.max(1, options.limit ?? 100), 10_000);
  const items: T[] = [];
  for await (const entry of scanRunRecords(store, contextId, { before: options.before })) {
    const item = pick(entry);
    if (item === undefined) continue;
    items.push(item);
    if (items.length === limit) return { items, nextCursor: entry.turnId };
  }
  return { items };
}

/** The latest checkpoint of a run context, with the DOT source hash it names. */
export interface StoredCheckpoint {
  /** The checkpoint, whole (a delta record's applied to the full state before it). */
  readonly checkpoint: Checkpoint;
  /** The checkpoint record (version 3, 4 or 5; only version 5 may be a delta). */
  readonly record: CheckpointRecordValue;
  /** Its turn. */
  readonly turnId: string;
  /** Where the record chain stands, so a resumed run's next checkpoint may be a delta. */
  readonly chain: CheckpointChain;
}

const CHECKPOINT_TYPE_ID = "forge.attractor.checkpoint_saved";

/**
 * Longest delta chain a reader follows back to its full state: the writer
 * puts a full state every `CHECKPOINT_FULL_EVERY` deltas, so a longer
 * one means a damaged context, not a slow read.
 */
const MAX_DELTA_CHAIN = 4096;

/** Whether a decoded turn is a checkpoint record of a version this reader knows (3, 4 or 5). */
export function isCheckpointRecord(entry: Pick<RunRecordEntry, "typeId" | "typeVersion">): boolean {
  return entry.typeId === CHECKPOINT_TYPE_ID &&
    (entry.typeVersion === 3 || entry.typeVersion === 4 || entry.typeVersion === 5);
}

/**
 * The newest checkpoint of a context, or undefined when none was written
 * yet. A version 5 delta is read back to the newest full state before it
 * (at most `CHECKPOINT_FULL_EVERY` records), and the deltas are checked
 * against their chained hashes and applied oldest first; a broken chain is a
 * {@link CheckpointError} naming the checkpoint, never a wrong state.
 */
export async function latestCheckpoint(
  store: ForgeStore,
  contextId: string,
): Promise<StoredCheckpoint | undefined> {
  const deltas: { record: CheckpointRecordValue; turnId: string }[] = [];
  // Past the first page, list about as many turns as the rest of the chain
  // spans (a stage writes ~4 records), not a full store page.
  const nextPage = () =>
    deltas.length === 0
      ? STORE_PAGE
      : 8 + 6 * ((deltas[0].record.deltaDepth ?? 0) - deltas.length + 1);
  const scan = scanRunRecords(store, contextId, { typeId: CHECKPOINT_TYPE_ID, nextPage });
  for await (const entry of scan) {
    if (!isCheckpointRecord(entry)) continue;
    const record = entry.value as unknown as CheckpointRecordValue;
    if (record.stateDelta !== undefined) {
      deltas.push({ record, turnId: entry.turnId });
      if (deltas.length > MAX_DELTA_CHAIN) break;
      continue;
    }
    const full = `checkpoint ${record.checkpointId}`;
    const json = await checkpointStateJson(store, record);
    let state: object = parseCheckpoint(parseStateJson(json, full), full);
    let hash = record.stateHash;
    for (let i = deltas.length - 1; i >= 0; i--) {
      state = applyStoredDelta(state, hash, deltas[i].record);
      hash = deltas[i].record.stateHash;
    }
    const newest = deltas[0] ?? { record, turnId: entry.turnId };
    return {
      checkpoint: parseCheckpoint(state, `checkpoint ${newest.record.checkpointId}`),
      record: newest.record,
      turnId: newest.turnId,
      chain: {
        stateHash: hash,
        deltaDepth: newest.record.deltaDepth ?? 0,
        fullStateBytes: json.length,
        checkpointId: newest.record.checkpointId,
      },
    };
  }
  if (deltas.length > 0) {
    const newest = deltas[0].record;
    throw new CheckpointError(
      `checkpoint ${newest.checkpointId} of run ${newest.runId}: no full state precedes its ` +
        `${deltas.length} delta(s) in context ${contextId}`,
    );
  }
  return undefined;
}

function parseStateJson(json: string, where: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new CheckpointError(`${where}: its state is not JSON (${(error as Error).message})`);
  }
}

/** Checks a delta record against its base's state hash and applies it. */
function applyStoredDelta(
  state: object,
  baseHash: string,
  record: CheckpointRecordValue,
): object {
  const where = `checkpoint ${record.checkpointId} of run ${record.runId}`;
  if (record.baseStateHash !== baseHash) {
    throw new CheckpointError(
      `${where}: its delta applies to state ${String(record.baseStateHash).slice(0, 12)}…, ` +
        `but the checkpoint before it is ${baseHash.slice(0, 12)}…`,
    );
  }
  if (chainedStateHash(baseHash, record.stateDelta!) !== record.stateHash) {
    throw new CheckpointError(`${where}: its delta does not match its state hash`);
  }
  return applyCheckpointDelta(state, parseStateJson(record.stateDelta!, where), where);
}

/** What a run context says about its run. */
export interface RunInfo {
  /** The store context of the attempt. */
  readonly contextId: string;
  /** The run id. */
  readonly runId: string;
  /** The pipeline (digraph id). */
  readonly graphId: string;
  /** The attempt of the restart lineage. */
  readonly lineageAttempt: number;
  /** `running` (or interrupted), `waiting`, or the final status. */
  readonly status: string;
  /** Why it failed. */
  readonly failureReason?: string;
  /** The last completed node. */
  readonly currentNode: string;
  /** Where it resumes. */
  readonly nextNode?: string;
  /**
   * The checkpoint's `stage_index`: stage executions on this attempt's own
   * context so far, the start node included and parallel branches' stages
   * not (the index the next one gets). No count of the run's stages: a stage
   * retried or visited again runs more than once, and a branch's runs in its
   * own context.
   */
  readonly stageIndex: number;
  /**
   * @deprecated use stageIndex (the same value). Named `stageCount` until it
   * was renamed for what it is; no count of the run's stages.
   */
  readonly stageCount: number;
  /** The DOT source blob. */
  readonly dotSourceHash: string;
  /** When the latest checkpoint was taken. */
  readonly updatedAt: number;
}

/** Run metadata from the latest checkpoint (one page from the head). */
export async function readRun(store: ForgeStore, contextId: string): Promise<RunInfo | undefined> {
  const latest = await latestCheckpoint(store, contextId);
  if (!latest) return undefined;
  const c = latest.checkpoint;
  return {
    contextId,
    runId: c.run_id,
    graphId: latest.record.graphId,
    lineageAttempt: c.lineage_attempt,
    status: c.final_status ?? (c.waiting_on ? "waiting" : "running"),
    failureReason: c.failure_reason,
    currentNode: c.current_node,
    nextNode: c.next_node,
    stageIndex: c.stage_index,
    stageCount: c.stage_index,
    dotSourceHash: latest.record.dotSourceHash,
    updatedAt: latest.record.at,
  };
}

/** Run ids of contexts: which of `contextIds` are pipeline runs, with their metadata. */
export async function listRuns(
  store: ForgeStore,
  contextIds: Iterable<string>,
): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  for (const id of contextIds) {
    const info = await readRun(store, id).catch(() => undefined);
    if (info) out.push(info);
  }
  return out;
}

/** One stage attempt in the timeline. */
export interface StageAttemptView {
  /** The node. */
  readonly nodeId: string;
  /** The attempt id. */
  readonly stageAttemptId: string;
  /** Attempt number. */
  readonly attempt: number;
  /** Position of the stage in the run. */
  readonly stageIndex: number;
  /** The handler type. */
  readonly handlerType?: string;
  /** completed, failed, retrying, or started (still running or interrupted). */
  readonly state: "started" | "completed" | "failed" | "retrying";
  /** The outcome status. */
  readonly status?: string;
  /** Why it failed. */
  readonly failureReason?: string;
  /** Notes. */
  readonly notes?: string;
  /** When it started (Unix ms). */
  readonly startedAt?: number;
  /** When it ended. */
  readonly endedAt?: number;
  /** How long it ran. */
  readonly durationMs?: number;
  /** Backoff before the next attempt. */
  readonly delayMs?: number;
  /** Tokens. */
  readonly usage?: {
    inputTokens?: number;
    outputTokens?: number;
    totalTokens?: number;
    costMicroUsd?: number;
  };
  /** The `started` turn (agent contexts fork from it). */
  readonly startedTurnId?: string;
  /** The ending turn. */
  readonly endedTurnId?: string;
}

/**
 * The stage timeline, newest attempt first, paged. An attempt whose end and
 * start fall on two sides of a page boundary is completed from the next
 * turns before the page is returned.
 */
export async function stageTimeline(
  store: ForgeStore,
  contextId: string,
  options: PageOptions = {},
): Promise<Page<StageAttemptView>> {
  const limit = Math.min(Math.max(1, options.limit ?? 100), 10_000);
  const open = new Map<string, StageAttemptView>();
  const items: StageAttemptView[] = [];
  for await (const entry of scanRunRecords(store, contextId, { before: options.before })) {
    if (entry.typeId !== "forge.attractor.stage_lifecycle" || entry.typeVersion !== 3) continue;
    const r = entry.value as unknown as StageLifecycleV3Value;
    if (r.kind !== "started") {
      if (items.length >= limit) continue;
      const view: StageAttemptView = {
        nodeId: r.nodeId,
        stageAttemptId: r.stageAttemptId,
        attempt: r.attempt,
        stageIndex: r.stageIndex,
        handlerType: r.handlerType,
        state: r.kind,
        status: r.status,
        failureReason: r.failureReason,
        notes: r.notes,
        endedAt: r.at,
        durationMs: r.durationMs,
        delayMs: r.delayMs,
        usage: r.totalTokens === undefined ? undefined : {
          inputTokens: r.inputTokens,
          outputTokens: r.outputTokens,
          totalTokens: r.totalTokens,
          costMicroUsd: r.costMicroUsd,
        },
        endedTurnId: entry.turnId,
      };
      items.push(view);
      open.set(r.stageAttemptId, view);
      continue;
    }
    const ended = open.get(r.stageAttemptId);
    if (ended) {
      items[items.indexOf(ended)] = { ...ended, startedAt: r.at, startedTurnId: entry.turnId };
      open.delete(r.stageAttemptId);
    } else if (items.length < limit) {
      items.push({
        nodeId: r.nodeId,
        stageAttemptId: r.stageAttemptId,
        attempt: r.attempt,
        stageIndex: r.stageIndex,
        handlerType: r.handlerType,
        state: "started",
        startedAt: r.at,
        startedTurnId: entry.turnId,
      });
    }
    if (items.length >= limit && open.size === 0) {
      return { items, nextCursor: entry.turnId };
    }
  }
  return { items };
}

/** Route decisions, newest first. */
export function routeDecisions(
  store: ForgeStore,
  contextId: string,
  options: PageOptions = {},
): Promise<Page<RouteDecisionV3Value & { turnId: string }>> {
  return page(
    store,
    contextId,
    options,
    (e) =>
      e.typeId === "forge.attractor.route_decision" && e.typeVersion === 3
        ? { ...(e.value as unknown as RouteDecisionV3Value), turnId: e.turnId }
        : undefined,
  );
}

/** Interview records (questions, answers, timeouts), newest first. */
export function interviews(
  store: ForgeStore,
  contextId: string,
  options: PageOptions = {},
): Promise<Page<InterviewLifecycleV3Value & { turnId: string }>> {
  return page(
    store,
    contextId,
    options,
    (e) =>
      e.typeId === "forge.attractor.interview_lifecycle" && e.typeVersion === 3
        ? { ...(e.value as unknown as InterviewLifecycleV3Value), turnId: e.turnId }
        : undefined,
  );
}

/** Run lifecycle records (initialized, resumed, finalized), newest first. */
export function runLifecycle(
  store: ForgeStore,
  contextId: string,
  options: PageOptions = {},
): Promise<Page<RunLifecycleV3Value & { turnId: string }>> {
  return page(
    store,
    contextId,
    options,
    (e) =>
      e.typeId === "forge.attractor.run_lifecycle"
        ? { ...(e.value as unknown as RunLifecycleV3Value), turnId: e.turnId }
        : undefined,
  );
}

/**
 * The run directory the run in `contextId` last wrote to, as its newest
 * `initialized` or `resumed` lifecycle record names it; undefined for a run
 * recorded before records named it. Reads the context back to that record
 * (a run that never resumed: to its start).
 */
export async function recordedRunDirectory(
  store: ForgeStore,
  contextId: string,
): Promise<string | undefined> {
  for await (const e of scanRunRecords(store, contextId, { typeId: RUN_LIFECYCLE_TYPE_ID })) {
    const runDir = (e.value as unknown as RunLifecycleV3Value).runDir;
    if (runDir !== undefined) return runDir;
  }
  return undefined;
}

const RUN_LIFECYCLE_TYPE_ID = "forge.attractor.run_lifecycle";

/** Links from stages to the agent sessions that ran them, newest first. */
export function stageAgentLinks(
  store: ForgeStore,
  contextId: string,
  options: PageOptions = {},
): Promise<Page<StageToAgentLinkValue & { turnId: string }>> {
  return page(
    store,
    contextId,
    options,
    (e) =>
      e.typeId === "forge.link.stage_to_agent"
        ? { ...(e.value as unknown as StageToAgentLinkValue), turnId: e.turnId }
        : undefined,
  );
}

/**
 * Drill-down: the agent session (transcript and tool calls, via the agent's
 * `readSession`) that ran a stage attempt; undefined when the stage had none.
 */
export async function stageAgentSession(
  store: ForgeStore,
  contextId: string,
  stageAttemptId: string,
): Promise<{ link: StageToAgentLinkValue; session: SessionView } | undefined> {
  for await (const entry of scanRunRecords(store, contextId)) {
    if (entry.typeId !== "forge.link.stage_to_agent") continue;
    const link = entry.value as unknown as StageToAgentLinkValue;
    if (link.stageAttemptId !== stageAttemptId) continue;
    return { link, session: await readSession(store, link.agentContextId) };
  }
  return undefined;
}
