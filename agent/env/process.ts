/**
 * Running a program in its own process group (a new session, via
 * `detached`), so a timeout or cancellation can kill the program and
 * everything it started: SIGTERM to the group, a grace period, then SIGKILL.
 *
 * @module
 */

import type { ExecResult } from "./types.ts";
import { EnvError } from "./types.ts";

/** Output beyond this many bytes per stream is dropped (and the drop is reported). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/** What to run. */
export interface ProcessSpec {
  /** Program (absolute path or a name found on the parent's PATH). */
  readonly program: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** Working directory. */
  readonly cwd: string;
  /** The complete environment of the program (nothing else is inherited). */
  readonly env: Readonly<Record<string, string>>;
  /** Wall-clock limit. */
  readonly timeoutMs: number;
  /** Cancels the run (treated like a timeout, but reported as cancelled). */
  readonly signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL (spec: 2000 ms). */
  readonly killGraceMs?: number;
}

/**
 * Whether programs get their own process group here. `detached: true` makes
 * Deno call setsid() in the child on Unix, so the child leads a new session
 * and process group whose id is its pid.
 */
export const hasProcessGroups: boolean = Deno.build.os !== "windows";

class Capture {
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  dropped = 0;
  readonly done: Promise<void>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
    this.done = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) return;
        const room = MAX_CAPTURE_BYTES - this.#kept;
        if (room > 0) {
          const part = value.length <= room ? value : value.subarray(0, room);
          this.#chunks.push(part);
          this.#kept += part.length;
        }
        this.dropped += Math.max(0, value.length - Math.max(0, room));
      }
    } catch {
      // Cancelled or broken pipe: what was read so far is the output.
    }
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }

  text(): string {
    const all = new Uint8Array(this.#kept);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    const text = new TextDecoder().decode(all);
    return this.dropped ? `${text}\n[${this.dropped} more bytes of output were dropped]` : text;
  }
}

function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(hasProcessGroups ? -pid : pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want.
  }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => id = setTimeout(resolve, ms));
  return { promise, cancel: () => clearTimeout(id) };
}

/**
 * Runs `spec` to completion, timeout or cancellation. Resolves with what
 * was captured; throws an EnvError only when the program cannot be started
 * (NotFound) or the run was cancelled (Aborted, with the partial output in
 * the message).
 */
export async function runProcess(spec: ProcessSpec): Promise<ExecResult> {
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new EnvError("InvalidArgument", `timeout must be > 0 ms, got ${spec.timeoutMs}`);
  }
  if (spec.signal?.aborted) throw new EnvError("Aborted", `${spec.program} was cancelled`);
  const started = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(spec.program, {
      args: [...spec.args],
      detached: hasProcessGroups,
      cwd: spec.cwd,
      env: { ...spec.env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new EnvError("NotFound", `cannot start ${spec.program}: not found`, spec.program);
    }
    throw new EnvError("Io", `cannot start ${spec.program}: ${(error as Error).message}`);
  }
  const stdout = new Capture(child.stdout);
  const stderr = new Capture(child.stderr);
  const exited = child.status;
  const drained = Promise.all([stdout.done, stderr.done]);

  let timedOut = false;
  let aborted = false;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      killGroup(child.pid, "SIGTERM");
      const grace = delay(spec.killGraceMs ?? 2000);
      await Promise.race([Promise.all([exited, drained]), grace.promise]);
      grace.cancel();
      killGroup(child.pid, "SIGKILL");
    })();
    return stopping;
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, spec.timeoutMs);
  const onAbort = () => {
    aborted = true;
    stop();
  };
  spec.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await exited;
    // Whatever the shell left running in its group (background jobs) does
    // not outlive the command; this also lets the output pipes close.
    if (!stopping) killGroup(child.pid, "SIGKILL");
    await stopping;
    const settle = delay(1000);
    await Promise.race([drained, settle.promise]);
    settle.cancel();
    stdout.cancel();
    stderr.cancel();
    await drained;
    const result: ExecResult = {
      stdout: stdout.text(),
      stderr: stderr.text(),
      exitCode: status.code,
      timedOut,
      durationMs: Math.round(performance.now() - started),
    };
    if (aborted && !timedOut) {
      throw new EnvError(
        "Aborted",
        `${spec.program} was cancelled after ${result.durationMs} ms; partial output:\n${result.stdout}${result.stderr}`,
        spec.program,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onAbort);
  }
}
