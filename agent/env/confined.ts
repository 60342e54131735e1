/**
 * The confined environment: file tools run in a Deno worker whose only
 * permissions are read and write inside the workspace (plus network to the
 * hosts the user allows); the shell runs only allowlisted programs, inside
 * bubblewrap when it is available. Every refusal is a PermissionDenied
 * {@linkcode EnvError} naming the path, host or program.
 *
 * Limits (see README.md): a child process is not confined by Deno's
 * permissions; without bubblewrap the shell allowlist is the only barrier.
 *
 * @module
 */

import { resolve } from "node:path";
import type {
  DirEntry,
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
import { EnvError, type EnvErrorCode, PermissionDeniedError } from "./types.ts";
import type { SelfCheck, WorkerInit, WorkerResponse } from "./confined_worker.ts";
import { checkCommand, DEFAULT_ALLOWED_PROGRAMS, ShellPolicyError } from "./shell_policy.ts";
import { bwrapArgs, usableBwrap } from "./bwrap.ts";
import { runProcess } from "./process.ts";
import { findExecutable, hostOsVersion, hostPlatform } from "./system.ts";
import { toEnvError } from "./errors.ts";

/** How shell commands are confined. */
export type SandboxMode =
  /** bubblewrap if it works here, else the allowlist alone. */
  | "auto"
  /** bubblewrap, and initialize() fails if it does not work here. */
  | "bwrap"
  /** The allowlist alone. */
  | "none";

/** Options of {@linkcode ConfinedEnvironment}. */
export interface ConfinedEnvironmentOptions {
  /** The workspace directory; it must exist. Everything is confined to its real path. */
  readonly workspace: string;
  /** Working directory inside the workspace (default: the workspace). */
  readonly workingDirectory?: string;
  /** Programs the shell may run (default {@linkcode DEFAULT_ALLOWED_PROGRAMS}). */
  readonly allowedPrograms?: readonly string[];
  /** "host" or "host:port" entries the file side may fetch from (default: none). */
  readonly allowedHosts?: readonly string[];
  /** How shell commands are confined (default "auto"). */
  readonly sandbox?: SandboxMode;
  /** Whether sandboxed shell commands keep the host network (default false). */
  readonly shellNetwork?: boolean;
  /** Extra host paths visible read-only inside the bubblewrap sandbox. */
  readonly readOnlyPaths?: readonly string[];
  /** PATH of shell commands (default /usr/local/bin:/usr/bin:/bin). */
  readonly path?: string;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  readonly killGraceMs?: number;
  /**
   * Limit of one file operation in the worker (default 60 000 ms). An
   * operation that overruns it, or is cancelled and does not stop within a
   * second, gets the worker replaced.
   */
  readonly operationTimeoutMs?: number;
}

/** Variables a command may not set: they change what runs or how the shell parses. */
const FORBIDDEN_VARS =
  /^(PATH|IFS|ENV|BASH_ENV|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|CDPATH|GLOBIGNORE|LD_.*|DYLD_.*|BASH_FUNC_.*)$/;

interface Pending {
  resolve(value: unknown): void;
  reject(error: EnvError): void;
}

/** A workspace-confined {@linkcode ExecutionEnvironment}. */
export class ConfinedEnvironment implements ExecutionEnvironment {
  readonly #options: ConfinedEnvironmentOptions;
  #root = "";
  #cwd = "";
  #worker: Worker | undefined;
  /** Resolves when the current worker is ready; rejects if it could not start. */
  #workerReady: Promise<void> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Requests given up on (cancelled or timed out) that the worker has not answered yet. */
  readonly #abandoned = new Set<number>();
  #bwrap: string | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;
  #restarts = 0;

  /** Creates the environment; call {@linkcode ConfinedEnvironment.initialize} before use. */
  constructor(options: ConfinedEnvironmentOptions) {
    this.#options = options;
  }

  /** Whether shell commands run inside bubblewrap (known after initialize). */
  get sandboxed(): boolean {
    return this.#bwrap !== undefined;
  }

  /** Programs the shell may run. */
  get allowedPrograms(): readonly string[] {
    return this.#options.allowedPrograms ?? DEFAULT_ALLOWED_PROGRAMS;
  }

  /** How often the worker was replaced because an operation hung. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Resolves the workspace, starts the worker with workspace-only
   * permissions, verifies that the worker really lacks env, run, ffi and
   * outside-workspace access (failing closed otherwise), and probes bwrap.
   */
  initialize(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new EnvError("Closed", "the confined environment is closed"));
    }
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
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
    await this.#spawn(this.#root);
    // Resolve the working directory on the confined side: it must really be inside.
    const cwd = await this.#call<string>("resolveDir", [
      resolve(this.#root, this.#options.workingDirectory ?? "."),
    ]);
    if (cwd !== this.#root) await this.#spawn(cwd);
    this.#cwd = cwd;
    const mode = this.#options.sandbox ?? "auto";
    if (mode !== "none") {
      this.#bwrap = await usableBwrap();
      if (!this.#bwrap && mode === "bwrap") {
        await this.close();
        throw new EnvError(
          "Unsupported",
          'sandbox "bwrap" was required but bubblewrap is not usable here',
        );
      }
    }
  }

  /** Starts a fresh worker rooted at the workspace with working directory `cwd`, and checks it. */
  #spawn(cwd: string): Promise<void> {
    this.#worker?.terminate();
    const hosts = this.#options.allowedHosts ?? [];
    const worker = new Worker(new URL("./confined_worker.ts", import.meta.url), {
      type: "module",
      deno: {
        permissions: {
          read: [this.#root],
          write: [this.#root],
          net: hosts.length ? [...hosts] : false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    });
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      if (worker === this.#worker) this.#answer(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (worker === this.#worker) {
        this.#rejectAll(new EnvError("Io", `the confined worker failed: ${event.message}`));
        this.#worker = undefined;
        worker.terminate();
      }
    };
    const alias = resolve(this.#options.workspace);
    this.#workerReady = (async () => {
      await new Promise<unknown>((resolve, reject) => {
        this.#pending.set(0, { resolve, reject });
        worker.postMessage(
          {
            op: "init",
            root: this.#root,
            cwd,
            allowedHosts: hosts,
            alias,
          } satisfies WorkerInit,
        );
      });
      const check = await this.#post<SelfCheck>(worker, "selfCheck", []);
      const leaks = Object.entries(check).filter(([, denied]) => !denied).map(([name]) => name);
      if (leaks.length) {
        await this.close();
        throw new EnvError(
          "Unsupported",
          `the confined worker is not confined: ${leaks.join(", ")} allowed`,
        );
      }
    })();
    return this.#workerReady;
  }

  /**
   * Replaces a worker that did not answer a request it was asked to drop:
   * it may be stuck (say, in a pathological regular expression) and would
   * hold every later request hostage.
   */
  #restart(reason: string): void {
    if (this.#closed || !this.#worker) return;
    this.#restarts++;
    this.#rejectAll(new EnvError("Aborted", `the confined worker was restarted: ${reason}`));
    this.#spawn(this.#cwd || this.#root).catch(() => {});
  }

  /** Asks the worker which forbidden capabilities it lacks (all should be `true`). */
  selfCheck(): Promise<SelfCheck> {
    return this.#call<SelfCheck>("selfCheck", []);
  }

  #answer(response: WorkerResponse): void {
    this.#abandoned.delete(response.id);
    const pending = this.#pending.get(response.id);
    if (!pending) return; // cancelled meanwhile
    this.#pending.delete(response.id);
    if (response.ok) pending.resolve(response.value);
    else {
      const { code, message, subject } = response.error;
      pending.reject(new EnvError(code as EnvErrorCode, message, subject));
    }
  }

  #rejectAll(error: EnvError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#abandoned.clear();
  }

  /** Sends one request to `worker` and waits for its answer, a cancellation or the time limit. */
  #post<T>(worker: Worker, op: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    const id = this.#nextId++;
    const limit = this.#options.operationTimeoutMs ?? 60_000;
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const giveUp = (error: EnvError) => {
        settle();
        this.#pending.delete(id);
        this.#abandoned.add(id);
        reject(error);
        // A healthy worker answers the dropped request soon; a stuck one is replaced.
        setTimeout(() => {
          if (this.#abandoned.has(id) && worker === this.#worker) {
            this.#restart(`${op} did not finish after it was dropped`);
          }
        }, 1000);
      };
      const onAbort = () => giveUp(new EnvError("Aborted", `${op} was cancelled`));
      signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(
        () => giveUp(new EnvError("Timeout", `${op} timed out after ${limit} ms`, op)),
        limit,
      );
      this.#pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value as T);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      worker.postMessage({ id, op, args });
    });
  }

  async #call<T>(op: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    if (this.#closed) throw new EnvError("Closed", "the confined environment is closed");
    if (!this.#workerReady) {
      throw new EnvError("Closed", "the confined environment is not initialised");
    }
    if (signal?.aborted) throw new EnvError("Aborted", `${op} was cancelled`);
    // A worker that crashed is replaced on the next call (after initialize got that far).
    if (!this.#worker && this.#cwd) this.#spawn(this.#cwd).catch(() => {});
    // Wait for the current worker; if it was replaced meanwhile, for its successor.
    for (let ready = this.#workerReady;; ready = this.#workerReady) {
      await ready;
      if (ready === this.#workerReady) break;
    }
    if (this.#closed) throw new EnvError("Closed", "the confined environment is closed");
    if (!this.#worker) throw new EnvError("Io", "the confined worker is not running");
    return await this.#post<T>(this.#worker, op, args, signal);
  }

  /** Stops the worker; later calls fail with code "Closed". */
  close(): Promise<void> {
    this.#closed = true;
    this.#rejectAll(new EnvError("Closed", "the confined environment is closed"));
    this.#worker?.terminate();
    this.#worker = undefined;
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
  moveFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
    return this.#call("moveFile", [from, to], signal);
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
  grep(pattern: string, path?: string, options: GrepOptions = {}): Promise<GrepResult> {
    const { signal, ...rest } = options;
    return this.#call("grep", [pattern, path, rest], signal);
  }

  /** {@inheritDoc ExecutionEnvironment.glob} */
  glob(pattern: string, path?: string, options: GlobOptions = {}): Promise<string[]> {
    const { signal, ...rest } = options;
    return this.#call("glob", [pattern, path, rest], signal);
  }

  /** Fetches from an allowed host only; redirects are returned, not followed. */
  fetchUrl(request: FetchRequest): Promise<FetchResult> {
    const { signal, url, ...init } = request;
    return this.#call("fetch", [url, init], signal);
  }

  /**
   * Runs a command that passes the shell policy, inside bubblewrap when
   * available, with a clean environment (PATH, HOME = workspace, LANG, TERM).
   */
  async execCommand(request: ExecRequest): Promise<ExecResult> {
    if (this.#closed || !this.#cwd) {
      throw new EnvError("Closed", "the confined environment is closed or not initialised");
    }
    const cwd = request.workingDir === undefined
      ? this.#cwd
      : await this.#call<string>("resolveDir", [request.workingDir], request.signal);
    try {
      checkCommand(
        { workspace: this.#root, cwd, allowedPrograms: this.allowedPrograms },
        request.command,
      );
    } catch (error) {
      if (error instanceof ShellPolicyError) {
        throw new PermissionDeniedError(error.subject || "command", error.message);
      }
      throw error;
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
    const shell = findExecutable(["/bin/bash", "/usr/bin/bash"]) ?? "/bin/sh";
    const shellArgs = ["-c", request.command];
    const [program, args] = this.#bwrap
      ? [this.#bwrap, [
        ...bwrapArgs({
          workspace: this.#root,
          cwd,
          network: this.#options.shellNetwork,
          readOnlyPaths: this.#options.readOnlyPaths,
        }),
        "--",
        shell,
        ...shellArgs,
      ]]
      : [shell, shellArgs];
    return await runProcess({
      program,
      args,
      cwd,
      env,
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      killGraceMs: this.#options.killGraceMs,
    });
  }

  /** {@inheritDoc ExecutionEnvironment.workingDirectory} */
  workingDirectory(): string {
    return this.#cwd || resolve(this.#options.workspace, this.#options.workingDirectory ?? ".");
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
