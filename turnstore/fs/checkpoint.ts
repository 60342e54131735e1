/**
 * The checkpoint: how much of the log the indexes are known to cover, as one
 * framed record in `checkpoint`, replaced atomically. It is written (after
 * the log and the indexes are synced) on open, every 64 MiB of log, and on
 * close, where it is marked clean.
 *
 * @module
 */
import { checkFrame, encodeFrame, RecordKind } from "./frame.ts";
import { replaceFileAtomically } from "./io.ts";
import type { Durability } from "./options.ts";

/** What a checkpoint records. */
export interface Checkpoint {
  /** Log bytes the indexes cover. */
  readonly logLength: number;
  /** The next turn id to assign. */
  readonly nextTurnId: number;
  /** The next context id to assign. */
  readonly nextContextId: number;
  /** True when written by close(): nothing was appended after it. */
  readonly clean: boolean;
  /** Durability of the session that wrote it. */
  readonly durability: Durability;
}

/** Reads the checkpoint; undefined when absent or damaged (then the indexes are rebuilt). */
export function readCheckpoint(path: string): Checkpoint | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const frame = checkFrame(bytes);
  if (typeof frame === "string" || frame.kind !== RecordKind.checkpoint) return undefined;
  try {
    const c = JSON.parse(new TextDecoder().decode(frame.body));
    const counts = [c.logLength, c.nextTurnId, c.nextContextId];
    if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
    return c as Checkpoint;
  } catch {
    return undefined;
  }
}

/** Writes the checkpoint atomically. */
export function writeCheckpoint(dir: string, path: string, checkpoint: Checkpoint): void {
  const body = new TextEncoder().encode(JSON.stringify(checkpoint));
  replaceFileAtomically(dir, path, encodeFrame(RecordKind.checkpoint, body));
}
