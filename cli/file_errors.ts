/**
 * What went wrong with a file, in words rather than the OS's
 * (`No such file or directory (os error 2): readfile 'x'`).
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
