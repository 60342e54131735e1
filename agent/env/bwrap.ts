/**
 * bubblewrap (`bwrap`) confinement for shell commands: the workspace bound
 * read-write, the system's programs and libraries read-only, a fresh /proc,
 * /dev and /tmp, new namespaces (pid, network, ipc, uts, user where
 * possible), all capabilities dropped, and the sandbox dying with its parent.
 * Nothing else of the host is visible: not /home, not most of /etc.
 *
 * @module
 */

import { findExecutable } from "./system.ts";

/** System directories bound read-only (a symlinked one, as on merged-/usr systems, is recreated as a link). */
export const SYSTEM_DIRS: readonly string[] = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"];

/** The few files of /etc programs need to start; the rest of /etc (hostname, passwd, …) stays hidden. */
export const ETC_FILES: readonly string[] = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/localtime",
  "/etc/ssl",
  "/etc/ca-certificates",
];

/** How a command is confined by bwrap. */
export interface BwrapPolicy {
  /** Real path of the workspace, bound read-write at the same path. */
  readonly workspace: string;
  /** Directory the command starts in (inside the workspace). */
  readonly cwd: string;
  /** Whether the sandbox keeps the host's network (default: a new, empty network namespace). */
  readonly network?: boolean;
  /** More host paths to bind read-only at the same path (e.g. a toolchain). */
  readonly readOnlyPaths?: readonly string[];
}

/** The path of bwrap, if installed. */
export function findBwrap(): string | undefined {
  return findExecutable(["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"]);
}

function bindSystem(args: string[], path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return; // not on this system
  }
  if (info.isSymlink) args.push("--symlink", Deno.readLinkSync(path), path);
  else args.push("--ro-bind", path, path);
}

function baseArgs(network: boolean, readOnlyPaths: readonly string[]): string[] {
  const args = [
    "--die-with-parent",
    "--unshare-user-try",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--cap-drop",
    "ALL",
    "--hostname",
    "sandbox",
  ];
  if (!network) args.push("--unshare-net");
  for (const dir of SYSTEM_DIRS) bindSystem(args, dir);
  for (const path of ETC_FILES) args.push("--ro-bind-try", path, path);
  for (const path of readOnlyPaths) args.push("--ro-bind", path, path);
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  return args;
}

/** The bwrap arguments (before "--" and the command) for `policy`. */
export function bwrapArgs(policy: BwrapPolicy): string[] {
  const args = baseArgs(policy.network ?? false, policy.readOnlyPaths ?? []);
  args.push("--bind", policy.workspace, policy.workspace, "--chdir", policy.cwd);
  return args;
}

let usable: Promise<string | undefined> | undefined;

/**
 * The path of a bwrap that actually works here (installed and allowed to
 * create namespaces), probed once; undefined otherwise.
 */
export function usableBwrap(): Promise<string | undefined> {
  usable ??= (async () => {
    const bwrap = findBwrap();
    if (!bwrap) return undefined;
    try {
      const probe = await new Deno.Command(bwrap, {
        args: [...baseArgs(false, []), "--", "/bin/sh", "-c", "true"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      return probe.success ? bwrap : undefined;
    } catch {
      return undefined;
    }
  })();
  return usable;
}
