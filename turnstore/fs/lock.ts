/**
 * One writer per store directory: an exclusive `flock` on `<dir>/LOCK` keeps
 * other processes out, and a set of directories open in this process gives a
 * second in-process open a clear error instead of a second writer.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";

const openHere = new Set<string>();

/** A held directory lock; release it exactly once. */
export interface DirLock {
  /** Unlocks and closes the lock file. */
  release(): void;
}

/** Takes the lock of `dir` (its real path) without waiting; BackendError when it is held. */
export async function lockDirectory(dir: string): Promise<DirLock> {
  if (openHere.has(dir)) {
    throw new BackendError(
      `fs store ${dir} is already open in this process; close it before opening it again`,
    );
  }
  const file = await Deno.open(`${dir}/LOCK`, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } catch (error) {
    file.close();
    throw new BackendError(`fs store ${dir}: cannot lock ${dir}/LOCK: ${error}`, {
      cause: error,
    });
  }
  if (!locked) {
    file.close();
    throw new BackendError(
      `fs store ${dir} is locked by another process (exclusive lock on ${dir}/LOCK); ` +
        `only one process may open a store directory at a time`,
    );
  }
  openHere.add(dir);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      openHere.delete(dir);
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}
