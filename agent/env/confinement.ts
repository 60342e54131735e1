/**
 * What confines an environment, as plain data a session puts in its events
 * and start record, and the one helper that picks the default environment
 * for an agent: the sandboxed one wherever bubblewrap works, failing closed
 * (no shell) where it does not.
 *
 * @module
 */

import type { ExecutionEnvironment } from "./types.ts";
import { ConfinedEnvironment, type ConfinedEnvironmentOptions } from "./confined.ts";

/** How an environment's tools are confined. */
export interface Confinement {
  /** The OS sandbox: "bwrap" (bubblewrap) or "none". */
  readonly sandbox: "bwrap" | "none";
  /**
   * Where the file tools run: in the OS sandbox, in a Deno worker limited
   * to the workspace by Deno permissions, or unconfined on the host.
   */
  readonly files: "sandbox" | "deno-permissions" | "unconfined";
  /** Whether a shell is offered, and how it is confined. */
  readonly shell: "sandbox" | "unconfined" | "unavailable";
  /** Network of the file side (`fetchUrl`): none, allowed hosts only, or the host's. */
  readonly network: "none" | "allowed-hosts" | "host";
  /** Network inside the shell sandbox. */
  readonly shellNetwork: "none" | "host";
  /** Hosts `fetchUrl` may reach, when network is "allowed-hosts". */
  readonly allowedHosts?: readonly string[];
  /** Why there is no OS sandbox, when one was wanted ("auto") but is not usable here. */
  readonly unavailableBecause?: string;
}

/** What an unconfined local environment is. */
export const UNCONFINED: Confinement = {
  sandbox: "none",
  files: "unconfined",
  shell: "unconfined",
  network: "host",
  shellNetwork: "host",
};

/** The confinement of `env`: its own report, or unconfined when it gives none. */
export function confinementOf(env: ExecutionEnvironment): Confinement {
  return env.confinement?.() ?? UNCONFINED;
}

/** A one-line description, e.g. for a status line. */
export function describeConfinement(c: Confinement): string {
  const shell = c.shell === "sandbox"
    ? "shell in bubblewrap"
    : c.shell === "unconfined"
    ? "UNCONFINED shell (opted in)"
    : "no shell";
  const files = c.files === "sandbox"
    ? "file tools in bubblewrap"
    : c.files === "deno-permissions"
    ? "file tools under Deno permissions"
    : "unconfined file tools";
  const none = c.sandbox === "none"
    ? ` — no OS sandbox${c.unavailableBecause ? `: ${c.unavailableBecause}` : ""}`
    : "";
  return `${files}, ${shell}${none}`;
}

/**
 * The environment an agent gets by default for `workspace`: confined to it,
 * inside bubblewrap wherever bubblewrap works; elsewhere the file tools run
 * under Deno permissions and the shell is not offered unless `options`
 * opt in with `unconfinedShell: true`. Initialised before it is returned.
 */
export async function defaultEnvironment(
  workspace: string,
  options: Omit<ConfinedEnvironmentOptions, "workspace"> = {},
): Promise<ConfinedEnvironment> {
  const env = new ConfinedEnvironment({ sandbox: "auto", ...options, workspace });
  await env.initialize();
  return env;
}
