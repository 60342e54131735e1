/**
 * The index watermark: how much of the log the indexes are known to cover, as one
 * framed (checksummed) record in the file `checkpoint` (the name it had
 * before "checkpoint" came to mean pipeline state only; kept so existing
 * stores open unchanged), replaced atomically. It is
 * written (after the log and the indexes are synced) on open, every 64 MiB of
 * log, and on close, where it is marked clean and records the size and CRC-32
 * of every index file, so that the next open can tell whether they are still
 * the files close() left.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { checkFrame, encodeFrame, RecordKind } from "./frame.ts";
import { readAt, replaceFileAtomically } from "./io.ts";
import type { Durability } from "./options.ts";

/** The index format this code writes; a watermark of another format means a rebuild. */
export const INDEX_FORMAT = 2;

/** Size and CRC-32 of a whole file. */
export interface FileDigest {
  /** Bytes. */
  readonly size: number;
  /** CRC-32 of all of them. */
  readonly crc: number;
}

/** Size and CRC-32 of an open file, read in 1 MiB pieces. */
export function digestFile(file: Deno.FsFile): FileDigest {
  const size = file.statSync().size;
  let crc = 0;
  for (let at = 0; at < size; at += 1 << 20) {
    crc = crc32(readAt(file, at, Math.min(1 << 20, size - at)), crc);
  }
  return { size, crc: crc >>> 0 };
}

/** What an index watermark records. */
export interface IndexWatermark {
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
  /** Index format ({@link INDEX_FORMAT}); absent in stores written before it. */
  readonly format?: number;
  /** Digests of the index files by name; written by close() only. */
  readonly files?: Readonly<Record<string, FileDigest>>;
}

/** Reads the index watermark; undefined when absent or damaged (then the indexes are rebuilt). */
export function readWatermark(path: string): IndexWatermark | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const frame = checkFrame(bytes);
  if (typeof frame === "string" || frame.kind !== RecordKind.watermark) return undefined;
  try {
    const c = JSON.parse(new TextDecoder().decode(frame.body));
    const counts = [c.logLength, c.nextTurnId, c.nextContextId];
    if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
    return c as IndexWatermark;
  } catch {
    return undefined;
  }
}

/** Writes the index watermark atomically. */
export function writeWatermark(dir: string, path: string, watermark: IndexWatermark): void {
  const body = new TextEncoder().encode(JSON.stringify(watermark));
  replaceFileAtomically(dir, path, encodeFrame(RecordKind.watermark, body));
}
