/**
 * The seam between the coding agent's tools and the machine they act on
 * (coding-agent-loop spec §4). Tools only ever talk to an
 * {@linkcode ExecutionEnvironment}; whether it is the plain local machine or
 * a confined workspace is the environment's business.
 *
 * @module
 */

import type { Confinement } from "./confinement.ts";

/** Machine-readable reasons an environment refuses or fails an operation. */
export type EnvErrorCode =
  /** The path, host or program is outside what this environment allows. */
  | "PermissionDenied"
  /** The file or directory does not exist. */
  | "NotFound"
  /** The operation ran out of time. */
  | "Timeout"
  /** The operation was cancelled through its AbortSignal. */
  | "Aborted"
  /** An argument is malformed (bad regex, bad glob, negative offset, …). */
  | "InvalidArgument"
  /** A file was expected but the path names a directory (or the reverse). */
  | "IsDirectory"
  /** The environment does not support the operation. */
  | "Unsupported"
  /** The environment is closed or was never initialized. */
  | "Closed"
  /** Any other input/output failure; the message carries the cause. */
  | "Io";

/**
 * Every error an environment throws on purpose. Tools turn it into an error
 * result the model sees (`isError: true`), never a crash.
 */
export class EnvError extends Error {
  /** Stable, machine-readable code. */
  readonly code: EnvErrorCode;
  /** The path, host or program the error is about, when there is one. */
  readonly subject?: string;

  /** Creates an error; `message` names what was wrong and why. */
  constructor(code: EnvErrorCode, message: string, subject?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.subject = subject;
    this.name = `${code}Error`;
  }
}

/** The path, host or program is not allowed by the environment's policy. */
export class PermissionDeniedError extends EnvError {
  /** Creates a PermissionDenied error about `subject`. */
  constructor(subject: string, reason: string, options?: ErrorOptions) {
    super("PermissionDenied", `permission denied: ${subject}: ${reason}`, subject, options);
  }
}

/** A file or directory does not exist. */
export class EnvNotFoundError extends EnvError {
  /** Creates a NotFound error about `path`. */
  constructor(path: string, detail?: string, options?: ErrorOptions) {
    super("NotFound", `not found: ${path}${detail ? ` (${detail})` : ""}`, path, options);
  }
}

/** An argument is malformed. */
export class InvalidArgumentError extends EnvError {
  /** Creates an InvalidArgument error; `message` names the argument. */
  constructor(message: string, subject?: string, options?: ErrorOptions) {
    super("InvalidArgument", message, subject, options);
  }
}

/** An operation ran out of time. */
export class TimeoutError extends EnvError {
  /** Creates a Timeout error for an operation that took longer than `ms`. */
  constructor(what: string, ms: number, options?: ErrorOptions) {
    super("Timeout", `${what} timed out after ${ms} ms`, what, options);
  }
}

/** Options of {@linkcode ExecutionEnvironment.readFile}. */
export interface ReadFileOptions {
  /** 1-based first line to return (default 1). */
  readonly offset?: number;
  /** Most lines to return (default: all). */
  readonly limit?: number;
  /** Cancels the read. */
  readonly signal?: AbortSignal;
}

/** A text file, or the requested window of its lines. */
export interface TextFileContent {
  /** Discriminant. */
  readonly kind: "text";
  /** Absolute path that was read. */
  readonly path: string;
  /**
   * Without offset and limit: the whole file verbatim (line endings and the
   * final newline kept, so it can be edited and written back). With a
   * window: the selected lines joined by "\n", carriage returns removed.
   */
  readonly text: string;
  /** 1-based number of the first returned line. */
  readonly startLine: number;
  /** How many lines were returned. */
  readonly lineCount: number;
  /** How many lines the whole file has. */
  readonly totalLines: number;
}

/** A file that is not text: its bytes are not returned as text. */
export interface BinaryFileContent {
  /** Discriminant. */
  readonly kind: "binary";
  /** Absolute path that was read. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** Media type when recognised from the magic bytes (e.g. "image/png"). */
  readonly mediaType?: string;
  /** The raw bytes, only for recognised images small enough to hand to a multimodal model. */
  readonly data?: Uint8Array;
}

/** What {@linkcode ExecutionEnvironment.readFile} returns. */
export type FileContent = TextFileContent | BinaryFileContent;

/** What {@linkcode ExecutionEnvironment.writeFile} returns. */
export interface WriteResult {
  /** Absolute path written. */
  readonly path: string;
  /** UTF-8 bytes written. */
  readonly bytesWritten: number;
  /** Whether the file did not exist before. */
  readonly created: boolean;
}

/** One entry of {@linkcode ExecutionEnvironment.listDirectory}. */
export interface DirEntry {
  /** Path relative to the listed directory, "/"-separated. */
  readonly name: string;
  /** Whether the entry is a directory. */
  readonly isDir: boolean;
  /** Size in bytes for files; undefined for directories. */
  readonly size?: number;
}

/** A command to run through {@linkcode ExecutionEnvironment.execCommand}. */
export interface ExecRequest {
  /** A shell command line (run with the platform shell). */
  readonly command: string;
  /** Wall-clock limit; on expiry the whole process group is killed. */
  readonly timeoutMs: number;
  /** Directory to run in (default: the working directory). */
  readonly workingDir?: string;
  /** Extra environment variables, added after the environment's filtering. */
  readonly env?: Readonly<Record<string, string>>;
  /** Cancels the command (the process group is killed as on timeout). */
  readonly signal?: AbortSignal;
  /**
   * Receives output while the command runs (decoded UTF-8, in arrival
   * order), for streaming it to a user: up to the output limit per stream,
   * then one note that the rest is not streamed. The result still carries
   * the output within the limit (its first and last halves).
   */
  readonly onOutput?: (chunk: OutputChunk) => void;
}

/** A piece of a running command's output. */
export interface OutputChunk {
  /** Which stream it came from. */
  readonly stream: "stdout" | "stderr";
  /** The text (whole UTF-8 characters). */
  readonly text: string;
}

/** Resource limits of a command (each enforced by the OS where the environment can). */
export interface ExecLimits {
  /**
   * Output kept in memory per stream, in bytes (default 1 MiB): beyond it
   * the first and last halves are kept and the middle is dropped.
   */
  readonly maxOutputBytes?: number;
  /** Largest file a command may write, in bytes (RLIMIT_FSIZE; default 256 MiB). */
  readonly maxFileBytes?: number;
  /** Most processes of the command's user (RLIMIT_NPROC; default 1024). */
  readonly maxProcesses?: number;
  /** Address space of each process, in bytes (RLIMIT_AS; default 8 GiB). */
  readonly maxMemoryBytes?: number;
}

/** Which limit a command ran into. */
export type ExecLimitKind = "time" | "output" | "file_size" | "processes" | "memory";

/** A limit a command ran into, with a message naming the limit and its value. */
export interface ExecLimitHit {
  /** Which limit. */
  readonly kind: ExecLimitKind;
  /** What happened, for the model. */
  readonly message: string;
}

/** The outcome of a command. A non-zero exit is a result, not an error. */
export interface ExecResult {
  /** Captured standard output (decoded as UTF-8). */
  readonly stdout: string;
  /** Captured standard error (decoded as UTF-8). */
  readonly stderr: string;
  /** Exit code; 128 + signal number when killed by a signal, -1 if unknown. */
  readonly exitCode: number;
  /** Whether the timeout fired and the process group was killed. */
  readonly timedOut: boolean;
  /** Wall-clock duration in milliseconds. */
  readonly durationMs: number;
  /** Limits the command ran into (absent or empty when none). */
  readonly limitsHit?: readonly ExecLimitHit[];
}

/** Options of {@linkcode ExecutionEnvironment.grep}. */
export interface GrepOptions {
  /** Only files whose path matches this glob (e.g. "*.ts", "src/**\/*.py"). */
  readonly globFilter?: string;
  /** Match case-insensitively (default false). */
  readonly caseInsensitive?: boolean;
  /** Stop after this many matching lines (default 100). */
  readonly maxResults?: number;
  /** Cancels the search. */
  readonly signal?: AbortSignal;
}

/** One matching line. */
export interface GrepMatch {
  /** Absolute path of the file. */
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;
  /** The line's text (without its newline), cut after 2000 characters with a note saying so. */
  readonly text: string;
}

/** What {@linkcode ExecutionEnvironment.grep} returns. */
export interface GrepResult {
  /** Matching lines, in file then line order. */
  readonly matches: readonly GrepMatch[];
  /** Whether the search stopped at `maxResults`. */
  readonly truncated: boolean;
}

/** Options of {@linkcode ExecutionEnvironment.glob}. */
export interface GlobOptions {
  /** Stop after this many paths (default 1000). */
  readonly maxResults?: number;
  /** Cancels the search. */
  readonly signal?: AbortSignal;
}

/** A network request through {@linkcode ExecutionEnvironment.fetchUrl}. */
export interface FetchRequest {
  /** An http or https URL. */
  readonly url: string;
  /** HTTP method (default GET). */
  readonly method?: string;
  /** Request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Request body, as text. */
  readonly body?: string;
  /** Most response bytes kept (default 1 MiB). */
  readonly maxBytes?: number;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
}

/** The response of {@linkcode ExecutionEnvironment.fetchUrl}. Redirects are not followed. */
export interface FetchResult {
  /** HTTP status. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8, cut at `maxBytes`. */
  readonly body: string;
  /** Whether the body was cut. */
  readonly truncated: boolean;
}

/**
 * Where the coding agent's tools run (spec §4.1). Paths may be absolute or
 * relative to {@linkcode ExecutionEnvironment.workingDirectory}. Every
 * refusal or failure is an {@linkcode EnvError} with a `code`.
 */
export interface ExecutionEnvironment extends AsyncDisposable {
  /** Reads a file, or a window of its lines; binary files are reported, not decoded. */
  readFile(path: string, options?: ReadFileOptions): Promise<FileContent>;
  /** Writes UTF-8 text, creating parent directories; the data is fsynced. */
  writeFile(path: string, content: string, signal?: AbortSignal): Promise<WriteResult>;
  /** Deletes a file (not a directory). */
  deleteFile(path: string, signal?: AbortSignal): Promise<void>;
  /** Moves a file, creating the target's parent directories. */
  moveFile(from: string, to: string, signal?: AbortSignal): Promise<void>;
  /** Whether a path exists (false, not an error, when it does not). */
  fileExists(path: string, signal?: AbortSignal): Promise<boolean>;
  /** Lists a directory down to `depth` levels (1 = direct children), sorted by name. */
  listDirectory(path: string, depth?: number, signal?: AbortSignal): Promise<DirEntry[]>;
  /** Runs a command; a timeout or cancellation kills its whole process group. */
  execCommand(request: ExecRequest): Promise<ExecResult>;
  /** Searches file contents under `path` (a file or directory) for a regular expression. */
  grep(pattern: string, path?: string, options?: GrepOptions): Promise<GrepResult>;
  /** Finds files matching a glob under `path`; absolute paths, newest modification first. */
  glob(pattern: string, path?: string, options?: GlobOptions): Promise<string[]>;
  /**
   * Fetches a URL, when the environment offers network access at all (a
   * confined environment only to the hosts it allows).
   */
  fetchUrl?(request: FetchRequest): Promise<FetchResult>;
  /**
   * What confines the tools (see `confinement.ts`); an environment without
   * this method is taken to be unconfined.
   */
  confinement?(): Confinement;
  /** Prepares the environment (idempotent). */
  initialize(): Promise<void>;
  /** Releases everything the environment holds (idempotent). */
  close(): Promise<void>;
  /** Absolute working directory; relative paths resolve against it. */
  workingDirectory(): string;
  /** "linux", "darwin", "windows", … */
  platform(): string;
  /** Operating system version, e.g. the kernel release. */
  osVersion(): string;
}
