/**
 * The benchmark harness. A benchmark measures a figure and, in the same run,
 * the limit it is compared with (a raw operation, a baseline), and reports
 * both with their ratio and the target the ratio should meet. Nothing here
 * asserts speed: `deno task bench` prints, a person reads.
 *
 * @module
 */

/** One line of a benchmark report. */
export interface BenchResult {
  /** What was measured. */
  readonly name: string;
  /** The figure, in `unit`. */
  readonly figure: number;
  /** The limit it is measured against, in `unit`, from the same run. */
  readonly limit: number;
  /** Unit of figure and limit, e.g. "ops/s", "ms", "MB". */
  readonly unit: string;
  /** figure / limit. */
  readonly ratio: number;
  /** The target, e.g. ">= 0.8" or "<= 1.5". */
  readonly target: string;
  /** Whether the ratio meets the target. */
  readonly meets: boolean;
  /** Anything a reader needs to interpret the figure. */
  readonly note?: string;
}

/** Collects and prints results. */
export class Reporter {
  /** Everything reported so far. */
  readonly results: BenchResult[] = [];

  /**
   * Reports `figure` against `limit`. `target` is "<op> <number>" with op one
   * of >=, <=; the ratio figure/limit is compared with the number.
   */
  report(
    name: string,
    figure: number,
    limit: number,
    unit: string,
    target: string,
    note?: string,
  ): BenchResult {
    const ratio = figure / limit;
    const [op, num] = target.split(/\s+/);
    const bound = Number(num);
    const meets = op === ">=" ? ratio >= bound : op === "<=" ? ratio <= bound : false;
    const result = { name, figure, limit, unit, ratio, target, meets, note };
    this.results.push(result);
    const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
    console.log(
      `${meets ? "ok  " : "MISS"} ${name}: ${fmt(figure)} ${unit} vs limit ${fmt(limit)} ${unit}` +
        ` → ratio ${ratio.toFixed(3)} (target ${target})${note ? ` — ${note}` : ""}`,
    );
    return result;
  }
}

/** Operations per second of `fn` run `n` times one after the other. */
export async function opsPerSecond(n: number, fn: (i: number) => Promise<unknown> | unknown) {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return n / ((performance.now() - start) / 1000);
}

/** Operations per second of `n` calls run by `workers` concurrent loops. */
export async function concurrentOpsPerSecond(
  n: number,
  workers: number,
  fn: (i: number, worker: number) => Promise<unknown>,
) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = next++; i < n; i = next++) await fn(i, w);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

/** Median of several timings of `fn`, in milliseconds. */
export async function medianMs(runs: number, fn: () => Promise<unknown> | unknown) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** A benchmark module: bench/<name>.bench.ts exports `run`. */
export type Bench = (reporter: Reporter) => Promise<void>;

/** What a paging walk measured: RSS before and at its peak (MB), turns seen, seconds. */
export interface PagingFigures {
  /** Highest RSS sampled, MB. */
  readonly peak: number;
  /** RSS before the walk, MB. */
  readonly before: number;
  /** Turns seen. */
  readonly seen: number;
  /** Seconds the walk took. */
  readonly seconds: number;
}

/**
 * Runs `page(target, contextId)` in a fresh child process (the bench module
 * `module` run as `--page <target> <contextId>`, printing the figures as JSON)
 * when --allow-run allows it, so the figure is the walk's own footprint, not
 * what building the context left in this process's heap; otherwise here, and
 * says so in `where`.
 */
export async function pageInFreshProcess(
  module: string,
  flags: readonly string[],
  page: (target: string, contextId: string) => Promise<PagingFigures>,
  target: string,
  contextId: string,
): Promise<{ figures: PagingFigures; where: string }> {
  const allowed = Deno.permissions.querySync({ name: "run", command: Deno.execPath() });
  if (allowed.state !== "granted") {
    return {
      figures: await page(target, contextId),
      where: "in the bench process (no --allow-run: its RSS includes the build's leftovers)",
    };
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      ...flags,
      "--allow-read",
      "--allow-write",
      new URL(module).pathname,
      "--page",
      target,
      contextId,
    ],
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`the paging child failed with code ${output.code}`);
  return {
    figures: JSON.parse(new TextDecoder().decode(output.stdout)),
    where: "in a fresh child process (the build stays in the bench process)",
  };
}
