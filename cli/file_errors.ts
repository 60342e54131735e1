/**
 * What went wrong with a file, in words rather than the OS's
 * (`No such file or directory (os error 2): readfile 'x'`).
 * And the CLI's two probes of a path: {@linkcode pathExists}, {@linkcode isFile}.
 *
 * @module
 */

// One wording of OS file errors for the runner's stage failures and the CLI's messages.
import { fileProblem } from "@forge/attractor/engine";
export { fileProblem };

/** A file the command had to read or write could not be. */
export class FileError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "FileError" as const;
  /** Creates the error: `cannot <verb> <path>: <problem>`. */
  constructor(verb: "read" | "write" | "create", readonly path: string, cause: unknown) {
    super(`cannot ${verb} ${path}: ${fileProblem(cause)}`, { cause });
    this.name = "FileError";
  }
}

/** Whether anything (a file, folder or link, even a dangling one) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is a file (following links). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
