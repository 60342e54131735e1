/**
 * An execution environment seen from a subdirectory: relative paths, the
 * default search root and the default command directory become the
 * subdirectory, and everything else goes to the parent environment, which
 * keeps enforcing its own rules (a confined environment stays confined).
 * This is how a subagent's `working_dir` scopes it (spec §7.2).
 *
 * @module
 */
import { isAbsolute, join, normalize } from "node:path";
import { type Confinement, confinementOf } from "../env/confinement.ts";
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
} from "../env/types.ts";

/** Resolves `dir` against `env`'s working directory. */
export function resolveIn(env: ExecutionEnvironment, dir: string): string {
  return normalize(isAbsolute(dir) ? dir : join(env.workingDirectory(), dir));
}

/** `parent` with `dir` as its working directory. Closing it leaves the parent open. */
export class ScopedEnvironment implements ExecutionEnvironment {
  readonly #parent: ExecutionEnvironment;
  readonly #cwd: string;

  /** Scopes `parent` to `dir` (absolute, or relative to the parent's working directory). */
  constructor(parent: ExecutionEnvironment, dir: string) {
    this.#parent = parent;
    this.#cwd = resolveIn(parent, dir);
  }

  #path(path: string): string {
    return isAbsolute(path) ? path : join(this.#cwd, path);
  }

  /** Reads a file; relative paths are under the scope. */
  readFile(path: string, options?: ReadFileOptions): Promise<FileContent> {
    return this.#parent.readFile(this.#path(path), options);
  }
  /** Writes a file; relative paths are under the scope. */
  writeFile(path: string, content: string, signal?: AbortSignal): Promise<WriteResult> {
    return this.#parent.writeFile(this.#path(path), content, signal);
  }
  /** Deletes a file. */
  deleteFile(path: string, signal?: AbortSignal): Promise<void> {
    return this.#parent.deleteFile(this.#path(path), signal);
  }
  /** Moves a file. */
  moveFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
    return this.#parent.moveFile(this.#path(from), this.#path(to), signal);
  }
  /** Whether a path exists. */
  fileExists(path: string, signal?: AbortSignal): Promise<boolean> {
    return this.#parent.fileExists(this.#path(path), signal);
  }
  /** Lists a directory. */
  listDirectory(path: string, depth?: number, signal?: AbortSignal): Promise<DirEntry[]> {
    return this.#parent.listDirectory(this.#path(path), depth, signal);
  }
  /** Runs a command, in the scope unless the request names a directory. */
  execCommand(request: ExecRequest): Promise<ExecResult> {
    return this.#parent.execCommand({
      ...request,
      workingDir: this.#path(request.workingDir ?? "."),
    });
  }
  /** Searches under `path` (default: the scope). */
  grep(pattern: string, path?: string, options?: GrepOptions): Promise<GrepResult> {
    return this.#parent.grep(pattern, this.#path(path ?? "."), options);
  }
  /** Finds files under `path` (default: the scope). */
  glob(pattern: string, path?: string, options?: GlobOptions): Promise<string[]> {
    return this.#parent.glob(pattern, this.#path(path ?? "."), options);
  }
  /** Initializes the parent. */
  initialize(): Promise<void> {
    return this.#parent.initialize();
  }
  /** Does nothing: the parent belongs to the parent session. */
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** The parent's confinement: a scope is a default directory, not a boundary. */
  confinement(): Confinement {
    return confinementOf(this.#parent);
  }
  /** The scope directory. */
  workingDirectory(): string {
    return this.#cwd;
  }
  /** The parent's platform. */
  platform(): string {
    return this.#parent.platform();
  }
  /** The parent's OS version. */
  osVersion(): string {
    return this.#parent.osVersion();
  }
  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
