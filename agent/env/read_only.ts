/**
 * A read-only wrapper (spec §4.4): every write, delete, move and command is
 * refused with PermissionDenied; reads, searches and listings pass through.
 * Commands are refused rather than analysed for write intent, because no
 * text check can tell.
 *
 * @module
 */

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
import { EnvError, PermissionDeniedError } from "./types.ts";
import { type Confinement, confinementOf } from "./confinement.ts";

/** Wraps an environment so that nothing can be changed through it. */
export class ReadOnlyExecutionEnvironment implements ExecutionEnvironment {
  /** Wraps `inner`; closing the wrapper closes `inner`. */
  constructor(readonly inner: ExecutionEnvironment) {}

  #refuse(subject: string): Promise<never> {
    return Promise.reject(new PermissionDeniedError(subject, "this environment is read-only"));
  }

  /** {@inheritDoc ExecutionEnvironment.readFile} */
  readFile(path: string, options?: ReadFileOptions): Promise<FileContent> {
    return this.inner.readFile(path, options);
  }

  /** Refused: the environment is read-only. */
  writeFile(path: string, _content: string, _signal?: AbortSignal): Promise<WriteResult> {
    return this.#refuse(path);
  }

  /** Refused: the environment is read-only. */
  deleteFile(path: string, _signal?: AbortSignal): Promise<void> {
    return this.#refuse(path);
  }

  /** Refused: the environment is read-only. */
  moveFile(from: string, _to: string, _signal?: AbortSignal): Promise<void> {
    return this.#refuse(from);
  }

  /** {@inheritDoc ExecutionEnvironment.fileExists} */
  fileExists(path: string, signal?: AbortSignal): Promise<boolean> {
    return this.inner.fileExists(path, signal);
  }

  /** {@inheritDoc ExecutionEnvironment.listDirectory} */
  listDirectory(path: string, depth?: number, signal?: AbortSignal): Promise<DirEntry[]> {
    return this.inner.listDirectory(path, depth, signal);
  }

  /** Refused: a command could write anything. */
  execCommand(request: ExecRequest): Promise<ExecResult> {
    return this.#refuse(request.command.split(/\s/)[0] || "command");
  }

  /** {@inheritDoc ExecutionEnvironment.grep} */
  grep(pattern: string, path?: string, options?: GrepOptions): Promise<GrepResult> {
    return this.inner.grep(pattern, path, options);
  }

  /** {@inheritDoc ExecutionEnvironment.glob} */
  glob(pattern: string, path?: string, options?: GlobOptions): Promise<string[]> {
    return this.inner.glob(pattern, path, options);
  }

  /** GET and HEAD only, when the inner environment offers network at all. */
  fetchUrl(request: FetchRequest): Promise<FetchResult> {
    if (!this.inner.fetchUrl) {
      return Promise.reject(new EnvError("Unsupported", "this environment offers no network"));
    }
    const method = (request.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") return this.#refuse(`${method} ${request.url}`);
    return this.inner.fetchUrl(request);
  }

  /** {@inheritDoc ExecutionEnvironment.initialize} */
  initialize(): Promise<void> {
    return this.inner.initialize();
  }

  /** {@inheritDoc ExecutionEnvironment.close} */
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Same as {@linkcode ReadOnlyExecutionEnvironment.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The inner environment's confinement, without a shell (every command is refused). */
  confinement(): Confinement {
    return { ...confinementOf(this.inner), shell: "unavailable" };
  }

  /** {@inheritDoc ExecutionEnvironment.workingDirectory} */
  workingDirectory(): string {
    return this.inner.workingDirectory();
  }

  /** {@inheritDoc ExecutionEnvironment.platform} */
  platform(): string {
    return this.inner.platform();
  }

  /** {@inheritDoc ExecutionEnvironment.osVersion} */
  osVersion(): string {
    return this.inner.osVersion();
  }
}
