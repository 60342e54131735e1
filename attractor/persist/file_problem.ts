/**
 * What went wrong with a file, in words rather than the OS's: a stage's
 * failure reason or an error's message names the file and the problem
 * (`it is a directory`), never `EISDIR: Is a directory (os error 21):
 * writefile '…'`.
 *
 * @module
 */

/** A short reason for a failed file operation: "no such file or directory", "it is a directory", …. */
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
  // Keep the OS's words, not its error code, number and syscall.
  return message.replace(/^[A-Z]+: /, "").replace(/\s*\(os error \d+\).*$/s, "").toLowerCase() ||
    "unknown error";
}

/**
 * The message of an error a handler threw, with an OS error put in words:
 * `writefile /x/status.json: it is a directory` (the operation and the path
 * the OS named, then {@linkcode fileProblem}); any other error's message as is.
 */
export function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!/\(os error \d+\)/.test(message)) return message;
  const named = /\(os error \d+\): (\w+) '([^']*)'/.exec(message);
  return named ? `${named[1]} ${named[2]}: ${fileProblem(error)}` : fileProblem(error);
}
