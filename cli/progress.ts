/**
 * Progress of a pipeline run for people at a terminal: one status line,
 * redrawn in place, naming the current stage, its attempt, how long it and
 * the run have taken and how many retries the run needed; a permanent line
 * per finished stage, failure, branch and human question above it. It
 * consumes the runner's event stream and nothing else. When the output is
 * not a terminal (piped, redirected, CI) it prints nothing: logs and scripts
 * get the run's result, not animation.
 *
 * @module
 */
import type { PipelineEvent } from "@forge/attractor";
import { formatDuration } from "./trace/text.ts";

/** Where progress goes and what it may assume. */
export interface ProgressOptions {
  /** Writes raw text (no newline added). */
  write(text: string): void;
  /** Whether the output is a terminal; without one the renderer stays silent. */
  readonly isTerminal: boolean;
  /** Current time (tests pin it); default `Date.now`. */
  readonly now?: () => number;
  /** Redraw interval of the status line in ms; default 250; 0 redraws only on events. */
  readonly refreshMs?: number;
  /** Terminal width, to keep the status line on one row; default 100. */
  readonly columns?: number;
}

const CLEAR = "\r\x1b[2K";

/** Renders pipeline events as terminal progress. */
export class ProgressRenderer {
  readonly #o: ProgressOptions;
  readonly #now: () => number;
  #runStart?: number;
  #stage?: { name: string; index: number; since: number; attempt: number };
  #retries = 0;
  #branches = 0;
  #timer?: ReturnType<typeof setInterval>;
  #status = "";

  /** Creates the renderer. */
  constructor(options: ProgressOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The event listener to hand the runner (`onEvent`). */
  readonly onEvent = (e: PipelineEvent): void => {
    if (!this.#o.isTerminal) return;
    this.#runStart ??= e.at;
    switch (e.kind) {
      case "pipeline_started":
        this.#line(`running ${e.name} (${e.id})`);
        this.#start();
        break;
      case "stage_started": {
        const attempt = this.#stage?.name === e.name ? this.#stage.attempt + 1 : 1;
        this.#stage = { name: e.name, index: e.index, since: e.at, attempt };
        break;
      }
      case "stage_completed":
        this.#line(`✓ ${e.name} ${e.status} ${formatDuration(e.durationMs)}`);
        if (this.#stage?.name === e.name) this.#stage = { ...this.#stage, attempt: 0 };
        break;
      case "stage_failed":
        this.#line(`✗ ${e.name}: ${e.error}${e.willRetry ? " (will retry)" : ""}`);
        break;
      case "stage_retrying":
        this.#retries++;
        this.#line(`↻ ${e.name} attempt ${e.attempt} in ${formatDuration(e.delayMs)}`);
        break;
      case "parallel_started":
        this.#branches = e.branchCount;
        this.#line(`⇉ ${e.nodeId}: ${e.branchCount} branches`);
        break;
      case "parallel_branch_completed":
        this.#line(`  ${e.success ? "✓" : "✗"} branch ${e.branch} ${formatDuration(e.durationMs)}`);
        break;
      case "parallel_completed":
        this.#line(`⇇ joined: ${e.successCount} succeeded, ${e.failureCount} failed`);
        this.#branches = 0;
        break;
      case "interview_started":
        this.#line(`? ${e.stage}: ${e.question}`);
        break;
      case "interview_completed":
        this.#line(`  → ${e.answer}`);
        break;
      case "pipeline_completed":
      case "pipeline_failed":
      case "pipeline_waiting":
        this.close();
        return;
    }
    this.#draw();
  };

  #start(): void {
    const every = this.#o.refreshMs ?? 250;
    if (every > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#draw(), every);
      // A progress line must never keep the process alive.
      Deno.unrefTimer(this.#timer);
    }
  }

  /** The status line as it would be drawn now. */
  statusLine(): string {
    const now = this.#now();
    const parts: string[] = [];
    if (this.#stage && this.#stage.attempt > 0) {
      const s = this.#stage;
      parts.push(`▸ ${s.name}`);
      if (s.attempt > 1) parts.push(`attempt ${s.attempt}`);
      parts.push(formatDuration(now - s.since));
    } else {
      parts.push("▸ routing");
    }
    if (this.#branches) parts.push(`${this.#branches} branches`);
    if (this.#runStart !== undefined) parts.push(`run ${formatDuration(now - this.#runStart)}`);
    if (this.#retries) parts.push(`${this.#retries} ${this.#retries === 1 ? "retry" : "retries"}`);
    const line = parts.join(" · ");
    const max = (this.#o.columns ?? 100) - 1;
    return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  }

  #draw(): void {
    if (!this.#o.isTerminal || this.#runStart === undefined) return;
    this.#status = this.statusLine();
    this.#o.write(`${CLEAR}${this.#status}`);
  }

  #line(text: string): void {
    this.#o.write(`${CLEAR}${text}\n`);
  }

  /** Stops redrawing and clears the status line. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#o.isTerminal && this.#status) this.#o.write(CLEAR);
    this.#status = "";
  }
}

/** A renderer on standard output: live on a terminal, silent when piped. */
export function stdoutProgress(): ProgressRenderer {
  const enc = new TextEncoder();
  const isTerminal = Deno.stdout.isTerminal();
  let columns = 100;
  try {
    if (isTerminal) columns = Deno.consoleSize().columns;
  } catch { /* not a console after all */ }
  return new ProgressRenderer({
    write: (text) => Deno.stdout.writeSync(enc.encode(text)),
    isTerminal,
    columns,
  });
}
