/**
 * The committed state of an open fs store: the log, the index files and the
 * id counters. Reads of committed turns and contexts, the index updates that
 * replay and live commits share, and the index watermark live here; recovery.ts
 * brings the state up, writer.ts changes it, store.ts answers the contract.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import type { StoredTurn } from "../core/types.ts";
import type { ContextHead } from "../core/types.ts";
import type { BlobFiles } from "./blobs.ts";
import { digestFile, type FileDigest, INDEX_FORMAT, writeWatermark } from "./watermark.ts";
import type { AttachRecordData, ContextRecordData, TurnRecordData } from "./codec.ts";
import { decodeTurn } from "./codec.ts";
import { checkFrame, FRAME_HEADER_BYTES, RecordKind } from "./frame.ts";
import {
  ancestorAt,
  type ContextIndex,
  type ContextSlot,
  jumpFor,
  type RootIndex,
  TURN_SLOT,
  type TurnIndex,
  type TurnMeta,
} from "./indexes.ts";
import { readAt } from "./io.ts";
import { keyFingerprint, type KeyIndex } from "./keys.ts";
import type { Durability } from "./options.ts";
import type { RegistryLog } from "./registry.ts";

/** The open files and counters of one fs store, shared by its parts. */
export interface FsParts {
  readonly dir: string;
  readonly durability: Durability;
  readonly log: Deno.FsFile;
  readonly turns: TurnIndex;
  readonly contexts: ContextIndex;
  readonly roots: RootIndex;
  readonly keys: KeyIndex;
  readonly registry: RegistryLog;
  readonly blobs: BlobFiles;
}

/** The committed state of an fs store and the reads and updates on it. */
export class FsState {
  /** The store's directory (real path). */
  readonly dir: string;
  /** The durability policy. */
  readonly durability: Durability;
  /** Path of the turn log, for error messages. */
  readonly logPath: string;
  /** The turn log. */
  readonly log: Deno.FsFile;
  /** Log bytes the indexes cover. */
  logEnd = 0;
  /** Turn id → log position, parent, depth, jump pointer. */
  readonly turns: TurnIndex;
  /** Context id → base and head. */
  readonly contexts: ContextIndex;
  /** Turn id → attached tree root. */
  readonly roots: RootIndex;
  /** (context, idempotency key) → turn id; replaced when rebuilt. */
  keys: KeyIndex;
  /** Registry bundles. */
  readonly registry: RegistryLog;
  /** Content-addressed blobs. */
  readonly blobs: BlobFiles;
  /** The next turn id to assign. */
  nextTurnId = 1;
  /** The next context id to assign. */
  nextContextId = 1;
  /** Log bytes written since the last index watermark. */
  sinceWatermark = 0;
  /** Set by close(). */
  closed = false;
  /** The write failure that stopped the store, if one did. */
  broken: Error | undefined;

  constructor(parts: FsParts) {
    this.dir = parts.dir;
    this.durability = parts.durability;
    this.logPath = `${parts.dir}/log`;
    this.log = parts.log;
    this.turns = parts.turns;
    this.contexts = parts.contexts;
    this.roots = parts.roots;
    this.keys = parts.keys;
    this.registry = parts.registry;
    this.blobs = parts.blobs;
  }

  /** {@link meta}, made once for the ancestry helpers. */
  readonly #lookup = (turnId: number): TurnMeta => this.meta(turnId);

  /** Throws BackendError when the store is closed or stopped by a write failure. */
  usable(): void {
    if (this.closed) throw new BackendError(`fs store ${this.dir} is closed`);
    if (this.broken) {
      throw new BackendError(
        `fs store ${this.dir} stopped after a write failure (${this.broken.message}); reopen it to recover`,
      );
    }
  }

  // ---- index updates (shared by replay and live commits) -----------------

  /** Records a new context. */
  applyContext(c: ContextRecordData): void {
    this.contexts.put({
      contextId: c.contextId,
      baseTurnId: c.baseTurnId,
      baseDepth: c.baseDepth,
      headTurnId: c.baseTurnId,
      headDepth: c.baseDepth,
      createdAt: c.createdAt,
    });
    this.nextContextId = Math.max(this.nextContextId, c.contextId + 1);
  }

  /**
   * Records a turn written at `offset` (its frame `length` bytes long). With
   * `moveHead` false the caller writes the context's new head itself (the
   * writer does, once per context per batch, after the batch's last turn).
   */
  applyTurn(
    t: TurnRecordData,
    offset: number,
    length: number,
    fingerprint?: [number, number],
    moveHead = true,
  ): void {
    const jump = jumpFor(this.meta(t.parentTurnId), this.#lookup);
    // Fields named one by one: a spread here built the entry on a slower path (every append).
    this.turns.put({
      turnId: t.turnId,
      offset,
      length,
      parentTurnId: t.parentTurnId,
      depth: t.depth,
      originContextId: t.contextId,
      jumpTurnId: jump.jumpTurnId,
      jumpDepth: jump.jumpDepth,
    });
    if (moveHead) {
      const ctx = this.contexts.get(t.contextId);
      if (!ctx) throw new Error(`turn ${t.turnId} names unknown context ${t.contextId}`);
      this.contexts.put({ ...ctx, headTurnId: t.turnId, headDepth: t.depth });
    }
    if (t.fsRootHash) this.roots.put(t.turnId, t.fsRootHash);
    if (t.idempotencyKey !== undefined) {
      this.keys.insert(
        fingerprint ?? keyFingerprint(t.contextId, t.idempotencyKey),
        t.turnId,
      );
    }
    this.nextTurnId = Math.max(this.nextTurnId, t.turnId + 1);
  }

  /** Records an attached tree root. */
  applyAttach(a: AttachRecordData): void {
    this.roots.put(a.turnId, a.rootHash);
  }

  /** The index files by name, as the watermark records them. */
  indexFiles(): Record<string, Deno.FsFile> {
    return {
      "turns.idx": this.turns.file,
      "contexts.idx": this.contexts.file,
      "roots.idx": this.roots.file,
      "keys.idx": this.keys.file,
    };
  }

  /**
   * Flushes and syncs the log and the indexes, then writes the index watermark; a
   * clean one (from close) also records each index file's size and CRC-32.
   */
  watermark(clean: boolean): void {
    // A clean watermark covers the whole file: drop the writer's preallocated space.
    if (clean) this.log.truncateSync(this.logEnd);
    this.turns.flush();
    this.contexts.flush();
    this.keys.flush();
    this.log.syncDataSync();
    const files: Record<string, FileDigest> = {};
    for (const [name, file] of Object.entries(this.indexFiles())) {
      file.syncDataSync();
      if (clean) files[name] = digestFile(file);
    }
    writeWatermark(this.dir, `${this.dir}/checkpoint`, {
      logLength: this.logEnd,
      nextTurnId: this.nextTurnId,
      nextContextId: this.nextContextId,
      clean,
      durability: this.durability,
      format: INDEX_FORMAT,
      files: clean ? files : undefined,
    });
    this.sinceWatermark = 0;
  }

  // ---- committed-state reads -----------------------------------------------

  /** Index entry of a committed turn; BackendError when the index lacks it. */
  meta(turnId: number): TurnMeta {
    const meta = this.turns.get(turnId);
    if (!meta) {
      throw new BackendError(
        `fs store ${this.dir}: turns.idx has no entry for turn ${turnId}`,
      );
    }
    return meta;
  }

  /** The committed turn `id` names, or undefined. */
  findTurn(id: string): TurnMeta | undefined {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 1 || n >= this.nextTurnId) return undefined;
    return this.meta(n);
  }

  /** The committed context `id` names, or undefined. */
  findContext(id: string): ContextSlot | undefined {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 1 || n >= this.nextContextId) return undefined;
    const slot = this.contexts.get(n);
    if (!slot) {
      throw new BackendError(`fs store ${this.dir}: contexts.idx has no entry for context ${n}`);
    }
    return slot;
  }

  /**
   * Reads the records of `metas` (in log order), one read per run of
   * adjacent records: a context's turns usually sit next to each other.
   */
  readTurns(metas: TurnMeta[]): TurnRecordData[] {
    for (const meta of metas) this.#inLog(meta);
    const out: TurnRecordData[] = [];
    for (let i = 0; i < metas.length;) {
      let j = i + 1;
      let end = metas[i].offset + metas[i].length;
      while (j < metas.length && metas[j].offset === end && end - metas[i].offset < 8 << 20) {
        end += metas[j].length;
        j++;
      }
      const run = readAt(this.log, metas[i].offset, end - metas[i].offset);
      for (let k = i; k < j; k++) {
        const from = metas[k].offset - metas[i].offset;
        out.push(this.#checkTurn(metas[k], run.subarray(from, from + metas[k].length)));
      }
      i = j;
    }
    return out;
  }

  /** Reads and checks a turn's record. */
  readTurn(meta: TurnMeta): TurnRecordData {
    this.#inLog(meta);
    return this.#checkTurn(meta, readAt(this.log, meta.offset, meta.length));
  }

  /** An index entry must point inside the log: else the index, not the log, is damaged. */
  #inLog(meta: TurnMeta): void {
    if (meta.length >= FRAME_HEADER_BYTES && meta.offset + meta.length <= this.logEnd) return;
    throw new BackendError(
      `fs index ${this.turns.path} is damaged at offset ${
        (meta.turnId - 1) * TURN_SLOT
      }: the entry of ` +
        `turn ${meta.turnId} points at log bytes ${meta.offset}..${meta.offset + meta.length}, ` +
        `outside the log (${this.logEnd} bytes); reopen the store to rebuild its indexes`,
    );
  }

  #checkTurn(meta: TurnMeta, frame: Uint8Array): TurnRecordData {
    const checked = checkFrame(frame);
    const problem = typeof checked === "string"
      ? checked
      : checked.kind !== RecordKind.turn
      ? `record kind ${checked.kind} where a turn was expected`
      : undefined;
    if (problem !== undefined || typeof checked === "string") {
      throw new BackendError(
        `fs store log ${this.logPath} is corrupt at offset ${meta.offset} (turn ${meta.turnId}): ${problem}`,
      );
    }
    let data: TurnRecordData;
    try {
      data = decodeTurn(checked.body);
    } catch (error) {
      throw new BackendError(
        `fs store log ${this.logPath}: turn record at offset ${meta.offset} does not decode: ${error}`,
      );
    }
    if (data.turnId !== meta.turnId) {
      throw new BackendError(
        `fs store log ${this.logPath}: offset ${meta.offset} holds turn ${data.turnId}, index says ${meta.turnId}`,
      );
    }
    return data;
  }

  /** True when `meta` is in the history of the context whose slot is `head`. */
  inHistory(head: ContextSlot, meta: TurnMeta): boolean {
    if (meta.depth > head.headDepth) return false;
    return ancestorAt(this.meta(head.headTurnId), meta.depth, (id) => this.meta(id)).turnId ===
      meta.turnId;
  }
}

/** The contract's view of a turn record. */
export function storedTurn(t: TurnRecordData): StoredTurn {
  return {
    turnId: String(t.turnId),
    parentTurnId: String(t.parentTurnId),
    depth: t.depth,
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    payload: t.payload,
    contentHash: t.contentHash,
  };
}

/** The contract's view of a context slot. */
export function publicHead(slot: ContextSlot): ContextHead {
  return {
    contextId: String(slot.contextId),
    headTurnId: String(slot.headTurnId),
    headDepth: slot.headDepth,
  };
}
