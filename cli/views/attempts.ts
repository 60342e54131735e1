/**
 * The attempts of a run. A `loop_restart` ends a run's attempt and starts the
 * next in a new store context; nothing in the store points from one attempt's
 * context to the next's, but every attempt records the run id and its number
 * in the lineage (its checkpoints, and the run lifecycle record that ends a
 * restarted attempt). So the attempts of a run are found by reading the root
 * contexts around the one given, newest first, until attempt 1 (and, when
 * the given one was restarted, the attempt that was not) is found.
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore";
import { scanRunRecords } from "@forge/attractor/engine";
import { readRunOrSkip, statusLabel } from "./runs.ts";

/** One attempt of a run's restart lineage. */
export interface RunAttempt {
  /** Its store context. */
  readonly contextId: string;
  /** Its number in the lineage (1 for the first). */
  readonly attempt: number;
  /** How it ended: `restarted`, or the run's status (`succeeded`, `failed`, `waiting`, …). */
  readonly ended: string;
  /** A restarted attempt's restart: the node the next attempt started at. */
  readonly restartTarget?: string;
  /** A restarted attempt's restart: why (`loop_restart from <node>`). */
  readonly restartReason?: string;
}

/** The run id and attempt a context holds, or undefined when it holds no run. */
interface Held extends RunAttempt {
  readonly runId: string;
}

/** What the newest records of `contextId` say of its run attempt. */
async function heldAttempt(store: ForgeStore, contextId: string): Promise<Held | undefined> {
  for await (const e of scanRunRecords(store, contextId)) {
    // A restarted attempt ends with its lifecycle record naming the restart (and may hold no
    // checkpoint at all: a restart straight from its first stage saves none).
    if (
      e.typeId === "forge.attractor.run_lifecycle" && e.value.kind === "finalized" &&
      e.value.restartTarget !== undefined
    ) {
      return {
        runId: String(e.value.runId),
        contextId,
        attempt: Number(e.value.lineageAttempt),
        ended: "restarted",
        restartTarget: String(e.value.restartTarget),
        restartReason: e.value.reason === undefined ? undefined : String(e.value.reason),
      };
    }
    break;
  }
  const info = await readRunOrSkip(store, contextId);
  if (!info) return undefined;
  return {
    runId: info.runId,
    contextId,
    attempt: info.lineageAttempt || 1,
    ended: statusLabel(info.status),
  };
}

/**
 * Every attempt of the run held by `contextId`, oldest first (that one
 * included); undefined when the context holds no run. A run never restarted
 * is one attempt. At most `maxContexts` other contexts are read.
 */
export async function runAttempts(
  store: ForgeStore,
  contextId: string,
  maxContexts = 100_000,
): Promise<RunAttempt[] | undefined> {
  const given = await heldAttempt(store, contextId);
  if (!given) return undefined;
  const found = new Map<number, RunAttempt>([[given.attempt, strip(given)]]);
  const restarted = given.ended === "restarted";
  if (given.attempt === 1 && !restarted) return [...found.values()];
  // Later attempts are in newer contexts: start at the newest when the given one was restarted.
  let before = restarted ? undefined : contextId;
  let newestFound = !restarted;
  for (let seen = 0; seen < maxContexts;) {
    const contexts = await store.listContexts({ limit: 200, beforeContextId: before });
    if (contexts.length === 0) break;
    for (const ctx of contexts) {
      before = ctx.contextId;
      seen++;
      if (ctx.contextId === contextId || ctx.headDepth === 0) continue;
      // Forks (agent sessions, parallel branches) repeat their run's records: not attempts.
      if (ctx.baseTurnId !== undefined && ctx.baseTurnId !== "0") continue;
      const held = await heldAttempt(store, ctx.contextId);
      if (!held || held.runId !== given.runId || found.has(held.attempt)) continue;
      // Newer than the given attempt: only its later attempts; older: only its earlier ones.
      const newer = compareContextIds(ctx.contextId, contextId) > 0;
      if (newer ? held.attempt < given.attempt : held.attempt > given.attempt) continue;
      found.set(held.attempt, strip(held));
      if (held.ended !== "restarted") newestFound = true;
    }
    if (found.has(1) && newestFound) break;
  }
  return [...found.values()].sort((a, b) => a.attempt - b.attempt);
}

/**
 * Orders two context ids (u64 decimal strings) by value: negative, zero or
 * positive. As BigInt, not Number: ids above 2^53 lose their low digits as
 * Numbers, and two such contexts would look like one.
 */
export function compareContextIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function strip(held: Held): RunAttempt {
  const { runId: _runId, ...attempt } = held;
  return attempt;
}
