/**
 * Maps Deno's file-system errors to {@linkcode EnvError}s that name the path.
 *
 * @module
 */

import { EnvError, EnvNotFoundError, PermissionDeniedError } from "./types.ts";

/** Converts any thrown value from a file operation on `path` into an EnvError. */
export function toEnvError(error: unknown, path: string): EnvError {
  if (error instanceof EnvError) return error;
  if (error instanceof Deno.errors.NotFound) return new EnvNotFoundError(path);
  if (error instanceof Deno.errors.NotCapable) {
    return new PermissionDeniedError(path, "outside the permissions of this environment", {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new PermissionDeniedError(path, "the operating system refused access", {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new EnvError("IsDirectory", `${path} is a directory`, path, { cause: error });
  }
  if (error instanceof Deno.errors.NotADirectory) {
    return new EnvError("IsDirectory", `${path}: a path component is not a directory`, path, {
      cause: error,
    });
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return new EnvError("Aborted", `operation on ${path} was cancelled`, path, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EnvError("Io", `${path}: ${message}`, path, { cause: error });
}

/** Throws an Aborted EnvError when `signal` is aborted. */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new EnvError("Aborted", `${what} was cancelled`, what);
}
