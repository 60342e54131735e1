/**
 * Facts about the host, read once and tolerant of missing permissions.
 *
 * @module
 */

/** The kernel release, or "unknown" when it may not be read. */
export function hostOsVersion(): string {
  try {
    return Deno.osRelease();
  } catch {
    return "unknown";
  }
}

/** The platform name in the spec's vocabulary ("linux", "darwin", "windows"). */
export function hostPlatform(): string {
  return Deno.build.os;
}

/** The first of `candidates` that is an existing file, if any. */
export function findExecutable(candidates: readonly string[]): string | undefined {
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* try the next */ }
  }
  return undefined;
}
