/**
 * A look at a Deno KV file before Deno KV opens it.
 *
 * Deno KV reads its queue and expiry tables on threads of its own, and a
 * SQLite error there ends the process (a Rust panic, "KV queue_next_ready
 * failed: database disk image is malformed") instead of reaching the
 * caller. So before an existing file is opened, the rows those threads read
 * first are read here through node:sqlite (the same SQLite library, linked
 * once into Deno), and damage there becomes a Backend error naming the file.
 * Damage anywhere else is met by a read or commit, which Deno KV reports as
 * an error, and the store turns into a Backend error as usual.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { BackendError } from "../core/errors.ts";

/** What Deno KV's own threads read first: its version row, queue heads, the expiry index. */
const BACKGROUND_READS = [
  "select version from data_version where k = 0",
  "select ts from queue order by ts limit 1",
  "select id from queue_running order by deadline limit 1",
  "select expiration_ms from kv where expiration_ms >= 0 order by expiration_ms limit 1",
] as const;

// SQLite's primary result codes for a damaged file.
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/**
 * Throws a BackendError when the existing KV file at `path` is damaged where
 * Deno KV's background threads would read it. A missing file, a file that
 * cannot be opened for reading here, and tables not created yet pass: Deno KV
 * creates or reports those itself.
 */
export function probeKvFile(path: string): void {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch {
    return; // missing or not readable here: Deno.openKv says what is wrong
  }
  try {
    for (const sql of BACKGROUND_READS) {
      try {
        db.prepare(sql).all();
      } catch (error) {
        const primary = ((error as { errcode?: number }).errcode ?? 0) & 0xff;
        if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
          throw new BackendError(
            `kv file ${path} is damaged (${(error as Error).message}); ` +
              `it was not opened, and nothing in it was changed`,
            { cause: error },
          );
        }
        // Anything else (a table not created yet, a busy lock): Deno KV decides.
      }
    }
    refuseForeignDatabase(db, path);
  } finally {
    db.close();
  }
}

/**
 * Throws a BackendError when the file is a SQLite database of another
 * program: it has tables, and none is Deno KV's `kv`. Deno KV would add its
 * tables beside the other program's and the store would write there. An
 * empty database (as `new_file.ts` makes one) and any Deno KV file pass; rows
 * of another program inside a Deno KV file are refused where they are read.
 */
function refuseForeignDatabase(db: DatabaseSync, path: string): void {
  let tables: string[];
  try {
    tables = db.prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
    ).all().map((row) => String((row as { name: unknown }).name));
  } catch {
    return; // unreadable here: Deno.openKv says what is wrong
  }
  if (tables.length > 0 && !tables.includes("kv")) {
    throw new BackendError(
      `kv file ${path} is a SQLite database of another program (tables: ${
        tables.slice(0, 5).join(", ")
      }${
        tables.length > 5 ? ", …" : ""
      }), not a Deno KV file; it was not opened, and nothing in it was changed`,
    );
  }
}
