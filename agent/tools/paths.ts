/**
 * How tools show paths to the model: relative to the working directory when
 * inside it (shorter, stable), absolute otherwise.
 *
 * @module
 */

import { isAbsolute, relative } from "node:path";

/** `path` as the model should see it, given the environment's working directory. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}
