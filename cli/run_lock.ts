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
import { join } from "node:path";
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
}

/** Takes the lock of run directory `dir` (made if missing) without waiting; {@link RunBusyError} when held. */
export async function lockRun(dir: string): Promise<RunLock> {
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dir, { recursive: true });
    file = await Deno.open(join(dir, "run.lock"), { read: true, write: true, create: true });
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
  return {
    release: () => {
      try {
        file.close(); // closing drops the flock
      } catch {
        // already closed
      }
    },
  };
}
