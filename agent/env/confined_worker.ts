/**
 * The confined side of `ConfinedEnvironment`: a Deno worker whose only
 * permissions are read and write inside the workspace (and network to the
 * allowed hosts). It runs the file operations over a workspace path guard,
 * so a symbolic link cannot carry an access out either.
 *
 * Protocol: the parent posts `{ id, op, args }`; the worker answers
 * `{ id, ok: true, value }` or `{ id, ok: false, error: { code, message, subject } }`.
 *
 * @module
 */

import { FileOps } from "./fs_ops.ts";
import { isWithin, WorkspacePathGuard } from "./guard.ts";
import { EnvError, PermissionDeniedError } from "./types.ts";
import { toEnvError } from "./errors.ts";

/** Sent once by the parent before any request. */
export interface WorkerInit {
  /** Discriminant. */
  readonly op: "init";
  /** Real path of the workspace. */
  readonly root: string;
  /** Working directory (inside the workspace). */
  readonly cwd: string;
  /** "host" or "host:port" entries network requests may reach. */
  readonly allowedHosts: readonly string[];
  /** The workspace as the user named it, if that differs from its real path. */
  readonly alias?: string;
}

/** A request from the parent. */
export interface WorkerRequest {
  /** Correlates the answer. */
  readonly id: number;
  /** Operation name. */
  readonly op: string;
  /** Its arguments, positional. */
  readonly args: readonly unknown[];
}

/** The worker's answer. */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | {
    readonly id: number;
    readonly ok: false;
    readonly error: { readonly code: string; readonly message: string; readonly subject?: string };
  };

/** What the self-check found: each capability the worker must NOT have, and whether it is denied. */
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
}

/** Whether `host[:port]` of `url` is allowed by `allowed` ("host" allows any port). */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const port = url.port ||
    (url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "");
  return allowed.some((entry) => entry === url.hostname || entry === `${url.hostname}:${port}`);
}

function denied(probe: () => unknown): boolean {
  try {
    probe();
    return false;
  } catch {
    return true;
  }
}

function selfCheck(root: string): SelfCheck {
  return {
    envDenied: denied(() => Deno.env.get("PATH")),
    runDenied: denied(() => new Deno.Command("true").spawn()),
    readOutsideDenied: denied(() => Deno.readDirSync("/")),
    writeOutsideDenied: denied(() =>
      Deno.writeTextFileSync(`${root}/../.forge-confinement-probe-${crypto.randomUUID()}`, "x")
    ),
    procDenied: denied(() => Deno.readFileSync("/proc/self/environ")),
    ffiDenied: denied(() => Deno.dlopen("libc.so.6", {})),
  };
}

async function fetchText(
  allowedHosts: readonly string[],
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; maxBytes?: number },
): Promise<{ status: number; headers: Record<string, string>; body: string; truncated: boolean }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EnvError("InvalidArgument", `not a URL: ${url}`, url);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new PermissionDeniedError(url, `only http and https are allowed, not ${parsed.protocol}`);
  }
  if (!hostAllowed(parsed, allowedHosts)) {
    throw new PermissionDeniedError(
      parsed.host,
      `network access to ${parsed.host} is not allowed (allowed: ${
        allowedHosts.join(", ") || "none"
      })`,
    );
  }
  let response: Response;
  try {
    response = await fetch(parsed, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body,
      redirect: "manual", // a redirect could lead to a host that is not allowed
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new PermissionDeniedError(
        parsed.host,
        "network access refused by the worker's permissions",
      );
    }
    throw new EnvError("Io", `fetch ${url} failed: ${(error as Error).message}`, url);
  }
  const max = init.maxBytes ?? 1024 * 1024;
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: new TextDecoder().decode(bytes.subarray(0, max)),
    truncated: bytes.length > max,
  };
}

let ops: FileOps | undefined;
let hosts: readonly string[] = [];
let workspace = "";

async function handle(request: WorkerRequest): Promise<unknown> {
  if (!ops) throw new EnvError("Closed", "the confined worker was not initialised");
  const a = request.args as never[];
  switch (request.op) {
    case "readFile":
      return await ops.readFile(a[0], a[1], a[2]);
    case "writeFile":
      return await ops.writeFile(a[0], a[1]);
    case "deleteFile":
      return await ops.deleteFile(a[0]);
    case "moveFile":
      return await ops.moveFile(a[0], a[1]);
    case "fileExists":
      return await ops.fileExists(a[0]);
    case "listDirectory":
      return await ops.listDirectory(a[0], a[1]);
    case "grep":
      return await ops.grep(a[0], a[1], a[2]);
    case "glob":
      return await ops.glob(a[0], a[1], a[2]);
    case "resolveDir": {
      const real = await ops.guard.forRead(a[0]);
      if (!(await Deno.stat(real)).isDirectory) {
        throw new EnvError("InvalidArgument", `${a[0]} is not a directory`, a[0]);
      }
      if (!isWithin(workspace, real)) {
        throw new PermissionDeniedError(a[0], "outside the workspace");
      }
      return real;
    }
    case "fetch":
      return await fetchText(hosts, a[0], a[1] ?? {});
    case "selfCheck":
      return selfCheck(workspace);
    default:
      throw new EnvError("Unsupported", `unknown operation ${request.op}`);
  }
}

// A stray rejection must not kill the worker (and every pending call with it);
// each request already answers for its own errors.
// The worker's global scope, typed here rather than through the deno.worker
// lib: JSR refuses triple-slash directives that change globals.
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerInit | WorkerRequest>) => void | Promise<void>) | null;
  postMessage(message: unknown): void;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.addEventListener("unhandledrejection", (event) => event.preventDefault());

scope.onmessage = async (event: MessageEvent<WorkerInit | WorkerRequest>) => {
  const message = event.data;
  if (message.op === "init") {
    const init = message as WorkerInit;
    workspace = init.root;
    hosts = init.allowedHosts;
    ops = new FileOps(new WorkspacePathGuard(init.root, init.cwd, init.alias), { syncReads: true });
    scope.postMessage({ id: 0, ok: true, value: "ready" });
    return;
  }
  const request = message as WorkerRequest;
  try {
    const value = await handle(request);
    scope.postMessage({ id: request.id, ok: true, value } satisfies WorkerResponse);
  } catch (error) {
    const e = toEnvError(error, String(request.args[0] ?? request.op));
    scope.postMessage(
      {
        id: request.id,
        ok: false,
        error: { code: e.code, message: e.message, subject: e.subject },
      } satisfies WorkerResponse,
    );
  }
};
