/**
 * What the pipeline's own shell commands (tool stages, tool-call hooks) run
 * with: `sh` by absolute path (so agent/env's runProcess can give it a
 * process group through setsid(1) without forking the runner), the runner's
 * environment, and no time limit of their own (a stage's timeout or
 * cancellation stops them).
 *
 * @module
 */

/** Longest timer a runtime keeps (~24.8 days): "no time limit" for runProcess. */
export const NO_TIMEOUT_MS = 2 ** 31 - 1;

/** The shell, by absolute path where there is one. */
export const SHELL: string = ["/bin/sh", "/usr/bin/sh"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}) ?? "sh";

/** The runner's environment, or a bare PATH when it may not be read (no --allow-env). */
export function inheritedEnv(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return { PATH: "/usr/local/bin:/usr/bin:/bin" };
  }
}
