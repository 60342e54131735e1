/**
 * One process at a time continues a run: `forge run`, `resume` and `answer`
 * hold an exclusive lock on `<run directory>/run.lock` while they work. Two
 * `forge answer` (or `resume`) of the same run at once would otherwise both
 * read the same waiting checkpoint and append to the same store context,
 * interleaving their records and leaving the run unfinished. The lock is an
 * OS file lock (`flock`): it goes when the process ends, however it ends,
 * so a killed run never leaves it behind.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { FileError, pathExists } from "./file_errors.ts";

/** Another process holds the run's lock. */
export class RunBusyError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "RunBusy" as const;
  /** Creates the error for the run directory `dir`. */
  constructor(readonly dir: string) {
    super(
      `another forge process is running this run (it holds ${join(dir, "run.lock")}); ` +
        "wait for it to end, or stop it, then try again",
    );
    this.name = "RunBusyError";
  }
}

/** A held run lock. */
export interface RunLock {
  /** Releases the lock. */
  release(): void;
  /**
   * Releases the lock and removes what taking it made — `run.lock`, and the
   * run directory and its parents when they did not exist — if nothing else
   * was written there since: a command refused after it took the lock leaves
   * nothing behind.
   */
  discard(): Promise<void>;
}

/** How many times {@link lockRun} takes a lock again after the file it locked was removed. */
const RELOCK_TRIES = 8;

/**
 * Takes the lock of run directory `dir` (made if missing) without waiting; {@link RunBusyError} when held.
 *
 * A lock is held only on the file that `run.lock` names once it is taken: a
 * process that opened `run.lock` just before its holder removed it (`discard`)
 * locks the removed file when the holder lets go, while a third creates a new
 * `run.lock` and locks that. So after locking, the open file is compared with
 * the path (inode); a file no longer there is closed and the lock taken again.
 *
 * `afterOpen` is a test seam: called after `run.lock` is opened, before it is locked.
 */
export async function lockRun(
  dir: string,
  options: { afterOpen?: () => void | Promise<void> } = {},
): Promise<RunLock> {
  const lockPath = join(dir, "run.lock");
  for (let tries = 1;; tries++) {
    let file: Deno.FsFile;
    // What taking the lock makes, innermost first, so that discard() can take it back.
    const made: string[] = [];
    try {
      for (let d = resolve(dir); !(await pathExists(d)); d = dirname(d)) {
        made.push(d);
        if (dirname(d) === d) break;
      }
      if (!(await pathExists(lockPath))) made.unshift(lockPath);
      await Deno.mkdir(dir, { recursive: true });
      file = await Deno.open(lockPath, { read: true, write: true, create: true });
    } catch (error) {
      throw new FileError("create", `the run directory ${dir}`, error);
    }
    let locked = false;
    try {
      await options.afterOpen?.();
      locked = await file.tryLock(true);
    } finally {
      if (!locked) file.close();
    }
    if (!locked) throw new RunBusyError(dir);
    if (!isAt(file, lockPath)) {
      // Locked a run.lock that was removed meanwhile: no lock at all.
      file.close();
      if (tries >= RELOCK_TRIES) throw new RunBusyError(dir);
      continue;
    }
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`)).catch(() => {});
    return held(file, made);
  }
}

/** Whether the open `file` is the one `path` names now (same device and inode). */
function isAt(file: Deno.FsFile, path: string): boolean {
  let open: Deno.FileInfo;
  let named: Deno.FileInfo;
  try {
    open = file.statSync();
    named = Deno.statSync(path);
  } catch {
    return false; // the path is gone
  }
  if (open.ino === null || named.ino === null) return true; // no inodes (Windows): trust the lock
  return open.ino === named.ino && open.dev === named.dev;
}

function held(file: Deno.FsFile, made: string[]): RunLock {
  const release = () => {
    try {
      file.close(); // closing drops the flock
    } catch {
      // already closed
    }
  };
  return {
    release,
    discard: async () => {
      // Removed while still held; a process that opened run.lock before it went finds it
      // gone once it locks it, and takes the lock again (lockRun).
      for (const path of made) {
        try {
          await Deno.remove(path); // not recursive: a directory something was written to stays
        } catch {
          break;
        }
      }
      release();
    },
  };
}
