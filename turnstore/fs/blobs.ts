/**
 * Content-addressed blob files: `blobs/<first two hex>/<hash>`. A blob is
 * written to a temp file, synced, renamed into place and its directory
 * synced, so a crash leaves either no blob or the whole blob. Reads check
 * the BLAKE3 hash, so a damaged file is reported, never returned.
 *
 * @module
 */
import { BackendError, NotFoundError } from "../core/errors.ts";
import { blake3Hex, requireHash } from "../core/hash.ts";
import type { PutBlobResult } from "../core/types.ts";
import { validateBlob } from "../core/validate.ts";
import { syncDir } from "./io.ts";

/** The blob directory of one store. */
export class BlobFiles {
  #inFlight = new Map<string, Promise<PutBlobResult>>();
  #tempCounter = 0;

  constructor(readonly root: string, readonly sync: boolean) {
    Deno.mkdirSync(`${root}/tmp`, { recursive: true });
    // Temp files are only ever half-written blobs of a crashed process.
    for (const entry of Deno.readDirSync(`${root}/tmp`)) {
      Deno.removeSync(`${root}/tmp/${entry.name}`);
    }
  }

  #path(hash: string): string {
    return `${this.root}/${hash.slice(0, 2)}/${hash}`;
  }

  /** True when the blob file exists. */
  has(hash: string): boolean {
    try {
      Deno.statSync(this.#path(requireHash("hash", hash)));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw new BackendError(`fs store: cannot stat blob ${hash}: ${error}`, { cause: error });
    }
  }

  /** Stores `bytes` under their hash. */
  put(bytes: Uint8Array): Promise<PutBlobResult> {
    const hash = blake3Hex(validateBlob(bytes));
    const pending = this.#inFlight.get(hash);
    if (pending) return pending.then(() => ({ hash, wasNew: false }));
    const work = this.#write(hash, bytes.slice()).finally(() => this.#inFlight.delete(hash));
    this.#inFlight.set(hash, work);
    return work;
  }

  async #write(hash: string, bytes: Uint8Array): Promise<PutBlobResult> {
    if (this.has(hash)) return { hash, wasNew: false };
    const dir = `${this.root}/${hash.slice(0, 2)}`;
    const temp = `${this.root}/tmp/${hash}.${Date.now()}.${this.#tempCounter++}`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      const file = await Deno.open(temp, { write: true, create: true, truncate: true });
      try {
        let done = 0;
        while (done < bytes.length) done += await file.write(bytes.subarray(done));
        if (this.sync) await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(temp, this.#path(hash));
      if (this.sync) syncDir(dir);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new BackendError(`fs store: cannot write blob ${hash} under ${dir}: ${error}`, {
        cause: error,
      });
    }
    return { hash, wasNew: true };
  }

  /** The blob's bytes, checked against its hash. */
  async get(hash: string): Promise<Uint8Array> {
    const path = this.#path(requireHash("hash", hash));
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new NotFoundError("blob", hash);
      throw new BackendError(`fs store: cannot read blob file ${path}: ${error}`, {
        cause: error,
      });
    }
    if (blake3Hex(bytes) !== hash) {
      throw new BackendError(`fs store: blob file ${path} is corrupt (its hash does not match)`);
    }
    return bytes;
  }
}
