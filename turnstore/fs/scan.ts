/**
 * Sequential reading of a log file for recovery: yields every intact record
 * from an offset, and decides what a bad record means. A bad record with no
 * intact record after it is a torn tail (an append that never finished); a
 * bad record followed by an intact one is damage to acknowledged data and
 * stops recovery with a BackendError naming the file and the offset.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { checksum, decodeHeader, FRAME_HEADER_BYTES, FRAME_MAGIC } from "./frame.ts";
import { readAt } from "./io.ts";

const CHUNK = 4 * 1024 * 1024;

/** One intact record found by {@link scanLog}. */
export interface ScannedRecord {
  /** Record kind. */
  readonly kind: number;
  /** Record body (valid until the next record is read). */
  readonly body: Uint8Array;
  /** Offset of the record's header in the file. */
  readonly offset: number;
  /** Header plus body, in bytes. */
  readonly length: number;
}

/** Where the intact part of a log ends. */
export interface ScanEnd {
  /** Offset just past the last intact record. */
  readonly validEnd: number;
  /**
   * File size; larger than validEnd when a torn tail was found, or when only
   * zero bytes follow the last record (space the writer preallocated; then
   * there is no `tornReason`).
   */
  readonly fileSize: number;
  /** Why the tail was rejected, when it was. */
  readonly tornReason?: string;
}

/** Reads windows of a file, refilling when a read falls outside the window. */
class WindowReader {
  #start = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  constructor(readonly file: Deno.FsFile, readonly size: number) {}

  read(offset: number, length: number): Uint8Array {
    const end = offset + length;
    if (offset < this.#start || end > this.#start + this.#bytes.length) {
      const want = Math.min(Math.max(length, CHUNK), this.size - offset);
      this.#bytes = readAt(this.file, offset, Math.max(0, want));
      this.#start = offset;
    }
    const from = offset - this.#start;
    return this.#bytes.subarray(from, Math.min(from + length, this.#bytes.length));
  }
}

/** How much of a log's start must be zeros to pass for an append that did not reach the disk. */
const ZERO_START_BYTES = 4096;

/**
 * Throws BackendError unless `file` is empty or begins as a log of this
 * store: its first bytes are the magic "FLG1", or what an interrupted first
 * append leaves of it (a prefix of the magic, or zeros where a write did not
 * reach the disk). Anything else is some other file that happens to have the
 * log's name: recovery would take it for a torn tail and cut it to nothing.
 */
export function assertLogStart(file: Deno.FsFile, path: string): void {
  const size = file.statSync().size;
  if (size === 0) return;
  const start = readAt(file, 0, Math.min(ZERO_START_BYTES, size));
  // The magic, whole or cut short, and after a cut only zeros: a first append
  // that did not (all) reach the disk. A file that begins with zeros, or part
  // of the magic, and goes on with other bytes is some other file (recovery
  // would cut it away as a torn tail).
  let k = 0;
  while (k < Math.min(4, start.length) && start[k] === ((FRAME_MAGIC >>> (8 * k)) & 0xff)) k++;
  if (k < 4 && !start.subarray(k).every((b) => b === 0)) {
    throw new BackendError(
      `fs store log ${path} is not a log of this store: it does not begin with a record ` +
        `(magic "FLG1"); it was not opened, and nothing in it was changed`,
    );
  }
}

/**
 * Yields the intact records of `file` from `from`, then returns where they
 * end. Throws BackendError when a bad record is followed by an intact one,
 * and (from offset 0) when the file is not a log at all ({@link assertLogStart}).
 */
export function* scanLog(
  file: Deno.FsFile,
  path: string,
  from: number,
): Generator<ScannedRecord, ScanEnd> {
  if (from === 0) assertLogStart(file, path);
  const size = file.statSync().size;
  const reader = new WindowReader(file, size);
  let at = from;
  while (at < size) {
    const verdict = readRecord(reader, at, size);
    if (typeof verdict === "string") {
      // Zeros to the end: preallocated space that no record reached yet.
      if (allZero(reader, at, size)) return { validEnd: at, fileSize: size };
      // Where could a later intact record start? Past this record when its
      // header is trustworthy (its length is right), else anywhere after.
      const header = decodeHeader(reader.read(at, FRAME_HEADER_BYTES));
      const searchFrom = header ? at + FRAME_HEADER_BYTES + header.bodyLength : at + 1;
      const later = findIntactRecord(reader, searchFrom, size);
      if (later !== undefined) {
        throw new BackendError(
          `fs store log ${path} is corrupt at offset ${at} (${verdict}), yet an intact record ` +
            `follows at offset ${later}: acknowledged data is damaged, refusing to drop it`,
        );
      }
      return { validEnd: at, fileSize: size, tornReason: `${verdict} at offset ${at}` };
    }
    yield verdict;
    at += verdict.length;
  }
  return { validEnd: at, fileSize: size };
}

function readRecord(reader: WindowReader, at: number, size: number): ScannedRecord | string {
  if (size - at < FRAME_HEADER_BYTES) return "incomplete record header";
  const header = decodeHeader(reader.read(at, FRAME_HEADER_BYTES));
  if (!header) return "bad magic or header checksum";
  const length = FRAME_HEADER_BYTES + header.bodyLength;
  if (at + length > size) return `record of ${length} bytes runs past the end of the file`;
  const body = reader.read(at + FRAME_HEADER_BYTES, header.bodyLength);
  if (checksum(body) !== header.bodyChecksum) return "body checksum mismatch";
  return { kind: header.kind, body, offset: at, length };
}

function allZero(reader: WindowReader, from: number, size: number): boolean {
  for (let at = from; at < size;) {
    const bytes = reader.read(at, Math.min(CHUNK, size - at));
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
    at += bytes.length;
  }
  return true;
}

function findIntactRecord(reader: WindowReader, from: number, size: number): number | undefined {
  const m0 = FRAME_MAGIC & 0xff;
  for (let at = from; at + FRAME_HEADER_BYTES <= size; at++) {
    const probe = reader.read(at, 4);
    if (probe[0] !== m0) continue;
    if (new DataView(probe.buffer, probe.byteOffset, 4).getUint32(0, true) !== FRAME_MAGIC) {
      continue;
    }
    if (typeof readRecord(reader, at, size) !== "string") return at;
  }
  return undefined;
}
