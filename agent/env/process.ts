/**
 * Running a program in its own process group (a new session, via
 * `detached`), so a timeout or cancellation can kill the program and
 * everything it started: SIGTERM to the group, a grace period, then
 * SIGKILL. Output is kept within a byte limit (the first and last halves)
 * and can be streamed while the program runs.
 *
 * @module
 */

import type { ExecLimitHit, ExecResult, OutputChunk } from "./types.ts";
import { EnvError } from "./types.ts";
import { findExecutable } from "./system.ts";

/** Default output kept in memory per stream. */
export const MAX_CAPTURE_BYTES = 1024 * 1024;

/**
 * setsid(1), used to give a command its own process group: spawning through
 * it costs one exec of a small program, while Deno's `detached: true`
 * makes the spawn fork the whole agent process (bench/agent_tools.bench.ts:
 * about 3× a bare spawn instead of 1.3×).
 */
const SETSID: string | undefined = Deno.build.os === "linux"
  ? findExecutable(["/usr/bin/setsid", "/bin/setsid"])
  : undefined;

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
  /** Output bytes kept per stream (default {@linkcode MAX_CAPTURE_BYTES}). */
  readonly maxOutputBytes?: number;
  /** Receives output as it arrives. */
  readonly onOutput?: (chunk: OutputChunk) => void;
  /**
   * Bytes written to the program's standard input, which is then closed
   * (default: no input, stdin is /dev/null). A program that exits without
   * reading them all is not an error.
   */
  readonly stdin?: Uint8Array;
  /**
   * Run the program in a process group of its own, killed as a whole
   * (default true). False for a program that confines its descendants
   * itself (bubblewrap: its PID namespace dies with it).
   */
  readonly processGroup?: boolean;
}

/**
 * Whether programs get their own process group here. `detached: true` makes
 * Deno call setsid() in the child on Unix, so the child leads a new session
 * and process group whose id is its pid.
 */
export const hasProcessGroups: boolean = Deno.build.os !== "windows";

/** Keeps the first and last halves of a stream within `limit` bytes. */
class Capture {
  readonly #head: Uint8Array[] = [];
  #headBytes = 0;
  #tail: Uint8Array[] = [];
  #tailBytes = 0;
  total = 0;
  readonly done: Promise<void>;
  readonly #half: number;
  readonly #limit: number;
  /** Bytes passed to onOutput so far. */
  #streamed = 0;
  /** Whether onOutput was told that the rest is not streamed. */
  #noted = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();

  constructor(
    stream: ReadableStream<Uint8Array>,
    limit: number,
    readonly name: "stdout" | "stderr",
    readonly onOutput?: (chunk: OutputChunk) => void,
  ) {
    this.#limit = Math.max(1, limit);
    this.#half = Math.max(1, Math.floor(limit / 2));
    this.#reader = stream.getReader();
    this.done = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) return;
        this.#keep(value);
        if (this.onOutput) this.#stream(value);
      }
    } catch {
      // Cancelled or broken pipe: what was read so far is the output.
    }
  }

  /**
   * Passes output on as it arrives, up to the same byte limit as what is
   * kept, then says once that the rest is not streamed. The limit bounds
   * what a call holds in memory, and streamed chunks are held too: by every
   * subscriber that reads events more slowly than a command writes (a flood
   * runs at a gigabyte a second until its time limit).
   */
  #stream(value: Uint8Array): void {
    const room = this.#limit - this.#streamed;
    if (room > 0) {
      const part = value.length > room ? value.subarray(0, room) : value;
      this.#streamed += part.length;
      const text = this.#decoder.decode(part, { stream: part === value });
      if (text) this.onOutput!({ stream: this.name, text });
      if (part === value) return;
    }
    if (this.#noted) return;
    this.#noted = true;
    this.onOutput!({
      stream: this.name,
      text: `\n[… ${this.name} is not streamed past ${this.#limit} bytes (the output limit); ` +
        "the result keeps its first and last halves …]\n",
    });
  }

  #keep(value: Uint8Array): void {
    this.total += value.length;
    let rest = value;
    if (this.#headBytes < this.#half) {
      const part = rest.subarray(0, this.#half - this.#headBytes);
      this.#head.push(part);
      this.#headBytes += part.length;
      rest = rest.subarray(part.length);
    }
    if (!rest.length) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    while (this.#tailBytes - this.#tail[0].length >= this.#half) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }

  /** Bytes dropped from the middle. */
  get dropped(): number {
    return Math.max(0, this.total - this.#headBytes - Math.min(this.#tailBytes, this.#half));
  }

  text(): string {
    const decoder = new TextDecoder();
    const head = decoder.decode(join(this.#head));
    let tail = join(this.#tail);
    if (tail.length > this.#half) tail = tail.subarray(tail.length - this.#half);
    if (!this.dropped) return head + decoder.decode(tail);
    return `${head}\n[… ${this.dropped} bytes of output dropped here: the output limit keeps the first and last ${this.#half} bytes …]\n${
      decoder.decode(tail)
    }`;
  }
}

function join(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** Writes `bytes` to a program's stdin and closes it; a closed pipe (EPIPE) is not an error. */
async function feed(stdin: WritableStream<Uint8Array>, bytes: Uint8Array): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(bytes);
    await writer.close();
  } catch {
    // The program exited or closed its stdin without reading everything.
  }
}

function kill(pid: number, group: boolean, signal: Deno.Signal): void {
  try {
    Deno.kill(group ? -pid : pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want.
  }
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
  const group = (spec.processGroup ?? true) && hasProcessGroups;
  // setsid(1) execs the program in place (the child is not a group leader, so it does not fork).
  const viaSetsid = group && SETSID !== undefined && spec.program.startsWith("/") &&
    findExecutable([spec.program]) !== undefined;
  try {
    child = new Deno.Command(viaSetsid ? SETSID : spec.program, {
      args: viaSetsid ? [spec.program, ...spec.args] : spec.args as string[],
      detached: group && !viaSetsid,
      cwd: spec.cwd,
      env: spec.env as Record<string, string>,
      clearEnv: true,
      stdin: spec.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new EnvError("NotFound", `cannot start ${spec.program}: not found`, spec.program);
    }
    throw new EnvError("Io", `cannot start ${spec.program}: ${(error as Error).message}`);
  }
  const limit = spec.maxOutputBytes ?? MAX_CAPTURE_BYTES;
  const stdout = new Capture(child.stdout, limit, "stdout", spec.onOutput);
  const stderr = new Capture(child.stderr, limit, "stderr", spec.onOutput);
  const drained = Promise.all([stdout.done, stderr.done]);
  const fed = spec.stdin ? feed(child.stdin, spec.stdin) : undefined;

  let timedOut = false;
  let aborted = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (graceTimer !== undefined) return;
    kill(child.pid, group, "SIGTERM");
    graceTimer = setTimeout(() => kill(child.pid, group, "SIGKILL"), spec.killGraceMs ?? 2000);
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
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onAbort);
  }
  await fed;
  // Whatever the program left running in its group (background jobs) does
  // not outlive it; this also lets the output pipes close.
  if (group) kill(child.pid, true, "SIGKILL");
  clearTimeout(graceTimer);
  // A process that left the group (setsid) may still hold the pipes open:
  // wait a moment for the output, then stop reading.
  let settle: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([drained, new Promise((resolve) => settle = setTimeout(resolve, 1000))]);
  clearTimeout(settle);
  stdout.cancel();
  stderr.cancel();
  await drained;
  const limitsHit: ExecLimitHit[] = [];
  if (timedOut) {
    limitsHit.push({ kind: "time", message: `the time limit of ${spec.timeoutMs} ms was reached` });
  }
  for (const capture of [stdout, stderr]) {
    if (capture.dropped) {
      limitsHit.push({
        kind: "output",
        message:
          `${capture.name} was ${capture.total} bytes, over the ${limit}-byte output limit; ` +
          `${capture.dropped} bytes from its middle were dropped`,
      });
    }
  }
  const result: ExecResult = {
    stdout: stdout.text(),
    stderr: stderr.text(),
    exitCode: status.code,
    timedOut,
    durationMs: Math.round(performance.now() - started),
    limitsHit,
  };
  if (aborted && !timedOut) {
    throw new EnvError(
      "Aborted",
      `${spec.program} was cancelled after ${result.durationMs} ms; partial output:\n${result.stdout}${result.stderr}`,
      spec.program,
    );
  }
  return result;
}
