/**
 * Where the system Chromium is: FORGE_CHROMIUM, or Debian's and other
 * distributions' usual paths; undefined when none is installed.
 *
 * @module
 */

/** The path of the system Chromium, or undefined. */
export function findChromium(): string | undefined {
  const candidates = [
    Deno.env.get("FORGE_CHROMIUM"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return undefined;
}
