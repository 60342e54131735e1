/**
 * Recovery at open. The indexes, the key table and the index watermark are derived
 * from the log, and every one of them is checked before it is trusted: the
 * watermark is a checksummed record; close() records in it the size and
 * CRC-32 of every index file; each index slot carries its own CRC-32. The
 * indexes are used as they are only when the last session closed cleanly,
 * the log is exactly as long as that close left it and every index file
 * matches its recorded digest. Anything else (no or damaged watermark, an
 * older index format, a session that did not close, a damaged or missing
 * index file) rebuilds them from the log, which also drops a torn tail. A log
 * damaged in the middle stops the rebuild with a BackendError naming the log
 * and the offset.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { digestFile, INDEX_FORMAT, type IndexWatermark } from "./watermark.ts";
import { decodeAttach, decodeContext, decodeTurn } from "./codec.ts";
import { RecordKind } from "./frame.ts";
import { KeyIndex } from "./keys.ts";
import { sizeOf } from "./io.ts";
import { scanLog } from "./scan.ts";
import type { FsState } from "./state.ts";

/** How the store came up: what recovery did. */
export interface RecoveryReport {
  /** "none" (the indexes were intact and current) or "rebuild" (rebuilt from the log). */
  readonly mode: "none" | "rebuild";
  /** Why the indexes were rebuilt, when they were. */
  readonly reason?: string;
  /** Bytes of torn tail dropped from the turn log. */
  readonly droppedTailBytes: number;
  /** Why the tail was dropped, when it was. */
  readonly tornReason?: string;
}

/**
 * Brings `state`'s indexes and counters up to the log. `keysFresh` is true
 * when the key table was just created (absent or its header unusable).
 */
export function recover(
  state: FsState,
  watermark: IndexWatermark | undefined,
  keysFresh: boolean,
): RecoveryReport {
  const size = sizeOf(state.log);
  if (watermark && watermark.logLength > size) {
    throw new BackendError(
      `fs store log ${state.logPath} is ${size} bytes but its index watermark (file checkpoint) covers ` +
        `${watermark.logLength}: acknowledged records are missing from the log`,
    );
  }
  if (!watermark && size === 0) return { mode: "none", droppedTailBytes: 0 }; // a new store
  const reason = distrust(state, watermark, keysFresh, size);
  if (reason !== undefined || !watermark) {
    return rebuild(
      state,
      size,
      reason ?? "the index watermark (file checkpoint) is missing or damaged",
    );
  }
  state.nextTurnId = watermark.nextTurnId;
  state.nextContextId = watermark.nextContextId;
  state.logEnd = watermark.logLength;
  return { mode: "none", droppedTailBytes: 0 };
}

/** Why the indexes cannot be used as they are, or undefined when they can. */
function distrust(
  state: FsState,
  watermark: IndexWatermark | undefined,
  keysFresh: boolean,
  size: number,
): string | undefined {
  if (!watermark) return "the index watermark (file checkpoint) is missing or damaged";
  if (watermark.format !== INDEX_FORMAT) return "the indexes are of an older format";
  if (keysFresh && size > 0) return "keys.idx is missing or its header is damaged";
  if (!watermark.clean) return "the last session did not close cleanly";
  if (watermark.logLength !== size) return "the log changed after the last clean close";
  for (const [name, file] of Object.entries(state.indexFiles())) {
    const want = watermark.files?.[name];
    const got = digestFile(file);
    if (!want) return `the index watermark (file checkpoint) has no digest of ${name}`;
    if (got.size !== want.size) {
      return `${state.dir}/${name} is ${got.size} bytes where close() left ${want.size}`;
    }
    if (got.crc !== want.crc) {
      return `${state.dir}/${name} does not match the CRC-32 close() recorded`;
    }
  }
  return undefined;
}

/** Empties every index and replays the whole log into them. */
function rebuild(state: FsState, size: number, reason: string): RecoveryReport {
  state.turns.clear();
  state.contexts.clear();
  state.roots.file.truncateSync(0);
  state.keys.close();
  Deno.removeSync(`${state.dir}/keys.idx`);
  state.keys = KeyIndex.open(`${state.dir}/keys.idx`).index;
  state.nextTurnId = 1;
  state.nextContextId = 1;
  const end = replay(state, 0);
  return {
    mode: "rebuild",
    reason,
    // Zeros past the last record are preallocated space, not a torn tail.
    droppedTailBytes: end.tornReason === undefined ? 0 : size - end.validEnd,
    tornReason: end.tornReason,
  };
}

/** Applies every intact record from `from`, then drops a torn tail or preallocated zeros. */
function replay(state: FsState, from: number): { validEnd: number; tornReason?: string } {
  const scan = scanLog(state.log, state.logPath, from);
  for (;;) {
    const next = scan.next();
    if (next.done) {
      const { validEnd, fileSize, tornReason } = next.value;
      if (validEnd < fileSize) {
        state.log.truncateSync(validEnd);
        state.log.syncDataSync();
      }
      state.logEnd = validEnd;
      return { validEnd, tornReason };
    }
    const { kind, body, offset, length } = next.value;
    try {
      if (kind === RecordKind.context) state.applyContext(decodeContext(body));
      else if (kind === RecordKind.turn) state.applyTurn(decodeTurn(body), offset, length);
      else if (kind === RecordKind.attach) state.applyAttach(decodeAttach(body));
      else throw new Error(`unknown record kind ${kind}`);
    } catch (error) {
      throw new BackendError(
        `fs store log ${state.logPath}: record at offset ${offset} cannot be applied: ${error}`,
        { cause: error },
      );
    }
  }
}
