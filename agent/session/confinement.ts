/**
 * How a session states and applies its environment's confinement: the
 * fields of its started record, and the tools it withholds — no shell is
 * offered where the environment has none to give (no OS sandbox and no
 * explicit opt-in to an unconfined one).
 *
 * @module
 */

import type { Confinement } from "../env/confinement.ts";
import type { SessionLifecycleValue } from "../records.ts";
import type { ToolRegistry } from "../tools/types.ts";

/** Tools that run commands, withheld when the environment offers no shell. */
export const SHELL_TOOLS: readonly string[] = ["shell"];

/** The started record's confinement fields. */
export function confinementFields(
  c: Confinement,
): Pick<SessionLifecycleValue, "sandbox" | "fileTools" | "shell" | "network" | "allowedHosts"> {
  return {
    sandbox: c.sandbox,
    fileTools: c.files,
    shell: c.shell,
    network: c.network,
    allowedHosts: c.allowedHosts?.length ? [...c.allowedHosts] : undefined,
  };
}

/** Removes the shell from `registry` when `c` offers none; returns the names removed. */
export function withholdUnavailableTools(registry: ToolRegistry, c: Confinement): string[] {
  if (c.shell !== "unavailable") return [];
  return SHELL_TOOLS.filter((name) => registry.unregister(name));
}
