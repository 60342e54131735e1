/**
 * The spec's built-in interviewers (§6.4): auto-approve, console, callback,
 * queue and recording; the durable one lives in `durable.ts`.
 *
 * @module
 */
import type { Answer, Interviewer, Question, QuestionOption } from "./types.ts";
import { normalizeLabel } from "../graph/routing.ts";

/** Finds the option an answer text names: its key, its label or its normalized label. */
export function matchOption(
  options: readonly QuestionOption[],
  response: string,
): QuestionOption | undefined {
  const r = response.trim().toLowerCase();
  if (!r) return undefined;
  return options.find((o) => o.key.toLowerCase() === r) ??
    options.find((o) => o.label.trim().toLowerCase() === r) ??
    options.find((o) => normalizeLabel(o.label) === normalizeLabel(response));
}

/** Approves everything: YES, or the first option. For CI and tests. */
export class AutoApproveInterviewer implements Interviewer {
  /** Answers at once. */
  ask(question: Question): Promise<Answer> {
    if (question.type === "yes_no" || question.type === "confirmation") {
      return Promise.resolve({ value: "yes" });
    }
    const first = question.options[0];
    if (question.type === "multiple_choice" && first) {
      return Promise.resolve({ value: first.key, selectedOption: first });
    }
    return Promise.resolve({ value: "auto-approved", text: "auto-approved" });
  }
}

/** Delegates to a function (a web UI, a chat bot). */
export class CallbackInterviewer implements Interviewer {
  readonly #callback: (question: Question, signal?: AbortSignal) => Answer | Promise<Answer>;
  /** Wraps `callback`. */
  constructor(callback: (question: Question, signal?: AbortSignal) => Answer | Promise<Answer>) {
    this.#callback = callback;
  }
  /** Calls the callback. */
  async ask(question: Question, signal?: AbortSignal): Promise<Answer> {
    return await this.#callback(question, signal);
  }
}

/** Answers from a queue, then SKIPPED. For deterministic tests and replay. */
export class QueueInterviewer implements Interviewer {
  readonly #answers: (Answer | string)[];
  /** Queues answers; a string is an option key or label. */
  constructor(answers: readonly (Answer | string)[]) {
    this.#answers = [...answers];
  }
  /** Answers left. */
  get remaining(): number {
    return this.#answers.length;
  }
  /** Dequeues the next answer. */
  ask(question: Question): Promise<Answer> {
    const next = this.#answers.shift();
    if (next === undefined) return Promise.resolve({ value: "skipped" });
    if (typeof next !== "string") return Promise.resolve(next);
    const option = matchOption(question.options, next);
    return Promise.resolve(
      option ? { value: option.key, selectedOption: option } : { value: next },
    );
  }
}

/** Wraps another interviewer and keeps every question and answer. */
export class RecordingInterviewer implements Interviewer {
  readonly #inner: Interviewer;
  /** Every (question, answer) pair, in order. */
  readonly recordings: { question: Question; answer: Answer }[] = [];
  /** Wraps `inner`. */
  constructor(inner: Interviewer) {
    this.#inner = inner;
  }
  /** Asks the inner interviewer and records the pair. */
  async ask(question: Question, signal?: AbortSignal): Promise<Answer> {
    const answer = await this.#inner.ask(question, signal);
    this.recordings.push({ question, answer });
    return answer;
  }
}

/** Where a console interviewer reads and writes. */
export interface ConsoleIo {
  /** Reads one line (undefined at end of input). */
  readLine(prompt: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Writes text. */
  write(text: string): void;
}

/** Standard input and error as a {@link ConsoleIo} (the prompt goes to stderr). */
export function stdioConsole(): ConsoleIo {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let pending = "";
  return {
    async readLine(prompt, signal) {
      Deno.stderr.writeSync(encoder.encode(prompt));
      const buffer = new Uint8Array(4096);
      while (!pending.includes("\n")) {
        if (signal?.aborted) return undefined;
        const aborted = new Promise<null>((resolve) =>
          signal?.addEventListener("abort", () => resolve(null), { once: true })
        );
        const n = await Promise.race([Deno.stdin.read(buffer), aborted]);
        if (n === null) {
          const rest = pending;
          pending = "";
          return rest || undefined;
        }
        pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
      const i = pending.indexOf("\n");
      const line = pending.slice(0, i).replace(/\r$/, "");
      pending = pending.slice(i + 1);
      return line;
    },
    write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  };
}

/** Prompts on a terminal and reads the answer; re-asks on an unknown choice. */
export class ConsoleInterviewer implements Interviewer {
  readonly #io: ConsoleIo;
  /** Uses `io` (default: stdin and stderr). */
  constructor(io: ConsoleIo = stdioConsole()) {
    this.#io = io;
  }
  /** Asks on the console. */
  async ask(question: Question, signal?: AbortSignal): Promise<Answer> {
    this.#io.write(`[?] ${question.text}\n`);
    if (question.type === "multiple_choice") {
      for (const o of question.options) {
        const shown = o.label.trim().startsWith(`[${o.key}]`) ? o.label : `[${o.key}] ${o.label}`;
        this.#io.write(`  ${shown}\n`);
      }
      for (let tries = 0; tries < 5; tries++) {
        const line = await this.#io.readLine("Select: ", signal);
        if (line === undefined) return { value: "skipped" };
        const option = matchOption(question.options, line);
        if (option) return { value: option.key, selectedOption: option };
        this.#io.write(`unknown choice ${JSON.stringify(line)}\n`);
      }
      return { value: "skipped" };
    }
    if (question.type === "yes_no" || question.type === "confirmation") {
      const line = await this.#io.readLine("[Y/N]: ", signal);
      if (line === undefined) return { value: "skipped" };
      return { value: /^y/i.test(line.trim()) ? "yes" : "no" };
    }
    const line = await this.#io.readLine("> ", signal);
    return line === undefined ? { value: "skipped" } : { value: line, text: line };
  }
  /** Prints a message. */
  inform(message: string, stage: string): void {
    this.#io.write(`[${stage}] ${message}\n`);
  }
}
