/**
 * The file operations of an environment, written once over a
 * {@linkcode PathGuard}: the local environment runs them with an open guard,
 * the confined worker with a workspace guard. Metadata calls (stat, lstat,
 * realpath) are synchronous: each is one short syscall, and the async form
 * costs about as much as the read it precedes (bench/agent_tools.bench.ts).
 *
 * @module
 */

import { basename, dirname, join, relative } from "node:path";
import type {
  DirEntry,
  FileContent,
  GlobOptions,
  GrepMatch,
  GrepOptions,
  GrepResult,
  WriteResult,
} from "./types.ts";
import { EnvError, InvalidArgumentError, PermissionDeniedError } from "./types.ts";
import type { PathGuard } from "./guard.ts";
import { checkAborted, toEnvError } from "./errors.ts";
import { decodeFile, looksBinary } from "./text.ts";
import type { GlobSpec } from "./glob_spec.ts";

/** Files larger than this are refused by readFile (use a shell tool to slice them). */
export const MAX_READ_BYTES = 64 * 1024 * 1024;
/** grep skips files larger than this. */
export const MAX_GREP_FILE_BYTES = 8 * 1024 * 1024;
/**
 * A matched line longer than this is cut in grep's answer. Uncut, one call
 * could carry max_results lines of up to {@linkcode MAX_GREP_FILE_BYTES}
 * each (800 MiB for 100 one-line files the shell wrote), held in memory on
 * both sides of the file service; the grep tool shows 20 000 characters in
 * all anyway.
 */
export const MAX_GREP_LINE_CHARS = 2000;
/** A directory walk stops after visiting this many entries. */
export const MAX_WALK_ENTRIES = 200_000;
/** Directory names a walk never enters. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([".git"]);

/** One file found by a walk. */
interface WalkedFile {
  readonly path: string;
  readonly rel: string;
}

/** Options of {@linkcode FileOps}. */
export interface FileOpsOptions {
  /**
   * Read file contents synchronously: faster for the small files tools
   * read, but it blocks the thread, so only for a thread of its own (the
   * confined worker).
   */
  readonly syncReads?: boolean;
  /**
   * Refuse to read a regular file that has other hard links (grep skips
   * it): another name of the same file may lie outside the workspace, and
   * nothing in the workspace can tell where. Writes replace the name with a
   * new file (temp + rename), so they never write through a link.
   */
  readonly refuseHardLinks?: boolean;
}

/** grep's options with the glob filter already compiled (see `glob_spec.ts`). */
export interface FileGrepOptions extends Omit<GrepOptions, "globFilter"> {
  /** Only files whose path matches this compiled glob. */
  readonly globFilter?: GlobSpec;
}

/** File operations over a path guard. */
export class FileOps {
  readonly #syncReads: boolean;
  readonly #refuseHardLinks: boolean;

  /** Creates the operations; every path goes through `guard`. */
  constructor(readonly guard: PathGuard, options: FileOpsOptions = {}) {
    this.#syncReads = options.syncReads ?? false;
    this.#refuseHardLinks = options.refuseHardLinks ?? false;
  }

  async #read(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#syncReads ? Deno.readFileSync(path) : await Deno.readFile(path, { signal });
  }

  /** See {@linkcode ExecutionEnvironment.readFile}. */
  async readFile(
    path: string,
    offset?: number,
    limit?: number,
    signal?: AbortSignal,
  ): Promise<FileContent> {
    checkAborted(signal, `read ${path}`);
    if (this.#syncReads) return this.readFileSync(path, offset, limit);
    const real = this.guard.forRead(path);
    try {
      this.#checkReadable(path, Deno.statSync(real));
      return decodeFile(real, await Deno.readFile(real, { signal }), offset, limit);
    } catch (error) {
      throw toEnvError(error, path);
    }
  }

  /**
   * {@linkcode FileOps.readFile} without a promise anywhere, for a thread of
   * its own (the confined worker, the sandboxed file server), which answers
   * a read at once when nothing else is running.
   */
  readFileSync(path: string, offset?: number, limit?: number): FileContent {
    const real = this.guard.forRead(path);
    try {
      this.#checkReadable(path, Deno.statSync(real));
      return decodeFile(real, Deno.readFileSync(real), offset, limit);
    } catch (error) {
      throw toEnvError(error, path);
    }
  }

  /** Refuses what readFile must not open: a directory, a FIFO or device, a hard-linked or huge file. */
  #checkReadable(path: string, info: Deno.FileInfo): void {
    if (info.isDirectory) {
      throw new EnvError("IsDirectory", `${path} is a directory, not a file`, path);
    }
    if (!info.isFile) {
      // A FIFO or device would block the read or never end.
      throw new InvalidArgumentError(`${path} is not a regular file`, path);
    }
    if (this.#refuseHardLinks && (info.nlink ?? 1) > 1) {
      throw new PermissionDeniedError(
        path,
        `has ${info.nlink} hard links; the file tools do not read a file with other names, ` +
          "one of which may lie outside the workspace (write_file replaces it with a new file)",
      );
    }
    if (info.size > MAX_READ_BYTES) {
      throw new InvalidArgumentError(
        `${path} is ${info.size} bytes, more than the ${MAX_READ_BYTES}-byte read limit`,
        path,
      );
    }
  }

  /**
   * Writes atomically: a temporary file beside the target is written,
   * fsynced and renamed over it, so a crash leaves the old or the new
   * content, never a torn file. An existing file keeps its mode.
   */
  async writeFile(path: string, content: string, signal?: AbortSignal): Promise<WriteResult> {
    checkAborted(signal, `write ${path}`);
    const real = this.guard.forWrite(path);
    try {
      let mode: number | undefined;
      let created = true;
      try {
        const info = Deno.statSync(real);
        if (info.isDirectory) {
          throw new EnvError("IsDirectory", `${path} is a directory, not a file`, path);
        }
        mode = info.mode ?? undefined;
        created = false;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      await Deno.mkdir(dirname(real), { recursive: true });
      const bytes = new TextEncoder().encode(content);
      const temp = join(
        dirname(real),
        `.${basename(real)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
      );
      try {
        using file = await Deno.open(temp, { write: true, createNew: true, mode });
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
        await file.syncData();
      } catch (error) {
        await Deno.remove(temp).catch(() => {});
        throw error;
      }
      // Mode passed to open() is masked by the umask; restore the old mode exactly.
      if (mode !== undefined) await Deno.chmod(temp, mode & 0o7777);
      await Deno.rename(temp, real);
      await syncDir(dirname(real));
      return { path: real, bytesWritten: bytes.length, created };
    } catch (error) {
      throw toEnvError(error, path);
    }
  }

  /** Deletes a file (a link is deleted itself, not its target). */
  async deleteFile(path: string, signal?: AbortSignal): Promise<void> {
    checkAborted(signal, `delete ${path}`);
    const real = this.guard.forEntry(path);
    try {
      const info = Deno.lstatSync(real);
      if (info.isDirectory) {
        throw new EnvError("IsDirectory", `${path} is a directory; only files are deleted`, path);
      }
      await Deno.remove(real);
      await syncDir(dirname(real));
    } catch (error) {
      throw toEnvError(error, path);
    }
  }

  /** Moves a file, creating the target's parent directories; refuses to overwrite a directory. */
  async moveFile(from: string, to: string, signal?: AbortSignal): Promise<void> {
    checkAborted(signal, `move ${from}`);
    const source = this.guard.forEntry(from);
    const target = this.guard.forWrite(to);
    try {
      Deno.lstatSync(source);
    } catch (error) {
      throw toEnvError(error, from);
    }
    try {
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.rename(source, target);
      await syncDir(dirname(target));
    } catch (error) {
      throw toEnvError(error, to);
    }
  }

  /** Whether the path exists; a refused path is an error, not `false`. */
  async fileExists(path: string, signal?: AbortSignal): Promise<boolean> {
    checkAborted(signal, `stat ${path}`);
    return this.fileExistsSync(path);
  }

  /** {@linkcode FileOps.fileExists} without a promise. */
  fileExistsSync(path: string): boolean {
    try {
      const real = this.guard.forRead(path);
      Deno.lstatSync(real);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      if (error instanceof EnvError && error.code === "NotFound") return false;
      throw error;
    }
  }

  /** Lists a directory down to `depth` levels, sorted by name. */
  async listDirectory(path: string, depth = 1, signal?: AbortSignal): Promise<DirEntry[]> {
    if (!Number.isInteger(depth) || depth < 1) {
      throw new InvalidArgumentError(`depth must be an integer >= 1, got ${depth}`, "depth");
    }
    const root = this.guard.forRead(path);
    const out: DirEntry[] = [];
    const visit = async (dir: string, prefix: string, level: number): Promise<void> => {
      checkAborted(signal, `list ${path}`);
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (error) {
        throw toEnvError(error, prefix ? `${path}/${prefix}` : path);
      }
      entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      for (const entry of entries) {
        const name = prefix ? `${prefix}/${entry.name}` : entry.name;
        const full = join(dir, entry.name);
        if (entry.isDirectory) {
          out.push({ name, isDir: true });
          if (level < depth && !SKIPPED_DIRS.has(entry.name)) await visit(full, name, level + 1);
        } else {
          let size: number | undefined;
          try {
            size = Deno.lstatSync(full).size;
          } catch { /* vanished meanwhile: list it without a size */ }
          out.push({ name, isDir: false, size });
        }
      }
    };
    await visit(root, "", 1);
    return out;
  }

  /** Searches file contents with a JavaScript regular expression. */
  async grep(
    pattern: string,
    path = ".",
    options: FileGrepOptions = {},
  ): Promise<GrepResult> {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern, options.caseInsensitive ? "i" : "");
    } catch (error) {
      throw new InvalidArgumentError(
        `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`,
        "pattern",
      );
    }
    const maxResults = options.maxResults ?? 100;
    if (!Number.isInteger(maxResults) || maxResults < 1) {
      throw new InvalidArgumentError(`max_results must be an integer >= 1`, "max_results");
    }
    const matches: GrepMatch[] = [];
    const filter = options.globFilter ? globTester(options.globFilter) : undefined;
    for await (const file of this.#files(path, options.signal)) {
      if (filter && !filter(file.rel, file.path)) continue;
      let bytes: Uint8Array;
      try {
        const info = Deno.statSync(file.path);
        if (info.size > MAX_GREP_FILE_BYTES) continue;
        if (this.#refuseHardLinks && (info.nlink ?? 1) > 1) continue;
        bytes = await this.#read(file.path);
      } catch {
        continue; // unreadable or vanished: not a match
      }
      if (looksBinary(bytes)) continue;
      const lines = new TextDecoder().decode(bytes).split("\n");
      for (let i = 0; i < lines.length; i++) {
        const text = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
        if (i === lines.length - 1 && text === "") break;
        if (!regex.test(text)) continue;
        if (matches.length >= maxResults) return { matches, truncated: true };
        matches.push({ path: file.path, line: i + 1, text: clipLine(text) });
      }
    }
    return { matches, truncated: false };
  }

  /** Finds files whose path relative to `path` matches `pattern`, newest first. */
  async glob(spec: GlobSpec, path = ".", options: GlobOptions = {}): Promise<string[]> {
    const maxResults = options.maxResults ?? 1000;
    const found: { path: string; mtime: number }[] = [];
    const matches = globTester(spec);
    for await (const file of this.#files(path, options.signal)) {
      if (!matches(file.rel, file.path)) continue;
      let mtime = 0;
      try {
        mtime = Deno.statSync(file.path).mtime?.getTime() ?? 0;
      } catch {
        continue;
      }
      found.push({ path: file.path, mtime });
    }
    found.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : 1));
    return found.slice(0, maxResults).map((f) => f.path);
  }

  /**
   * Regular files under `path` (or `path` itself when it is a file). Links
   * are not followed, so a walk never leaves the directory it started in.
   */
  async *#files(path: string, signal?: AbortSignal): AsyncGenerator<WalkedFile> {
    const root = this.guard.forRead(path);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(root);
    } catch (error) {
      throw toEnvError(error, path);
    }
    if (info.isFile) {
      yield { path: root, rel: basename(root) };
      return;
    }
    let visited = 0;
    const stack = [root];
    while (stack.length) {
      checkAborted(signal, `search in ${path}`);
      const dir = stack.pop()!;
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch {
        continue; // unreadable directory: skipped, like ripgrep does
      }
      entries.sort((a, b) => a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
      const files: WalkedFile[] = [];
      for (const entry of entries) {
        if (++visited > MAX_WALK_ENTRIES) return;
        const full = join(dir, entry.name);
        if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) stack.push(full);
        else if (entry.isFile) files.push({ path: full, rel: relative(root, full) });
      }
      yield* files.reverse();
    }
  }
}

/** A tester for a compiled glob: `rel` is relative to the search root, `abs` absolute. */
export function globTester(spec: GlobSpec): (rel: string, abs: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(spec.source, spec.flags);
  } catch (error) {
    throw new InvalidArgumentError(
      `invalid glob pattern ${JSON.stringify(spec.pattern)}: ${(error as Error).message}`,
      "pattern",
    );
  }
  return (rel, abs) => {
    const subject = (spec.absolute ? abs : rel).split("\\").join("/");
    return re.test(spec.base ? subject.slice(subject.lastIndexOf("/") + 1) : subject);
  };
}

/** `text` cut to {@linkcode MAX_GREP_LINE_CHARS}, saying how much was cut. */
function clipLine(text: string): string {
  if (text.length <= MAX_GREP_LINE_CHARS) return text;
  const cut = text.length - MAX_GREP_LINE_CHARS;
  return `${text.slice(0, MAX_GREP_LINE_CHARS)}[… ${cut} more characters on this line]`;
}

/** Makes a rename or unlink durable (best effort: not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.syncData();
  } catch { /* directories cannot be opened for sync on every platform */ }
}
