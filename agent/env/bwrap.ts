/**
 * bubblewrap (`bwrap`) sandboxes: the workspace bound read-write at its own
 * path, the system's programs and libraries read-only, a fresh /proc, /dev
 * and a size-limited /tmp, new namespaces (pid, network, ipc, uts, cgroup,
 * user where possible), all capabilities dropped, a new terminal session,
 * and the sandbox dying with its parent. Nothing else of the host is
 * visible: not /home, not most of /etc, not the agent's own files.
 *
 * Two kinds run in it: each shell command (one bwrap per command, so the
 * command's PID namespace — everything it started — dies with the call),
 * and the session's file server (one long-lived Deno process serving every
 * file tool call).
 *
 * @module
 */

import { dirname } from "node:path";
import { findExecutable } from "./system.ts";
import { EnvError } from "./types.ts";

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

/** Size of the sandbox's private /tmp (a tmpfs counts against memory). */
export const SANDBOX_TMP_BYTES = 64 * 1024 * 1024;

/** How a sandbox is built. */
export interface BwrapPolicy {
  /** Real path of the workspace, bound read-write at the same path. */
  readonly workspace: string;
  /** Directory the program starts in (inside the workspace). */
  readonly cwd: string;
  /** Whether the sandbox keeps the host's network (default: a new, empty network namespace). */
  readonly network?: boolean;
  /** More host paths to bind read-only at the same path (e.g. a toolchain). */
  readonly readOnlyPaths?: readonly string[];
  /** Size of /tmp in bytes (default {@linkcode SANDBOX_TMP_BYTES}). */
  readonly tmpBytes?: number;
  /**
   * Paths inside the workspace bound read-only over the writable workspace
   * (e.g. `.git`: hooks and config written in the sandbox would run later,
   * outside it, when the user runs git).
   */
  readonly protectedPaths?: readonly string[];
  /**
   * Files inside the workspace hidden behind an empty file (other hard links
   * of them may lie outside). Each directory between the workspace and one
   * of them is bound onto itself read-write, and bwrap follows symlinks in a
   * bind's source and destination: the caller passes only files whose
   * directories it found to be real directories (real path equal to the
   * path), as `ConfinedEnvironment` does where it reads the file system.
   */
  readonly maskedFiles?: readonly string[];
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

const baseCache = new Map<string, readonly string[]>();

/** The arguments shared by every sandbox with these settings, built once (they stat the system dirs). */
function baseArgs(network: boolean, readOnlyPaths: readonly string[], tmpBytes: number): string[] {
  const key = JSON.stringify([network, readOnlyPaths, tmpBytes]);
  let args = baseCache.get(key);
  if (!args) {
    args = buildBaseArgs(network, readOnlyPaths, tmpBytes);
    baseCache.set(key, args);
  }
  return [...args];
}

function buildBaseArgs(
  network: boolean,
  readOnlyPaths: readonly string[],
  tmpBytes: number,
): string[] {
  const args = [
    "--die-with-parent",
    "--new-session", // no TIOCSTI into a terminal the agent runs in
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
  args.push("--proc", "/proc");
  // bwrap covers /proc/sys read-only only when access(2) says it is writable,
  // and as real root with every capability dropped access() says no (the
  // directory is mode 555) while writes to the files inside still succeed:
  // the kernel checks sysctl writes by uid, not by capability. Unbound, a
  // command run as root could set kernel.core_pattern, a program the host's
  // kernel runs as root on the next crash. Bound read-only here in every case.
  args.push("--ro-bind", "/proc/sys", "/proc/sys");
  args.push("--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger");
  args.push("--dev", "/dev", "--size", String(tmpBytes), "--tmpfs", "/tmp");
  // After the sandbox's own /tmp, which would cover a read-only path under it.
  for (const path of readOnlyPaths) args.push("--ro-bind", path, path);
  return args;
}

/** The bwrap arguments (before "--" and the command) for `policy`. */
export function bwrapArgs(policy: BwrapPolicy): string[] {
  const args = baseArgs(
    policy.network ?? false,
    policy.readOnlyPaths ?? [],
    policy.tmpBytes ?? SANDBOX_TMP_BYTES,
  );
  args.push("--bind", policy.workspace, policy.workspace);
  const masked = policy.maskedFiles ?? [];
  // A mask sits on a path, and the file under it keeps its inode when a
  // directory above it is renamed: `mv sub sub2` in one command, and the next
  // command's mask (still at sub/…) would miss sub2/… . A directory that is a
  // mount point cannot be renamed or removed (EBUSY), so every directory
  // between the workspace and a masked file is bound onto itself. bwrap takes
  // each source from the host, where none of these binds exist, so a later
  // bind of a parent would hide an earlier one of its child: parents go first,
  // and a directory under a protected path is bound read-only like it. These
  // binds follow symlinks, so a directory swapped for a link would bind the
  // link's target read-write: this function stays pure, and the caller drops
  // every masked file whose directories are not real (see `maskedFiles`).
  for (const [dir, readOnly] of selfBinds(policy)) {
    args.push(readOnly ? "--ro-bind" : "--bind", dir, dir);
  }
  for (const path of masked) args.push("--ro-bind", "/dev/null", path);
  args.push("--chdir", policy.cwd);
  return args;
}

/** The workspace directories bound onto themselves, parents first, each with whether read-only. */
function selfBinds(policy: BwrapPolicy): [string, boolean][] {
  const locked = policy.protectedPaths ?? [];
  const dirs = new Map<string, boolean>();
  for (const dir of maskAncestors(policy.workspace, policy.maskedFiles ?? [])) {
    dirs.set(dir, locked.some((path) => dir === path || dir.startsWith(`${path}/`)));
  }
  for (const path of locked) dirs.set(path, true);
  return [...dirs].sort(([a], [b]) => a.split("/").length - b.split("/").length);
}

/** A path as /proc/self/mountinfo spells it (space, tab, newline and backslash in octal). */
function mountinfoPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

function bashQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * bash text to run first in a sandbox built with `policy`, before the
 * command. bwrap follows symlinks in a bind's source (on the host) and
 * destination (in the new root), and a command running meanwhile could swap
 * a directory bound onto itself read-write (see `maskedFiles`) for a link
 * between the caller's check and bwrap's mount: the bind would then sit on
 * the link's target, or show it at the directory's path. So the shell ends
 * (exit 125, before the command) unless each such directory is a mount
 * point (`/proc/self/mountinfo`) that is the directory the caller found:
 * `ids` maps each to its `dev:ino`, read with lstat after its real-path
 * check. Empty when there is no such directory.
 */
export function bindCheck(policy: BwrapPolicy, ids: ReadonlyMap<string, string>): string {
  const dirs = selfBinds(policy).filter(([, readOnly]) => !readOnly).map(([dir]) => dir);
  if (!dirs.length) return "";
  const expected = dirs.map((dir) => ids.get(dir) ?? "unknown").join("\n");
  return "unset __forge_mp; declare -A __forge_mp; __forge_ok=y; " +
    "while read -r __forge_x __forge_x __forge_x __forge_x __forge_m __forge_x; do " +
    '__forge_mp["$__forge_m"]=1; done < /proc/self/mountinfo; ' +
    `for __forge_m in ${dirs.map((dir) => bashQuote(mountinfoPath(dir))).join(" ")}; do ` +
    '[ -n "${__forge_mp["$__forge_m"]}" ] || __forge_ok=n; done; ' +
    `[ $__forge_ok = y ] && [ "$(stat -c %d:%i -- ${dirs.map(bashQuote).join(" ")} ` +
    `2>/dev/null)" = ${bashQuote(expected)} ] || ` +
    "{ echo 'forge: a directory of the workspace was swapped for a link while the sandbox " +
    "was built; the command was not run' >&2; exit 125; }; " +
    "unset __forge_mp __forge_ok __forge_x __forge_m\n";
}

/** The directories strictly between `workspace` and each of `files`, each once. */
function maskAncestors(workspace: string, files: readonly string[]): string[] {
  const out = new Set<string>();
  for (const file of files) {
    for (let dir = dirname(file); dir.startsWith(`${workspace}/`); dir = dirname(dir)) {
      out.add(dir);
    }
  }
  return [...out];
}

/**
 * bash text run first in every sandboxed command: closes every descriptor
 * but 0, 1 and 2. Deno passes a spawned program every descriptor the agent
 * itself inherited without close-on-exec (from whatever started it: a CI
 * runner's pipe, a terminal multiplexer's socket, a directory a parent
 * opened), and bubblewrap passes them on into the sandbox, where an open
 * directory is a way out of the view (`/proc/self/fd/N/..`) and a pipe a way
 * to write to the host. bwrap's own init (pid 1 inside) holds none of them,
 * so after this the command's processes hold none either.
 */
export const CLOSE_INHERITED_FDS: string =
  "for __forge_fd in /proc/self/fd/*; do __forge_fd=${__forge_fd##*/}; " +
  'case $__forge_fd in 0|1|2|*[!0-9]*) ;; *) eval "exec $__forge_fd>&-" ;; esac; done; ' +
  "unset __forge_fd\n";

/** The modules the sandboxed file server loads (static imports of `file_server_main.ts`). */
export const FILE_SERVER_MODULES: readonly string[] = [
  "file_server_main.ts",
  "file_service.ts",
  "fs_ops.ts",
  "guard.ts",
  "types.ts",
  "errors.ts",
  "text.ts",
];

/**
 * The command line that starts the file server inside bubblewrap: the Deno
 * binary and the server's own modules bound read-only at their host paths,
 * no network, and Deno permissions to read and write the workspace only.
 * Needs the modules on local disk (a `file:` URL).
 */
export function fileServerCommand(
  bwrap: string,
  workspace: string,
  protectedPaths: readonly string[] = [],
): { program: string; args: string[]; env: Record<string, string> } | undefined {
  const here = new URL(".", import.meta.url);
  if (here.protocol !== "file:") return undefined;
  let deno: string;
  try {
    deno = Deno.execPath();
  } catch (error) {
    throw new EnvError(
      "PermissionDenied",
      "the sandboxed file server needs read permission for the Deno binary (Deno.execPath())",
      "deno",
      { cause: error },
    );
  }
  const dir = decodeURIComponent(here.pathname).replace(/\/$/, "");
  const args = bwrapArgs({
    workspace,
    cwd: workspace,
    network: false,
    tmpBytes: 32 << 20,
    protectedPaths,
  });
  args.push("--ro-bind", deno, deno);
  for (const name of FILE_SERVER_MODULES) {
    args.push("--ro-bind", `${dir}/${name}`, `${dir}/${name}`);
  }
  args.push(
    "--",
    deno,
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    "--no-prompt",
    `--allow-read=${workspace}`,
    `--allow-write=${workspace}`,
    `${dir}/file_server_main.ts`,
  );
  return {
    program: bwrap,
    args,
    env: {
      DENO_DIR: "/tmp/deno",
      HOME: "/tmp",
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      PATH: dirname(deno),
    },
  };
}

/** Whether bubblewrap works here, and why not when it does not. */
export interface BwrapStatus {
  /** The path of a working bwrap. */
  readonly path?: string;
  /** Why there is none (not installed, not permitted to run, cannot create namespaces). */
  readonly reason?: string;
}

let status: Promise<BwrapStatus> | undefined;

/** Probes bubblewrap once: installed, allowed to run, and able to create its namespaces here. */
export function bwrapStatus(): Promise<BwrapStatus> {
  status ??= (async (): Promise<BwrapStatus> => {
    const readable = Deno.permissions.querySync({ name: "read", path: "/usr" }).state === "granted";
    if (!readable) {
      return { reason: "no read permission for the system directories (/usr, /bin, /lib…)" };
    }
    const bwrap = findBwrap();
    if (!bwrap) return { reason: "bubblewrap (bwrap) is not installed" };
    let probe: Deno.CommandOutput;
    try {
      probe = await new Deno.Command(bwrap, {
        args: [...baseArgs(false, [], 1 << 20), "--", "/bin/sh", "-c", "true"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    } catch (error) {
      return {
        reason: error instanceof Deno.errors.NotCapable
          ? `no permission to run ${bwrap} (grant --allow-run=bwrap)`
          : `${bwrap} cannot be started: ${(error as Error).message}`,
      };
    }
    if (probe.success) return { path: bwrap };
    const detail = new TextDecoder().decode(probe.stderr).trim().split("\n")[0];
    return { reason: `${bwrap} cannot create its sandbox here${detail ? `: ${detail}` : ""}` };
  })();
  return status;
}

/**
 * The path of a bwrap that actually works here (installed and allowed to
 * create namespaces), probed once; undefined otherwise.
 */
export async function usableBwrap(): Promise<string | undefined> {
  return (await bwrapStatus()).path;
}
