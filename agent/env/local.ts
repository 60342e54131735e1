/**
 * The unconfined local environment (spec §4.2): direct file access with
 * paths relative to the working directory, commands through bash in their
 * own process group, secrets filtered from the command environment. For
 * trusted use only; see `ConfinedEnvironment` for untrusted work.
 *
 * @module
 */

import { resolve } from "node:path";
import type {
  DirEntry,
  ExecRequest,
  ExecResult,
  ExecutionEnvironment,
  FileContent,
  GlobOptions,
  GrepOptions,
  GrepResult,
  ReadFileOptions,
  WriteResult,
} from "./types.ts";
import { EnvError } from "./types.ts";
import { FileOps } from "./fs_ops.ts";
import { OpenPathGuard } from "./guard.ts";
import { runProcess } from "./process.ts";
import { currentEnvVars, type EnvVarPolicy, filterEnvVars } from "./env_vars.ts";
import { findExecutable, hostOsVersion, hostPlatform } from "./system.ts";
import { toEnvError } from "./errors.ts";
import { compileGlob } from "./glob_spec.ts";
import { type Confinement, UNCONFINED } from "./confinement.ts";

/** Options of {@linkcode LocalExecutionEnvironment}. */
export interface LocalEnvironmentOptions {
  /** Working directory (default: the process's current directory). */
  readonly workingDirectory?: string;
  /** Which of the agent's environment variables commands inherit (default "filtered"). */
  readonly envPolicy?: EnvVarPolicy;
  /** Shell used for commands (default /bin/bash, else /bin/sh). */
  readonly shell?: string;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  readonly killGraceMs?: number;
}

/** Runs everything directly on this machine, unconfined. */
export class LocalExecutionEnvironment implements ExecutionEnvironment {
  readonly #cwd: string;
  readonly #ops: FileOps;
  readonly #options: LocalEnvironmentOptions;
  #closed = false;

  /** Creates the environment; nothing is touched until a method is called. */
  constructor(options: LocalEnvironmentOptions = {}) {
    this.#options = options;
    this.#cwd = resolve(options.workingDirectory ?? Deno.cwd());
    this.#ops = new FileOps(new OpenPathGuard(this.#cwd));
  }

  #open(): void {
    if (this.#closed) throw new EnvError("Closed", "the local environment is closed");
  }

  /** Checks that the working directory exists. */
  async initialize(): Promise<void> {
    this.#open();
    try {
      const info = await Deno.stat(this.#cwd);
      if (!info.isDirectory) {
        throw new EnvError("InvalidArgument", `working directory ${this.#cwd} is not a directory`);
      }
    } catch (error) {
      throw toEnvError(error, this.#cwd);
    }
  }

  /** Marks the environment closed; later calls fail with code "Closed". */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Same as {@linkcode LocalExecutionEnvironment.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** {@inheritDoc ExecutionEnvironment.readFile} */
  async readFile(path: string, options: ReadFileOptions = {}): Promise<FileContent> {
    this.#open();
    return await this.#ops.readFile(path, options.offset, options.limit, options.signal);
  }

  /** {@inheritDoc ExecutionEnvironment.writeFile} */
  async writeFile(path: string, content: string, signal?: AbortSignal): Promise<WriteResult> {
    this.#open();
    return await this.#ops.writeFile(path, content, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.deleteFile} */
  async deleteFile(path: string, signal?: AbortSignal): Promise<void> {
    this.#open();
    return await this.#ops.deleteFile(path, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.moveFile} */
  async moveFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
    this.#open();
    return await this.#ops.moveFile(from, to, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.fileExists} */
  async fileExists(path: string, signal?: AbortSignal): Promise<boolean> {
    this.#open();
    return await this.#ops.fileExists(path, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.listDirectory} */
  async listDirectory(path: string, depth?: number, signal?: AbortSignal): Promise<DirEntry[]> {
    this.#open();
    return await this.#ops.listDirectory(path, depth, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.grep} */
  async grep(pattern: string, path?: string, options?: GrepOptions): Promise<GrepResult> {
    this.#open();
    const { globFilter, ...rest } = options ?? {};
    const spec = globFilter === undefined ? undefined : compileGlob(globFilter);
    return await this.#ops.grep(pattern, path, { ...rest, globFilter: spec });
  }

  /** {@inheritDoc ExecutionEnvironment.glob} */
  async glob(pattern: string, path?: string, options?: GlobOptions): Promise<string[]> {
    this.#open();
    return await this.#ops.glob(compileGlob(pattern), path, options);
  }

  /** Runs `request.command` with `bash -c` in a new process group. */
  async execCommand(request: ExecRequest): Promise<ExecResult> {
    this.#open();
    const cwd = resolve(this.#cwd, request.workingDir ?? ".");
    try {
      if (!(await Deno.stat(cwd)).isDirectory) {
        throw new EnvError("InvalidArgument", `working directory ${cwd} is not a directory`, cwd);
      }
    } catch (error) {
      throw toEnvError(error, cwd);
    }
    const shell = this.#options.shell ?? findExecutable(["/bin/bash", "/usr/bin/bash"]) ??
      "/bin/sh";
    return await runProcess({
      program: shell,
      args: ["-c", request.command],
      cwd,
      env: {
        ...filterEnvVars(currentEnvVars(), this.#options.envPolicy),
        ...request.env,
      },
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      killGraceMs: this.#options.killGraceMs,
      onOutput: request.onOutput,
    });
  }

  /** Nothing confines this environment: it is for trusted use. */
  confinement(): Confinement {
    return UNCONFINED;
  }

  /** {@inheritDoc ExecutionEnvironment.workingDirectory} */
  workingDirectory(): string {
    return this.#cwd;
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
