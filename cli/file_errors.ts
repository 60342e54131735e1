/**
 * What went wrong with a file, in words rather than the OS's
 * (`No such file or directory (os error 2): readfile 'x'`).
 *
 * @module
 */

/** A short reason for a failed file operation: "no such file", "permission denied", …. */
export function fileProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.AlreadyExists) return "a file is in the way";
  if (error instanceof Deno.errors.NotADirectory) return "a part of the path is not a directory";
  if (error instanceof Deno.errors.InvalidData) return "it is not UTF-8 text";
  const message = error instanceof Error ? error.message : String(error);
  // Keep the OS's words but not its error number and syscall.
  return message.replace(/\s*\(os error \d+\).*$/s, "").toLowerCase() || "unknown error";
}

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
