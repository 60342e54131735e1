/**
 * Where a resumed run comes from: the store alone (its context's latest
 * checkpoint names the DOT source blob) or the run directory alone
 * (`checkpoint.json` and `manifest.json`). A changed DOT source is refused
 * unless forced; a `checkpoint.json` edited by hand after the store's latest
 * checkpoint wins, and the resume records that it did.
 *
 * @module
 */
import { blake3Hex, type ForgeStore } from "@forge/turnstore";
import type { Checkpoint } from "../engine/checkpoint.ts";
import { serializeCheckpoint } from "../engine/checkpoint.ts";
import { latestCheckpoint, readRun } from "../query.ts";
import { type Manifest, readCheckpointFile, readManifest } from "./rundir.ts";
import type { CheckpointChain } from "./checkpoint_state.ts";

/** Codes of {@link ResumeError}. */
export type ResumeErrorCode = "NoCheckpoint" | "PipelineChanged" | "NotARun";

/** A run cannot be resumed as asked. */
export class ResumeError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ResumeErrorCode;
  /** Creates the error; the message says what to do. */
  constructor(code: ResumeErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = "ResumeError";
  }
}

/** Why a run directory's run is not in a store: see {@link RunNotInStoreError}. */
export type RunNotInStoreReason = "NoSuchContext" | "OtherRun";

/**
 * A run directory's manifest names the store context its run was recorded
 * in (`context_id`), and the store given for the resume does not hold that
 * run there: it has no such context, or the context holds another run.
 * Continuing would fail midway or append to another run's history, so the
 * resume is refused before anything is written.
 */
export class RunNotInStoreError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "RunNotInStore" as const;
  /** Which of the two: the context is missing, or it holds another run. */
  readonly reason: RunNotInStoreReason;
  /** The run the directory records. */
  readonly runId: string;
  /** The context its manifest names. */
  readonly contextId: string;
  /** The run the context holds instead (`OtherRun`). */
  readonly heldRunId?: string;
  /** Creates the error; the message names the directory, the run, the context and the store. */
  constructor(
    message: string,
    details: {
      reason: RunNotInStoreReason;
      runId: string;
      contextId: string;
      heldRunId?: string;
    },
  ) {
    super(message);
    this.name = "RunNotInStoreError";
    this.reason = details.reason;
    this.runId = details.runId;
    this.contextId = details.contextId;
    this.heldRunId = details.heldRunId;
  }
}

/**
 * Refuses (with a {@link RunNotInStoreError}) a run directory's manifest
 * whose `context_id` the store does not hold, or holds for another run. A
 * manifest that names no context (a run recorded without a store) passes, as
 * does a context with no checkpoint yet (nothing to contradict it).
 * `options.runDir` and `options.storeLabel` (e.g. the store's URL) only make
 * the message say where.
 */
export async function assertRunInStore(
  store: ForgeStore,
  manifest: Manifest,
  options: { readonly runDir?: string; readonly storeLabel?: string } = {},
): Promise<void> {
  const contextId = manifest.context_id;
  if (!contextId) return;
  const where = options.runDir ?? "the run directory";
  const storeName = options.storeLabel ?? "the store";
  const recorded = manifest.store ? `, recorded in ${manifest.store}` : "";
  const head = `${where} holds run ${manifest.run_id} (context ${contextId}${recorded}), but `;
  const details = { runId: manifest.run_id, contextId };
  try {
    await store.getHead(contextId);
  } catch (error) {
    if ((error as { code?: string }).code !== "NotFound") throw error;
    throw new RunNotInStoreError(`${head}${storeName} has no context ${contextId}`, {
      ...details,
      reason: "NoSuchContext",
    });
  }
  const held = (await readRun(store, contextId))?.runId;
  if (held !== undefined && held !== manifest.run_id) {
    throw new RunNotInStoreError(
      `${head}context ${contextId} of ${storeName} holds run ${held}`,
      { ...details, reason: "OtherRun", heldRunId: held },
    );
  }
}

/** What a resume starts from. */
export interface ResumePoint {
  /** The checkpoint. */
  readonly checkpoint: Checkpoint;
  /**
   * The DOT source the run executed, from the store, when known (a directory
   * resume without a store has none: the manifest's `dot_file` is read).
   */
  readonly dotSource?: string;
  /** BLAKE3 of the DOT source the run executed. */
  readonly dotSourceHash: string;
  /** The store context to continue. */
  readonly contextId?: string;
  /** The manifest (directory resumes). */
  readonly manifest?: Manifest;
  /** Why this resume is noteworthy, recorded in the run lifecycle. */
  readonly note?: string;
  /**
   * Where the context's checkpoint records stand, when `checkpoint` is the
   * newest one stored there: pass it on (`resume.chain`) so the resumed
   * run's first checkpoint may be a delta.
   */
  readonly chain?: CheckpointChain;
}

/** The resume point of a run context, from the store alone. */
export async function resumePointFromStore(
  store: ForgeStore,
  contextId: string,
): Promise<ResumePoint> {
  const latest = await latestCheckpoint(store, contextId);
  if (!latest) {
    throw new ResumeError(
      "NoCheckpoint",
      `context ${contextId} holds no pipeline checkpoint (is it a run's context?)`,
    );
  }
  const dotSource = new TextDecoder().decode(await store.getBlob(latest.record.dotSourceHash));
  return {
    checkpoint: latest.checkpoint,
    dotSource,
    dotSourceHash: latest.record.dotSourceHash,
    contextId,
    chain: latest.chain,
  };
}

/**
 * The resume point of a run directory. With a store, the manifest's context
 * must hold the directory's run there ({@link assertRunInStore}: a
 * {@link RunNotInStoreError} otherwise), and the store's latest checkpoint is
 * compared: when `checkpoint.json` differs (edited by hand), the file wins
 * and the note says so. `options.storeLabel` names the store in errors.
 */
export async function resumePointFromDirectory(
  runDir: string,
  store?: ForgeStore,
  options: { readonly storeLabel?: string } = {},
): Promise<ResumePoint> {
  const manifest = await readManifest(runDir);
  const checkpoint = await readCheckpointFile(runDir);
  let note: string | undefined;
  let chain: CheckpointChain | undefined;
  if (store) await assertRunInStore(store, manifest, { runDir, storeLabel: options.storeLabel });
  // The store keeps the run's DOT source by its hash: for a directory whose manifest names no
  // DOT file (a run started by a program), or one whose file is gone.
  const dotSource = store && manifest.dot_source_hash
    ? await store.getBlob(manifest.dot_source_hash).then(
      (bytes) => new TextDecoder().decode(bytes),
      () => undefined,
    )
    : undefined;
  if (store && manifest.context_id) {
    const stored = await latestCheckpoint(store, manifest.context_id).catch(() => undefined);
    if (stored && !sameState(stored.checkpoint, checkpoint)) {
      note =
        `checkpoint.json differs from the store's latest checkpoint (${stored.record.checkpointId}); the file wins`;
    } else if (stored) {
      chain = stored.chain;
    }
  }
  return {
    checkpoint,
    dotSource,
    dotSourceHash: manifest.dot_source_hash,
    contextId: manifest.context_id ?? undefined,
    manifest,
    note,
    chain,
  };
}

/** Refuses a DOT source whose hash differs from the run's, unless `force`. */
export function checkPipelineUnchanged(
  point: ResumePoint,
  source: string,
  force: boolean,
): string | undefined {
  const hash = blake3Hex(new TextEncoder().encode(source));
  if (!point.dotSourceHash || hash === point.dotSourceHash) return undefined;
  if (force) return `the DOT source changed since the run started (forced)`;
  throw new ResumeError(
    "PipelineChanged",
    `the pipeline's DOT source changed since run ${point.checkpoint.run_id} started ` +
      `(was ${point.dotSourceHash.slice(0, 12)}…, now ${hash.slice(0, 12)}…); ` +
      `resume with --force to run the changed pipeline from the checkpoint`,
  );
}

function sameState(a: Checkpoint, b: Checkpoint): boolean {
  const strip = (c: Checkpoint) => serializeCheckpoint({ ...c, timestamp: "" });
  return strip(a) === strip(b);
}
