/**
 * The confined environment. With bubblewrap (the default wherever it
 * works), every tool runs inside the same OS sandbox whose filesystem view
 * holds only the workspace (read-write) and read-only system directories:
 * the file tools are served by one long-lived Deno process in it (Deno
 * permissions to the workspace as a second layer), each shell command gets
 * a sandbox of its own that dies with the call. Without bubblewrap it fails
 * closed: the file tools run in a Deno worker with workspace-only
 * permissions and a real-path guard, and the shell is refused unless the
 * user opts in with `unconfinedShell: true`. See README.md's threat model.
 *
 * @module
 */

import { basename, dirname, resolve as resolvePath } from "node:path";
import type {
  DirEntry,
  ExecLimits,
  ExecRequest,
  ExecResult,
  ExecutionEnvironment,
  FetchRequest,
  FetchResult,
  FileContent,
  GlobOptions,
  GrepOptions,
  GrepResult,
  ReadFileOptions,
  WriteResult,
} from "./types.ts";
import { EnvError, PermissionDeniedError } from "./types.ts";
import { type FileResponse, mustMask, type SelfCheck } from "./file_service.ts";
import { type FileChannel, processChannel, workerChannel } from "./file_channel.ts";
import { FileRequests } from "./file_requests.ts";
import { checkCommand, DEFAULT_ALLOWED_PROGRAMS, ShellPolicyError } from "./shell_policy.ts";
import {
  bindCheck,
  bwrapArgs,
  bwrapStatus,
  CLOSE_INHERITED_FDS,
  fileServerCommand,
  SYSTEM_DIRS,
} from "./bwrap.ts";
import { runProcess } from "./process.ts";
import { findExecutable, hostOsVersion, hostPlatform } from "./system.ts";
import { toEnvError } from "./errors.ts";
import { compileGlob } from "./glob_spec.ts";
import { fetchAllowed } from "./fetch_policy.ts";
import { osLimitsHit, resolveLimits, ulimitPrologue } from "./limits.ts";
import type { Confinement } from "./confinement.ts";

/** Which OS sandbox the environment uses. */
export type SandboxMode =
  /** bubblewrap if it works here; otherwise none, failing closed (no shell without opt-in). */
  | "auto"
  /** bubblewrap, and initialize() fails if it does not work here. */
  | "bwrap"
  /** No OS sandbox: file tools in a Deno worker; no shell without opt-in. */
  | "none";

/** Options of {@linkcode ConfinedEnvironment}. */
export interface ConfinedEnvironmentOptions {
  /** The workspace directory; it must exist. Everything is confined to its real path. */
  readonly workspace: string;
  /** Working directory inside the workspace (default: the workspace). */
  readonly workingDirectory?: string;
  /**
   * Programs the shell may run, checked against the command text. Without
   * an OS sandbox the default is {@linkcode DEFAULT_ALLOWED_PROGRAMS}; in
   * bubblewrap there is no allowlist unless one is given.
   */
  readonly allowedPrograms?: readonly string[];
  /** "host" or "host:port" entries `fetchUrl` may reach (default: none). */
  readonly allowedHosts?: readonly string[];
  /** Which OS sandbox to use (default "auto"). */
  readonly sandbox?: SandboxMode;
  /**
   * Offer a shell even where no OS sandbox is available: commands then run
   * on the host with the agent's rights, filtered only by the command-text
   * allowlist, which is not a boundary. Recorded in the session's start
   * record. Default false: no sandbox, no shell.
   */
  readonly unconfinedShell?: boolean;
  /** Whether sandboxed shell commands keep the host network (default false). */
  readonly shellNetwork?: boolean;
  /**
   * Extra host paths outside the workspace visible read-only inside the
   * bubblewrap sandbox (under /tmp too); a path inside the workspace that
   * must stay read-only belongs in `protectedPaths`.
   */
  readonly readOnlyPaths?: readonly string[];
  /**
   * Workspace paths that stay read-only inside the sandbox, for the shell
   * and the file tools alike (default [".git"]: a hook or config written by
   * the agent would run later outside the sandbox, when the user runs git).
   * Only paths that exist when the environment starts are protected.
   */
  readonly protectedPaths?: readonly string[];
  /** PATH of shell commands (default /usr/local/bin:/usr/bin:/bin). */
  readonly path?: string;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  readonly killGraceMs?: number;
  /** Resource limits of every command (defaults in `limits.ts`). */
  readonly limits?: ExecLimits;
  /**
   * Limit of one file operation (default 60 000 ms; `Infinity`: none). An operation that
   * overruns it, or is cancelled and does not stop within a second, gets
   * the file service replaced.
   */
  readonly operationTimeoutMs?: number;
}

/** Variables a command may not set: they change what runs or how the shell parses. */
const FORBIDDEN_VARS =
  /^(PATH|IFS|ENV|BASH_ENV|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|CDPATH|GLOBIGNORE|LD_.*|DYLD_.*|BASH_FUNC_.*)$/;

/**
 * Most entries the shell sandbox hides (files with several hard links, Unix
 * sockets); beyond it the shell is refused.
 */
export const MAX_MASKED_HARD_LINKS = 1000;

/** Directories a workspace may not be, nor contain. */
const SYSTEM_ROOTS: readonly string[] = [...SYSTEM_DIRS, "/etc", "/proc", "/dev", "/sys"];

/**
 * Refuses a workspace that is or contains a system directory. The
 * workspace is bound read-write over everything bound before it: one
 * holding /usr or /proc would give the sandbox the host's programs to
 * change and the agent's /proc/<pid>/environ to read, and the Deno worker
 * read access to all of it.
 */
function refuseSystemWorkspace(root: string): void {
  const held = SYSTEM_ROOTS.find((dir) =>
    root === "/" || dir === root || dir.startsWith(`${root}/`)
  );
  if (held) {
    throw new EnvError(
      "InvalidArgument",
      `workspace ${root} contains the system directory ${held}; ` +
        "a workspace must be a project directory, not a system one",
      root,
    );
  }
}

/** A workspace-confined {@linkcode ExecutionEnvironment}. */
export class ConfinedEnvironment implements ExecutionEnvironment {
  readonly #options: ConfinedEnvironmentOptions;
  readonly #limits;
  #root = "";
  #cwd = "";
  #channel: FileChannel | undefined;
  /** Resolves when the current file service is ready; rejects if it could not start. */
  #ready: Promise<void> | undefined;
  /** The channel whose service has started and passed its self check (the fast path of a call). */
  #readyChannel: FileChannel | undefined;
  readonly #requests: FileRequests;
  #bwrap: string | undefined;
  #noSandboxReason: string | undefined;
  /** Entries found at start that the shell sandbox hides (see `entriesToMask`). */
  #masked: readonly string[] = [];
  /** Whether the start scan found more such entries than the sandbox hides (no shell then). */
  #tooManyMasked = false;
  #protected: readonly string[] = [];
  #starting: Promise<void> | undefined;
  #closed = false;
  #restarts = 0;

  /** Creates the environment; call {@linkcode ConfinedEnvironment.initialize} before use. */
  constructor(options: ConfinedEnvironmentOptions) {
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
    this.#requests = new FileRequests({
      limitMs: options.operationTimeoutMs ?? 60_000,
      onStuck: (channel, reason) => {
        if (channel === this.#channel) this.#restart(reason);
      },
    });
  }

  /** Whether the tools run inside bubblewrap (known after initialize). */
  get sandboxed(): boolean {
    return this.#bwrap !== undefined;
  }

  /** Programs the shell may run, or undefined when any program may (inside bubblewrap). */
  get allowedPrograms(): readonly string[] | undefined {
    return this.#options.allowedPrograms ??
      (this.#bwrap ? undefined : DEFAULT_ALLOWED_PROGRAMS);
  }

  /** How often the file service was replaced because an operation hung. */
  get restarts(): number {
    return this.#restarts;
  }

  /** What confines this environment (final after initialize). */
  confinement(): Confinement {
    const sandbox = this.#bwrap ? "bwrap" : "none";
    return {
      sandbox,
      files: this.#bwrap ? "sandbox" : "deno-permissions",
      shell: this.#bwrap ? "sandbox" : this.#options.unconfinedShell ? "unconfined" : "unavailable",
      network: this.#options.allowedHosts?.length ? "allowed-hosts" : "none",
      shellNetwork: this.#bwrap && this.#options.shellNetwork ? "host" : "none",
      allowedHosts: [...(this.#options.allowedHosts ?? [])],
      ...(this.#noSandboxReason && !this.#bwrap
        ? { unavailableBecause: this.#noSandboxReason }
        : {}),
    };
  }

  /**
   * Resolves the workspace, starts the file service (in bubblewrap when
   * available) and verifies that it really lacks env, run, ffi, network and
   * outside-workspace access, failing closed otherwise.
   */
  initialize(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new EnvError("Closed", "the confined environment is closed"));
    }
    this.#starting ??= this.#start().catch(async (error) => {
      await this.close();
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    // Checked as named (Deno resolves a path under /proc only with --allow-all) and as resolved.
    refuseSystemWorkspace(resolvePath(this.#options.workspace));
    try {
      this.#root = await Deno.realPath(this.#options.workspace);
      if (!(await Deno.stat(this.#root)).isDirectory) {
        throw new EnvError(
          "InvalidArgument",
          `workspace ${this.#options.workspace} is not a directory`,
        );
      }
    } catch (error) {
      throw toEnvError(error, this.#options.workspace);
    }
    refuseSystemWorkspace(this.#root);
    if (this.#root.includes(",")) {
      // Deno's --allow-read=a,b list would read it as two paths.
      throw new EnvError(
        "InvalidArgument",
        `workspace ${this.#root} contains a comma, which Deno's permission flags cannot express`,
        this.#root,
      );
    }
    const mode = this.#options.sandbox ?? "auto";
    if (mode !== "none") {
      const status = await bwrapStatus();
      this.#bwrap = status.path;
      this.#noSandboxReason = status.reason;
      if (!this.#bwrap && mode === "bwrap") {
        throw new EnvError(
          "Unsupported",
          `sandbox "bwrap" was required but bubblewrap is not usable here: ${status.reason}`,
        );
      }
    }
    this.#protected = this.#existingProtectedPaths();
    await this.#spawn(this.#root);
    const cwd = await this.#call<string>("resolveDir", [
      resolvePath(this.#root, this.#options.workingDirectory ?? "."),
    ]);
    if (cwd !== this.#root) await this.#spawn(cwd);
    this.#cwd = cwd;
    if (this.#bwrap) {
      this.#masked = await this.#call<string[]>("entriesToMask", [MAX_MASKED_HARD_LINKS + 1]);
      this.#tooManyMasked = this.#masked.length > MAX_MASKED_HARD_LINKS;
    }
  }

  /**
   * The entries found at start that still need a mask: a file replaced by
   * write_file or deleted since needs none (and bwrap would create a
   * missing mount point as an empty file in the workspace). With them, the
   * `dev:ino` of each directory between the workspace and one of them, for
   * {@linkcode bindCheck}.
   *
   * Only a path whose directories are all real directories of the workspace
   * keeps its mask: `bwrapArgs` binds each of them onto itself read-write,
   * and bwrap follows a symlink in both the source and the destination of a
   * bind, so a directory the shell swapped for a link (`ln -s ../../usr/lib
   * sub`) would bind the link's target read-write over its read-only self.
   * This is where the file system is read, so the filter is here, not in the
   * pure `bwrapArgs`. Nothing is uncovered by it: the start scan found the
   * masked files under real directories, whose mounts keep them there while
   * masked, so a path that now runs through a link names something else,
   * which the sandbox sees anyway at its own path, with its own binding.
   * A path that fails once is dropped for good: the file planted at start
   * is no longer there (a link made in the sandbox joins two workspace
   * files, nothing outside), and a command started without those mounts
   * could otherwise make the path pass again (a real directory, a file
   * linked twice) and swap the directory for a link while a later command's
   * sandbox is being built with them. A swap in that window by a command
   * started after a write_file dropped the path is caught inside the
   * sandbox, by `bindCheck`.
   */
  #stillMasked(): { files: string[]; dirIds: Map<string, string> } {
    const dirIds = new Map<string, string>();
    this.#masked = this.#masked.filter((path) => {
      try {
        const dir = dirname(path);
        if (Deno.realPathSync(dir) !== dir || !mustMask(Deno.lstatSync(path))) return false;
        for (let d = dir; d.startsWith(`${this.#root}/`); d = dirname(d)) {
          const info = Deno.lstatSync(d);
          if (!info.isDirectory) return false;
          dirIds.set(d, `${info.dev}:${info.ino}`);
        }
        return true;
      } catch {
        return false;
      }
    });
    return { files: [...this.#masked], dirIds };
  }

  /** The protected paths that exist now, as real paths inside the workspace (links skipped). */
  #existingProtectedPaths(): string[] {
    const out: string[] = [];
    for (const rel of this.#options.protectedPaths ?? [".git"]) {
      const path = resolvePath(this.#root, rel);
      if (!path.startsWith(`${this.#root}/`)) {
        throw new EnvError(
          "InvalidArgument",
          `protected path ${rel} is outside the workspace`,
          rel,
        );
      }
      try {
        if (!Deno.lstatSync(path).isSymlink) out.push(path);
      } catch { /* not there: nothing to protect */ }
    }
    return out;
  }

  /** Starts a fresh file service rooted at the workspace with working directory `cwd`, and checks it. */
  #spawn(cwd: string): Promise<void> {
    this.#channel?.terminate();
    let channel: FileChannel;
    const handlers = {
      onMessage: (response: FileResponse) => {
        if (channel === this.#channel) this.#requests.answer(response);
      },
      onFailure: (reason: string) => {
        if (channel !== this.#channel) return;
        this.#channel = undefined;
        this.#requests.rejectAll(new EnvError("Io", reason));
      },
    };
    if (this.#bwrap) {
      const command = fileServerCommand(this.#bwrap, this.#root, this.#protected);
      if (!command) {
        throw new EnvError(
          "Unsupported",
          "the sandboxed file server needs its modules on local disk (file: URLs)",
        );
      }
      channel = processChannel(command, handlers);
    } else {
      channel = workerChannel(this.#root, handlers);
    }
    this.#channel = channel;
    this.#ready = (async () => {
      const limit = this.#options.operationTimeoutMs ?? 60_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const started = this.#requests.expect(0, "init");
      const timedOut = new Promise<never>((_, reject) => {
        if (limit === Infinity) return;
        timer = setTimeout(() => {
          this.#requests.forget(0);
          channel.terminate();
          reject(new EnvError("Timeout", `the file service did not start within ${limit} ms`));
        }, Math.min(limit, 2 ** 31 - 1)); // a longer delay would fire at once
      });
      channel.send({
        op: "init",
        root: this.#root,
        cwd,
        alias: resolvePath(this.#options.workspace),
        protectedPaths: this.#protected,
      });
      await Promise.race([started, timedOut]).finally(() => clearTimeout(timer));
      const check = await this.#requests.post<SelfCheck>(channel, "selfCheck", []);
      const leaks = Object.entries(check).filter(([, denied]) => !denied).map(([name]) => name);
      if (leaks.length) {
        await this.close();
        throw new EnvError(
          "Unsupported",
          `the confined file service is not confined: ${leaks.join(", ")} allowed`,
        );
      }
      if (channel === this.#channel) this.#readyChannel = channel;
    })();
    return this.#ready;
  }

  /** Replaces a file service that did not answer a request it was asked to drop. */
  #restart(reason: string): void {
    if (this.#closed || !this.#channel) return;
    this.#restarts++;
    this.#requests.rejectAll(
      new EnvError("Aborted", `the confined file service was restarted: ${reason}`),
    );
    this.#spawn(this.#cwd || this.#root).catch(() => {});
  }

  /** Asks the file service which forbidden capabilities it lacks (all should be `true`). */
  selfCheck(): Promise<SelfCheck> {
    return this.#call<SelfCheck>("selfCheck", []);
  }

  /**
   * Sends one request once the service is ready. The common case (a
   * started service, no cancellation yet) posts at once, without awaiting
   * the ready promise again.
   */
  #call<T>(op: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    const channel = this.#channel;
    if (channel && channel === this.#readyChannel && !this.#closed && !signal?.aborted) {
      return this.#requests.post<T>(channel, op, args, signal);
    }
    return this.#callWhenReady(op, args, signal);
  }

  async #callWhenReady<T>(op: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    if (this.#closed) throw new EnvError("Closed", "the confined environment is closed");
    if (!this.#ready) throw new EnvError("Closed", "the confined environment is not initialised");
    if (signal?.aborted) throw new EnvError("Aborted", `${op} was cancelled`);
    // A service that died is replaced on the next call (after initialize got that far).
    if (!this.#channel && this.#cwd) this.#spawn(this.#cwd).catch(() => {});
    // Wait for the current service; if it was replaced meanwhile, for its successor.
    for (let ready = this.#ready;; ready = this.#ready) {
      await ready;
      if (ready === this.#ready) break;
    }
    if (this.#closed) throw new EnvError("Closed", "the confined environment is closed");
    if (!this.#channel) throw new EnvError("Io", "the confined file service is not running");
    return await this.#requests.post<T>(this.#channel, op, args, signal);
  }

  /** Stops the file service; later calls fail with code "Closed". */
  close(): Promise<void> {
    this.#closed = true;
    this.#requests.close(new EnvError("Closed", "the confined environment is closed"));
    this.#channel?.terminate();
    this.#channel = undefined;
    this.#readyChannel = undefined;
    return Promise.resolve();
  }

  /** Same as {@linkcode ConfinedEnvironment.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** {@inheritDoc ExecutionEnvironment.readFile} */
  readFile(path: string, options: ReadFileOptions = {}): Promise<FileContent> {
    return this.#call("readFile", [path, options.offset, options.limit], options.signal);
  }

  /** {@inheritDoc ExecutionEnvironment.writeFile} */
  writeFile(path: string, content: string, signal?: AbortSignal): Promise<WriteResult> {
    return this.#call("writeFile", [path, content], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.deleteFile} */
  deleteFile(path: string, signal?: AbortSignal): Promise<void> {
    return this.#call("deleteFile", [path], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.moveFile} */
  async moveFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
    await this.#call("moveFile", [from, to], signal);
    this.#followMove(from, to);
  }

  /**
   * The file server has no masks (it refuses to read a file with other
   * names itself), so it can move a masked file, or a directory above one,
   * to a path the shell's sandbox would not mask: the masks move with it.
   */
  #followMove(from: string, to: string): void {
    if (this.#masked.length === 0) return;
    const real = (path: string) => {
      const abs = resolvePath(this.#cwd || this.#root, path);
      return `${Deno.realPathSync(dirname(abs))}/${basename(abs)}`;
    };
    let src: string, dst: string;
    try {
      [src, dst] = [real(from), real(to)];
    } catch {
      return; // the move's own answer already said what was wrong
    }
    this.#masked = this.#masked.map((path) =>
      path === src || path.startsWith(`${src}/`) ? dst + path.slice(src.length) : path
    );
  }

  /** {@inheritDoc ExecutionEnvironment.fileExists} */
  fileExists(path: string, signal?: AbortSignal): Promise<boolean> {
    return this.#call("fileExists", [path], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.listDirectory} */
  listDirectory(path: string, depth?: number, signal?: AbortSignal): Promise<DirEntry[]> {
    return this.#call("listDirectory", [path, depth], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.grep} */
  async grep(pattern: string, path?: string, options: GrepOptions = {}): Promise<GrepResult> {
    const { signal, globFilter, ...rest } = options;
    const spec = globFilter === undefined ? undefined : compileGlob(globFilter);
    return await this.#call("grep", [pattern, path, { ...rest, globFilter: spec }], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.glob} */
  async glob(pattern: string, path?: string, options: GlobOptions = {}): Promise<string[]> {
    const { signal, ...rest } = options;
    return await this.#call("glob", [compileGlob(pattern), path, rest], signal);
  }

  /** Fetches from allowed hosts only; a redirect to any other host is refused. */
  async fetchUrl(request: FetchRequest): Promise<FetchResult> {
    if (this.#closed) throw new EnvError("Closed", "the confined environment is closed");
    return await fetchAllowed(this.#options.allowedHosts ?? [], request);
  }

  /**
   * Runs a command in a bubblewrap sandbox of its own (its processes die
   * with the call), under the resource limits; without an OS sandbox only
   * when `unconfinedShell` was chosen, after the command-text policy.
   */
  async execCommand(request: ExecRequest): Promise<ExecResult> {
    if (this.#closed || !this.#cwd) {
      throw new EnvError("Closed", "the confined environment is closed or not initialised");
    }
    if (!this.#bwrap && !this.#options.unconfinedShell) {
      throw new PermissionDeniedError(
        "shell",
        `no OS sandbox is available here (${
          this.#noSandboxReason ?? 'sandbox: "none" was chosen'
        }), so the shell is not offered; make bubblewrap usable, ` +
          "or opt in to an unconfined shell with unconfinedShell: true",
      );
    }
    if (this.#tooManyMasked) {
      throw new PermissionDeniedError(
        "shell",
        `the workspace holds more than ${MAX_MASKED_HARD_LINKS} files with several hard links ` +
          "or Unix sockets; " +
          "the shell sandbox cannot hide them all, so it is refused",
      );
    }
    const cwd = request.workingDir === undefined
      ? this.#cwd
      : await this.#call<string>("resolveDir", [request.workingDir], request.signal);
    const programs = this.allowedPrograms;
    if (programs) {
      try {
        checkCommand({ workspace: this.#root, cwd, allowedPrograms: programs }, request.command);
      } catch (error) {
        if (error instanceof ShellPolicyError) {
          throw new PermissionDeniedError(error.subject || "command", error.message);
        }
        throw error;
      }
    }
    const env: Record<string, string> = {
      PATH: this.#options.path ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: this.#root,
      LANG: "C.UTF-8",
      TERM: "dumb",
    };
    for (const [name, value] of Object.entries(request.env ?? {})) {
      if (FORBIDDEN_VARS.test(name)) {
        throw new PermissionDeniedError(
          name,
          `environment variable ${name} may not be set in the confined shell`,
        );
      }
      env[name] = value;
    }
    const bash = findExecutable(["/bin/bash", "/usr/bin/bash"]);
    if (this.#bwrap && !bash) {
      // The prologue that closes inherited descriptors is bash (sh cannot name fds above 9).
      throw new EnvError("Unsupported", "the sandboxed shell needs bash, which is not installed");
    }
    const shell = bash ?? "/bin/sh";
    let prologue = (bash ? CLOSE_INHERITED_FDS : "") + ulimitPrologue(this.#limits);
    let program = shell;
    let args: string[] = [];
    if (this.#bwrap) {
      program = this.#bwrap;
      const masked = this.#stillMasked();
      const policy = {
        workspace: this.#root,
        cwd,
        network: this.#options.shellNetwork,
        readOnlyPaths: this.#options.readOnlyPaths,
        protectedPaths: this.#protected,
        // Files that have other names (maybe outside), and sockets, hidden behind /dev/null.
        maskedFiles: masked.files,
      };
      args = bwrapArgs(policy);
      prologue = CLOSE_INHERITED_FDS + bindCheck(policy, masked.dirIds) +
        ulimitPrologue(this.#limits);
      args.push("--", shell);
    }
    args.push("-c", prologue + request.command);
    const result = await runProcess({
      program,
      args,
      cwd,
      env,
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      killGraceMs: this.#options.killGraceMs,
      maxOutputBytes: this.#limits.maxOutputBytes,
      onOutput: request.onOutput,
      // bwrap's PID namespace holds everything the command starts; killing
      // bwrap kills it (--die-with-parent), so no process group is needed.
      processGroup: !this.#bwrap,
    });
    const hits = osLimitsHit(this.#limits, result.exitCode, result.stderr);
    return hits.length ? { ...result, limitsHit: [...(result.limitsHit ?? []), ...hits] } : result;
  }

  /** {@inheritDoc ExecutionEnvironment.workingDirectory} */
  workingDirectory(): string {
    return this.#cwd || resolvePath(this.#options.workspace, this.#options.workingDirectory ?? ".");
  }

  /** {@inheritDoc ExecutionEnvironment.platform} */
  platform(): string {
    return hostPlatform();
  }

  /** {@inheritDoc ExecutionEnvironment.osVersion} */
  osVersion(): string {
    return hostOsVersion();
  }
}
