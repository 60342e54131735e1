/**
 * Recovery at open: decide from the checkpoint whether the indexes can be
 * trusted as they are, patched by replaying the log past the checkpoint, or
 * must be rebuilt from the whole log; drop a torn tail.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { decodeAttach, decodeContext, decodeTurn } from "./codec.ts";
import { RecordKind } from "./frame.ts";
import { KeyIndex } from "./indexes.ts";
import { sizeOf } from "./io.ts";
import { scanLog } from "./scan.ts";
import type { FsState } from "./state.ts";

/** How the store came up: what recovery did. */
export interface RecoveryReport {
  /** "none" (clean), "replay" (from the checkpoint) or "rebuild" (indexes rebuilt from the log). */
  readonly mode: "none" | "replay" | "rebuild";
  /** Bytes of torn tail dropped from the turn log. */
  readonly droppedTailBytes: number;
  /** Why the tail was dropped, when it was. */
  readonly tornReason?: string;
}

/**
 * Brings `state`'s indexes and counters up to the log. `keysFresh` is true
 * when the key table was just created (absent or unusable on disk).
 */
export function recover(
  state: FsState,
  checkpoint: Checkpoint | undefined,
  keysFresh: boolean,
): RecoveryReport {
  const size = sizeOf(state.log);
  if (checkpoint && checkpoint.logLength > size) {
    throw new BackendError(
      `fs store log ${state.logPath} is ${size} bytes but the checkpoint covers ` +
        `${checkpoint.logLength}: acknowledged records are missing from the log`,
    );
  }
  if (!checkpoint || (keysFresh && size > 0)) return rebuild(state, size);
  state.nextTurnId = checkpoint.nextTurnId;
  state.nextContextId = checkpoint.nextContextId;
  state.logEnd = checkpoint.logLength;
  if (checkpoint.clean && checkpoint.logLength === size) {
    return { mode: "none", droppedTailBytes: 0 };
  }
  // Find where the intact log ends before touching anything.
  const scan = scanLog(state.log, state.logPath, checkpoint.logLength);
  let end = scan.next();
  while (!end.done) end = scan.next();
  const torn = end.value.validEnd < end.value.fileSize;
  // A torn tail may have left index writes of the dropped records behind
  // (durability=none can also lose log pages under written index pages):
  // then the indexes are rebuilt from the log rather than patched.
  if (torn || (!checkpoint.clean && checkpoint.durability === "none")) {
    return rebuild(state, size);
  }
  replay(state, checkpoint.logLength);
  // Whole records lost under index writes that survived (a disk that lost
  // synced data, or a copied directory): heads would point past the log.
  if (state.contexts.hasHeadBeyond(state.nextContextId, state.nextTurnId)) {
    return rebuild(state, size);
  }
  return { mode: "replay", droppedTailBytes: 0 };
}

/** Empties every index and replays the whole log into them. */
function rebuild(state: FsState, size: number): RecoveryReport {
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
    droppedTailBytes: size - end.validEnd,
    tornReason: end.tornReason,
  };
}

/** Applies every intact record from `from`, then drops a torn tail. */
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
