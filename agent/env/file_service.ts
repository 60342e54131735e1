/**
 * The file operations the confined environment serves from its sandboxed
 * side, independent of how requests arrive (a Deno worker, or a Deno
 * process inside bubblewrap talking over stdio). Requests are handled one
 * at a time, in order: no two file operations of a session interleave, so
 * no tool call can swap a link between another call's check and its use.
 *
 * @module
 */

import { FileOps } from "./fs_ops.ts";
import { isWithin, WorkspacePathGuard } from "./guard.ts";
import { EnvError } from "./types.ts";
import { toEnvError } from "./errors.ts";

/** Sent once by the parent before any request. */
export interface FileServiceInit {
  /** Discriminant. */
  readonly op: "init";
  /** Real path of the workspace. */
  readonly root: string;
  /** Working directory (inside the workspace). */
  readonly cwd: string;
  /** The workspace as the user named it, if that differs from its real path. */
  readonly alias?: string;
  /** Real paths inside the workspace that are never written (e.g. `.git`). */
  readonly protectedPaths?: readonly string[];
}

/** A request from the parent. */
export interface FileRequest {
  /** Correlates the answer. */
  readonly id: number;
  /** Operation name. */
  readonly op: string;
  /** Its arguments, positional. */
  readonly args: readonly unknown[];
}

/** The service's answer. */
export type FileResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | {
    readonly id: number;
    readonly ok: false;
    readonly error: { readonly code: string; readonly message: string; readonly subject?: string };
  };

/** What the self-check found: each capability the service must NOT have, and whether it is denied. */
export interface SelfCheck {
  /** Reading environment variables. */
  readonly envDenied: boolean;
  /** Spawning a program. */
  readonly runDenied: boolean;
  /** Reading outside the workspace (the filesystem root). */
  readonly readOutsideDenied: boolean;
  /** Writing outside the workspace (the parent of the workspace). */
  readonly writeOutsideDenied: boolean;
  /** Reading /proc/self/environ. */
  readonly procDenied: boolean;
  /** Loading native code. */
  readonly ffiDenied: boolean;
  /** Opening a network connection. */
  readonly netDenied: boolean;
}

function denied(probe: () => unknown): boolean {
  try {
    probe();
    return false;
  } catch {
    return true;
  }
}

async function deniedAsync(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return false;
  } catch {
    return true;
  }
}

async function selfCheck(root: string): Promise<SelfCheck> {
  return {
    envDenied: denied(() => Deno.env.get("PATH")),
    runDenied: denied(() => new Deno.Command("true").spawn()),
    readOutsideDenied: denied(() => Deno.readDirSync("/")),
    writeOutsideDenied: denied(() =>
      Deno.writeTextFileSync(`${root}/../.forge-confinement-probe-${crypto.randomUUID()}`, "x")
    ),
    procDenied: denied(() => Deno.readFileSync("/proc/self/environ")),
    ffiDenied: denied(() => Deno.dlopen("libc.so.6", {})),
    netDenied: await deniedAsync(async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: 9 });
      conn.close();
    }),
  };
}

/**
 * What the shell sandbox must hide under `root` (links not followed), at
 * most `max`: regular files with more than one hard link (another name of
 * such a file may lie outside the workspace) and Unix sockets (a process
 * outside listening on one is reachable through it by path, network
 * namespace or not).
 */
export function entriesToMask(root: string, max: number): string[] {
  const found: string[] = [];
  const stack = [root];
  while (stack.length && found.length < max) {
    const dir = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) stack.push(path);
      else if (!entry.isSymlink) {
        try {
          if (mustMask(Deno.lstatSync(path))) found.push(path);
        } catch { /* vanished */ }
      }
    }
  }
  return found.slice(0, max);
}

/** Whether the shell sandbox hides an entry like this (see {@linkcode entriesToMask}). */
export function mustMask(info: Deno.FileInfo): boolean {
  return (info.isFile && (info.nlink ?? 1) > 1) || info.isSocket === true;
}

/** Operations answered without a promise when nothing else is running: the common, quick ones. */
const SYNC_OPS: ReadonlySet<string> = new Set(["readFile", "fileExists", "resolveDir"]);

/** Serves file requests for one workspace, one at a time. */
export class FileService {
  readonly #ops: FileOps;
  readonly #root: string;
  #queue: Promise<unknown> = Promise.resolve();
  /** Requests accepted and not yet answered by the asynchronous path. */
  #inFlight = 0;

  /** Creates the service for `init`'s workspace. */
  constructor(init: FileServiceInit) {
    this.#root = init.root;
    this.#ops = new FileOps(
      new WorkspacePathGuard(init.root, init.cwd, init.alias, init.protectedPaths),
      {
        syncReads: true,
        refuseHardLinks: true,
      },
    );
  }

  /**
   * Handles `request` after every earlier one has finished; never throws.
   * A read, an existence check or a directory resolution that arrives when
   * nothing else is running is answered at once, without a promise: the
   * common case, and a promise chain per call costs several µs on a thread
   * that wakes up only for it. Nothing else can run meanwhile, so the
   * one-at-a-time order holds either way.
   */
  handle(request: FileRequest): FileResponse | Promise<FileResponse> {
    if (this.#inFlight === 0 && SYNC_OPS.has(request.op)) return this.#answerSync(request);
    this.#inFlight++;
    const run = this.#queue.then(() => this.#answer(request)).finally(() => this.#inFlight--);
    this.#queue = run;
    return run;
  }

  #answerSync(request: FileRequest): FileResponse {
    try {
      return { id: request.id, ok: true, value: this.#dispatchSync(request) };
    } catch (error) {
      return this.#failure(request, error);
    }
  }

  async #answer(request: FileRequest): Promise<FileResponse> {
    try {
      const value = SYNC_OPS.has(request.op)
        ? this.#dispatchSync(request)
        : await this.#dispatch(request);
      return { id: request.id, ok: true, value };
    } catch (error) {
      return this.#failure(request, error);
    }
  }

  #failure(request: FileRequest, error: unknown): FileResponse {
    const e = toEnvError(error, String(request.args[0] ?? request.op));
    return {
      id: request.id,
      ok: false,
      error: { code: e.code, message: e.message, subject: e.subject },
    };
  }

  #dispatchSync(request: FileRequest): unknown {
    // JSON carries an absent argument as null; the operations expect undefined.
    const [a0, a1, a2] = request.args;
    const ops = this.#ops;
    switch (request.op) {
      case "readFile":
        return ops.readFileSync(
          a0 as string,
          (a1 ?? undefined) as number,
          (a2 ?? undefined) as number,
        );
      case "fileExists":
        return ops.fileExistsSync(a0 as string);
      case "resolveDir": {
        const real = ops.guard.forRead(a0 as string);
        if (!Deno.statSync(real).isDirectory) {
          throw new EnvError("InvalidArgument", `${a0} is not a directory`, a0 as string);
        }
        if (!isWithin(this.#root, real)) {
          throw new EnvError("PermissionDenied", `${a0}: outside the workspace`, a0 as string);
        }
        return real;
      }
      default:
        throw new EnvError("Unsupported", `unknown operation ${request.op}`);
    }
  }

  async #dispatch(request: FileRequest): Promise<unknown> {
    // JSON carries an absent argument as null; the operations expect undefined.
    const a = request.args.map((arg) => arg ?? undefined) as never[];
    const ops = this.#ops;
    switch (request.op) {
      case "writeFile":
        return await ops.writeFile(a[0], a[1]);
      case "deleteFile":
        return await ops.deleteFile(a[0]);
      case "moveFile":
        return await ops.moveFile(a[0], a[1]);
      case "listDirectory":
        return await ops.listDirectory(a[0], a[1]);
      case "grep":
        return await ops.grep(a[0], a[1], a[2]);
      case "glob":
        return await ops.glob(a[0], a[1], a[2]);
      case "entriesToMask":
        return entriesToMask(this.#root, a[0]);
      case "selfCheck":
        return await selfCheck(this.#root);
      default:
        throw new EnvError("Unsupported", `unknown operation ${request.op}`);
    }
  }
}

const BYTES_TAG = "$forge.bytes";

function hasBytes(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true;
  if (depth > 3 || value === null || typeof value !== "object") return false;
  for (const inner of Object.values(value)) if (hasBytes(inner, depth + 1)) return true;
  return false;
}

/**
 * One message as one line of JSON (byte arrays as base64), for the stdio
 * transport: JSON escapes every newline inside strings. Only messages that
 * carry bytes (an image read) pay for the replacer.
 */
export function encodeLine(message: unknown): string {
  if (!hasBytes(message)) return JSON.stringify(message) + "\n";
  return JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array) {
      let binary = "";
      for (let i = 0; i < value.length; i += 0x8000) {
        binary += String.fromCharCode(...value.subarray(i, i + 0x8000));
      }
      return { [BYTES_TAG]: btoa(binary) };
    }
    return value;
  }) + "\n";
}

/** The inverse of {@linkcode encodeLine} (without the newline). */
export function decodeLine(line: string): unknown {
  if (!line.includes(BYTES_TAG)) return JSON.parse(line);
  return JSON.parse(line, (_key, value) => {
    if (value && typeof value === "object" && typeof value[BYTES_TAG] === "string") {
      const binary = atob(value[BYTES_TAG]);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return bytes;
    }
    return value;
  });
}
