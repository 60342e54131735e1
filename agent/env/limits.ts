/**
 * Resource limits of shell commands: defaults, the `ulimit` prologue that
 * applies them inside the command's shell (hard and soft, so the command
 * cannot raise them; inside bubblewrap every capability is dropped, so not
 * even uid 0 can), and how a hit limit is recognised afterwards.
 *
 * @module
 */

import type { ExecLimitHit, ExecLimits } from "./types.ts";

/** The limits a confined command runs under unless configured otherwise. */
export const DEFAULT_EXEC_LIMITS: Required<ExecLimits> = {
  maxOutputBytes: 1024 * 1024,
  maxFileBytes: 256 * 1024 * 1024,
  maxProcesses: 1024,
  maxMemoryBytes: 8 * 1024 * 1024 * 1024,
};

/** `limits` with defaults filled in. */
export function resolveLimits(limits: ExecLimits = {}): Required<ExecLimits> {
  const out = { ...DEFAULT_EXEC_LIMITS, ...limits };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`limit ${name} must be a positive integer, got ${value}`);
    }
  }
  return out;
}

/**
 * Shell text run before the command: each limit set hard and soft. A limit
 * the host already holds lower stays lower (the failed raise is silent).
 */
export function ulimitPrologue(limits: Required<ExecLimits>): string {
  const kib = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
  return `ulimit -HSf ${kib(limits.maxFileBytes)} 2>/dev/null; ` +
    `ulimit -HSu ${limits.maxProcesses} 2>/dev/null; ` +
    `ulimit -HSv ${kib(limits.maxMemoryBytes)} 2>/dev/null\n`;
}

const SIGXFSZ_EXIT = 128 + 25;

/** The OS limits a finished command probably ran into, judged from its exit and stderr. */
export function osLimitsHit(
  limits: Required<ExecLimits>,
  exitCode: number,
  stderr: string,
): ExecLimitHit[] {
  const hits: ExecLimitHit[] = [];
  if (exitCode === SIGXFSZ_EXIT || /File size limit exceeded|File too large/i.test(stderr)) {
    hits.push({
      kind: "file_size",
      message: `a file reached the size limit of ${limits.maxFileBytes} bytes`,
    });
  }
  if (
    /fork: (retry|Resource temporarily unavailable)|Cannot fork|Resource temporarily unavailable/i
      .test(stderr)
  ) {
    hits.push({
      kind: "processes",
      message: `the process limit of ${limits.maxProcesses} was reached`,
    });
  }
  if (/Cannot allocate memory|out of memory|bad_alloc|memory exhausted/i.test(stderr)) {
    hits.push({
      kind: "memory",
      message: `memory ran out under the limit of ${limits.maxMemoryBytes} bytes per process`,
    });
  }
  return hits;
}
