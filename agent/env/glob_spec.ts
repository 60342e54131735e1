/**
 * Glob patterns compiled on the trusted side into plain data (a regular
 * expression's source and flags), so the sandboxed file server can match
 * them without loading a package: it runs inside bubblewrap with only its
 * own source files visible, and picomatch lives in Deno's npm cache.
 *
 * @module
 */

// @ts-types="@types/picomatch"
import picomatch from "picomatch";
import { InvalidArgumentError } from "./types.ts";

/** A compiled glob pattern: plain data that crosses the sandbox boundary. */
export interface GlobSpec {
  /** The pattern as the model wrote it (for messages). */
  readonly pattern: string;
  /** Source of the regular expression a path must match. */
  readonly source: string;
  /** Its flags. */
  readonly flags: string;
  /** Match the file name only (the pattern has no "/"). */
  readonly base: boolean;
  /** Match the absolute path (the pattern starts with "/"). */
  readonly absolute: boolean;
}

/**
 * Compiles a glob the way the tools document it: a pattern without "/"
 * matches the file name at any depth ("*.ts"), one with "/" matches the
 * path relative to the search root ("src/**\/*.ts"), one starting with "/"
 * the absolute path. Dot files match too.
 */
export function compileGlob(pattern: string): GlobSpec {
  if (pattern.trim() === "") throw new InvalidArgumentError("glob pattern is empty", "pattern");
  const body = pattern.startsWith("./") ? pattern.slice(2) : pattern;
  let re: RegExp;
  try {
    re = picomatch.makeRe(body, { dot: true });
  } catch (error) {
    throw new InvalidArgumentError(
      `invalid glob pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`,
      "pattern",
    );
  }
  return {
    pattern,
    source: re.source,
    flags: re.flags,
    base: !pattern.includes("/"),
    absolute: pattern.startsWith("/"),
  };
}
