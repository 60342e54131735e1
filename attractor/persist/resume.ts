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
import { latestCheckpoint } from "../query.ts";
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

/** What a resume starts from. */
export interface ResumePoint {
  /** The checkpoint. */
  readonly checkpoint: Checkpoint;
  /** The DOT source of the run (from the store), when known. */
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
 * The resume point of a run directory. With the run's store open, the
 * store's latest checkpoint is compared: when `checkpoint.json` differs
 * (edited by hand), the file wins and the note says so.
 */
export async function resumePointFromDirectory(
  runDir: string,
  store?: ForgeStore,
): Promise<ResumePoint> {
  const manifest = await readManifest(runDir);
  const checkpoint = await readCheckpointFile(runDir);
  let note: string | undefined;
  let chain: CheckpointChain | undefined;
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
