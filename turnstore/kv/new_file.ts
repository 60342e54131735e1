/**
 * A new Deno KV file gets 8 KiB SQLite pages: `openKvStore` creates the file
 * through node:sqlite (the SQLite Deno KV links too; no dependency) before
 * Deno KV opens it, and Deno KV keeps the page size of the file it finds.
 * An existing file is never touched.
 *
 * Why 8 KiB (bench/README.md, "ninth pass, kv"): 10 KB turns spill into
 * fewer overflow pages and a B-tree page holds more cells, so 64 writers of
 * 10 KB turns ran ~15% faster (kv vs fs 0.26 → 0.30, five pairs), while the
 * agent and pipeline figures, whose commits are small, did not move beyond
 * their noise. 64 KiB pages doubled the 64-writer figure but every small
 * commit writes whole pages into the WAL: a lone append's commit rate fell
 * by ~40% and the pipeline figure rose from 1.31 to 1.51. 16 KiB gave less
 * than 8 KiB.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** SQLite page size of a KV file that `openKvStore` creates. */
export const NEW_KV_FILE_PAGE_BYTES = 8 * 1024;

/**
 * Creates an empty SQLite file at `path` with `pageBytes`-byte pages in WAL
 * mode, when nothing is there; returns whether it did. When the path exists,
 * or the file cannot be created here, nothing changes and Deno.openKv
 * decides (and reports) as before. Two processes creating the same path race
 * harmlessly: one creates the file, and SQLite ignores a page size set after
 * Deno KV made its tables.
 */
export function createKvFile(path: string, pageBytes = NEW_KV_FILE_PAGE_BYTES): boolean {
  try {
    Deno.lstatSync(path);
    return false; // there already: never changed
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return false;
  }
  try {
    Deno.openSync(path, { write: true, createNew: true }).close();
  } catch {
    return false; // created meanwhile, or not creatable here: Deno.openKv decides
  }
  try {
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA page_size = ${pageBytes}; PRAGMA journal_mode = WAL;`);
    } finally {
      db.close();
    }
  } catch {
    // Another process's Deno KV got there first (a busy lock): the file is
    // a valid database with the default page size, which is all this loses.
    return false;
  }
  return true;
}
