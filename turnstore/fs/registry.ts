/**
 * Registry bundles in their own append-only log, `registry.log` (same record
 * framing as the turn log). Bundles are few and small, so the whole log is
 * read on open into the shared {@link RegistryIndex}, which applies the same
 * rules as every other backend.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import type { PublishBundleResult } from "../core/types.ts";
import {
  canonicalBundleJson,
  type RegistryBundle,
  RegistryIndex,
  validateBundleShape,
} from "../registry/bundle.ts";
import { encodeFrame, RecordKind } from "./frame.ts";
import { openReadWrite, writeAt } from "./io.ts";
import { scanLog } from "./scan.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The registry log of one store. */
export class RegistryLog {
  #index = new RegistryIndex();
  #end: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string, readonly file: Deno.FsFile, readonly sync: boolean) {
    this.#end = 0;
  }

  /** Opens the log, replays it and drops a torn tail. */
  static open(path: string, sync: boolean): RegistryLog {
    const log = new RegistryLog(path, openReadWrite(path), sync);
    const scan = scanLog(log.file, path, 0);
    for (;;) {
      const next = scan.next();
      if (next.done) {
        log.#end = next.value.validEnd;
        if (next.value.validEnd < next.value.fileSize) {
          log.file.truncateSync(next.value.validEnd);
          log.file.syncDataSync();
        }
        break;
      }
      if (next.value.kind !== RecordKind.bundle) {
        throw new BackendError(
          `fs store registry log ${path} has a record of kind ${next.value.kind} at offset ${next.value.offset}`,
        );
      }
      log.#index.admit(JSON.parse(decoder.decode(next.value.body)));
    }
    return log;
  }

  /** Publishes `bundle`: checked, written, synced (unless durability is none), then admitted. */
  publish(bundle: RegistryBundle): Promise<PublishBundleResult> {
    const valid = validateBundleShape(bundle);
    // One publication at a time, so two cannot both pass the check.
    const run = this.#queue.then(() => this.#publish(valid));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #publish(bundle: RegistryBundle): Promise<PublishBundleResult> {
    if (this.#index.check(bundle) === "identical") return { created: false };
    const json = canonicalBundleJson(bundle);
    const frame = encodeFrame(RecordKind.bundle, encoder.encode(json));
    try {
      writeAt(this.file, this.#end, frame);
      if (this.sync) await this.file.syncData();
    } catch (error) {
      try {
        this.file.truncateSync(this.#end);
      } catch { /* the next open drops the torn record */ }
      throw new BackendError(`fs store: cannot write registry log ${this.path}: ${error}`, {
        cause: error,
      });
    }
    this.#end += frame.length;
    this.#index.admit(JSON.parse(json));
    return { created: true };
  }

  /** A published bundle, or undefined. */
  get(bundleId: string): RegistryBundle | undefined {
    const json = this.#index.get(bundleId);
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Waits for pending publications, then closes the file. */
  async close(): Promise<void> {
    await this.#queue;
    this.file.close();
  }
}
