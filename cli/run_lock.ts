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
import { FileError } from "./file_errors.ts";

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

/** Takes the lock of run directory `dir` (made if missing) without waiting; {@link RunBusyError} when held. */
export async function lockRun(dir: string): Promise<RunLock> {
  let file: Deno.FsFile;
  const lockPath = join(dir, "run.lock");
  // What taking the lock makes, innermost first, so that discard() can take it back.
  const made: string[] = [];
  try {
    for (let d = resolve(dir); !(await exists(d)); d = dirname(d)) {
      made.push(d);
      if (dirname(d) === d) break;
    }
    if (!(await exists(lockPath))) made.unshift(lockPath);
    await Deno.mkdir(dir, { recursive: true });
    file = await Deno.open(lockPath, { read: true, write: true, create: true });
  } catch (error) {
    throw new FileError("create", `the run directory ${dir}`, error);
  }
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) throw new RunBusyError(dir);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`)).catch(() => {});
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
      // Removed while still held, so no other process takes a lock on a file about to go.
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
