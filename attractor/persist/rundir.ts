/**
 * The run directory (reference "The command line and the run directory"):
 * `manifest.json`, `checkpoint.json` and one directory per node with
 * `prompt.md`, `response.md`, `status.json` (and `tool_output.txt` for tool
 * nodes). `checkpoint.json` and `manifest.json` are replaced atomically
 * (written beside, synced, renamed), so a killed runner leaves the previous
 * version or the new one, never half of one.
 *
 * @module
 */
import { join } from "node:path";
import { type Checkpoint, parseCheckpoint, serializeCheckpoint } from "../engine/checkpoint.ts";
import { type Outcome, outcomeToStatusJson } from "../engine/outcome.ts";

/** One attempt of a run's restart lineage. */
export interface ManifestAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The attempt's store context, when persisted. */
  readonly context_id?: string;
  /** Its log directory, relative to the run directory ("." for the first). */
  readonly logs: string;
}

/** `manifest.json`. */
export interface Manifest {
  /** The pipeline name (the digraph id). */
  readonly name: string;
  /** The graph's goal. */
  readonly goal: string;
  /** ISO-8601 start time. */
  readonly start_time: string;
  /** The run id. */
  readonly run_id: string;
  /** The store URL, or null when persistence is off. */
  readonly store: string | null;
  /** The current attempt's store context. */
  readonly context_id: string | null;
  /** BLAKE3 of the DOT source, so a resume can refuse a changed pipeline. */
  readonly dot_source_hash: string;
  /** The DOT file the run was started from, when it came from a file. */
  readonly dot_file?: string;
  /** Every attempt of the restart lineage. */
  readonly attempts: readonly ManifestAttempt[];
}

/** A run directory is missing or its files are damaged. */
export class RunDirectoryError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidRunDirectory" as const;
  /** Creates the error; the message names the file. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunDirectoryError";
  }
}

const encoder = new TextEncoder();

/**
 * Writes `text` to `path` atomically: a synced sibling file renamed over it.
 * On failure the old file stays and the sibling is removed.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    try {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    // The old file stays; the partial sibling goes.
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** The stage directory of `nodeId`, created. */
export async function stageDirectory(logsRoot: string, nodeId: string): Promise<string> {
  const dir = join(logsRoot, nodeId);
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Writes `status.json` for an outcome. */
export async function writeStatus(stageDir: string, outcome: Outcome): Promise<void> {
  await Deno.writeTextFile(
    join(stageDir, "status.json"),
    JSON.stringify(outcomeToStatusJson(outcome), null, 2) + "\n",
  );
}

/** Writes `checkpoint.json` atomically (a checkpoint, or its serialized JSON). */
export async function writeCheckpointFile(
  logsRoot: string,
  checkpoint: Checkpoint | string,
): Promise<void> {
  const json = typeof checkpoint === "string" ? checkpoint : serializeCheckpoint(checkpoint);
  await writeFileAtomic(join(logsRoot, "checkpoint.json"), json + "\n");
}

/** Writes `manifest.json` atomically. */
export async function writeManifest(runDir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(runDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RunDirectoryError(`${path} does not exist`, { cause: error });
    }
    throw new RunDirectoryError(`cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RunDirectoryError(`${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Reads `checkpoint.json` of a run directory. */
export async function readCheckpointFile(runDir: string): Promise<Checkpoint> {
  const path = join(runDir, "checkpoint.json");
  try {
    return parseCheckpoint(await readJson(path), path);
  } catch (error) {
    if (error instanceof RunDirectoryError) throw error;
    throw new RunDirectoryError((error as Error).message, { cause: error });
  }
}

/** Reads `manifest.json` of a run directory. */
export async function readManifest(runDir: string): Promise<Manifest> {
  const path = join(runDir, "manifest.json");
  const json = await readJson(path) as Partial<Manifest>;
  if (!json || typeof json !== "object" || typeof json.run_id !== "string") {
    throw new RunDirectoryError(`${path}: "run_id" is missing`);
  }
  return {
    name: String(json.name ?? ""),
    goal: String(json.goal ?? ""),
    start_time: String(json.start_time ?? ""),
    run_id: json.run_id,
    store: typeof json.store === "string" ? json.store : null,
    context_id: typeof json.context_id === "string" ? json.context_id : null,
    dot_source_hash: String(json.dot_source_hash ?? ""),
    dot_file: typeof json.dot_file === "string" ? json.dot_file : undefined,
    attempts: Array.isArray(json.attempts) ? json.attempts : [],
  };
}
