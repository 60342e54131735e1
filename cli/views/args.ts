/**
 * Argument helpers shared by the view commands (sessions, runs, inspect,
 * trace, serve): a usage error type and number parsing that names the flag.
 *
 * @module
 */

/** Bad command-line usage: exit code 2 with the message and the usage text. */
export class UsageError extends Error {
  /** Always "Usage". */
  readonly code = "Usage";
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The message of a `parseArgs` error, without node's advice about `--`
 * ("Unknown option '--x'. To specify a positional argument starting with a
 * '-', place it at the end of the command after '--', as in '-- "--x"').
 */
export function argsProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, "");
}

/** Whether `args` asks for help (`-h` or `--help` before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "-h" || a === "--help") return true;
  }
  return false;
}

/** Parses a whole-number flag within bounds, or throws a UsageError naming it. */
export function intFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return n;
}

/** Checks a context id argument. */
export function contextArg(name: string, value: string | undefined): string {
  if (value === undefined || !/^[1-9][0-9]*$/.test(value)) {
    throw new UsageError(
      `${name} must be a context id (a decimal number), got ${value ?? "nothing"}`,
    );
  }
  return value;
}

/** A timestamp for tables: local date and time to the second. */
export function when(ms: number | undefined): string {
  if (ms === undefined) return "—";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}`;
}

/** Lays out rows as an aligned text table under a header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
