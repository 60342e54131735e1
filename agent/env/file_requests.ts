/**
 * The requests a confined environment has in flight to its file service:
 * ids, answers, cancellation and the time limit. One watchdog timer covers
 * every request instead of a timer per call: setting and clearing a timer
 * cost ~5 µs a call, a tenth of the whole round trip to the worker
 * (bench/README.md, issue 12).
 *
 * @module
 */

import { EnvError, type EnvErrorCode } from "./types.ts";
import type { FileResponse } from "./file_service.ts";
import type { FileChannel } from "./file_channel.ts";

/** The longest delay a timer holds (a signed 32-bit count of ms); longer ones fire at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** How long a dropped request may stay unanswered before its service counts as stuck. */
export const STUCK_AFTER_DROP_MS = 1000;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: EnvError) => void;
  /** When it times out (`performance.now()` ms); none for the init message, timed by its caller. */
  readonly deadline?: number;
  readonly op: string;
  readonly channel?: FileChannel;
  readonly signal?: AbortSignal;
  onAbort?: () => void;
}

/** Options of {@linkcode FileRequests}. */
export interface FileRequestsOptions {
  /** Time limit of one request, in ms (`Infinity`: none). */
  readonly limitMs: number;
  /**
   * Called when a request that was given up on (cancelled or timed out) is
   * still unanswered {@linkcode STUCK_AFTER_DROP_MS} later: the service that
   * got it should be replaced.
   */
  readonly onStuck: (channel: FileChannel, reason: string) => void;
}

/** The table of requests in flight, answered by id. */
export class FileRequests {
  readonly #options: FileRequestsOptions;
  #nextId = 1;
  /**
   * In flight, in the order sent. Every request has the same limit, so the
   * order is also the order of the deadlines: the watchdog looks at the
   * oldest only.
   */
  readonly #pending = new Map<number, Pending>();
  /** Requests given up on that the service has not answered yet. */
  readonly #abandoned = new Set<number>();
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  /** Creates an empty table. */
  constructor(options: FileRequestsOptions) {
    this.#options = options;
  }

  /** Sends one request on `channel`; settles with its answer, a cancellation or the time limit. */
  post<T>(channel: FileChannel, op: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: performance.now() + this.#options.limitMs,
        op,
        channel,
        signal,
      };
      if (signal) {
        pending.onAbort = () => this.#giveUp(id, new EnvError("Aborted", `${op} was cancelled`));
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#pending.set(id, pending);
      this.#watchdog ??= this.#arm();
      channel.send({ id, op, args });
    });
  }

  /** Waits for the answer with id `id` (the init message: 0), without a time limit of its own. */
  expect(id: number, op: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, op }));
  }

  /** Forgets the request `id` without settling it. */
  forget(id: number): void {
    this.#pending.delete(id);
  }

  /** Settles the request `response` answers (an answer to a dropped request is discarded). */
  answer(response: FileResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) {
      this.#abandoned.delete(response.id);
      return;
    }
    this.#pending.delete(response.id);
    if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
    if (response.ok) pending.resolve(response.value);
    else {
      const { code, message, subject } = response.error;
      pending.reject(new EnvError(code as EnvErrorCode, message, subject));
    }
  }

  /** Rejects every request in flight with `error`. */
  rejectAll(error: EnvError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#abandoned.clear();
    for (const pending of all) {
      if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
      pending.reject(error);
    }
  }

  /** Rejects everything in flight and stops the watchdog. */
  close(error: EnvError): void {
    this.rejectAll(error);
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  /**
   * A timer for the oldest deadline in flight, if any. A delay beyond what
   * a timer can hold fires early and re-arms; an infinite limit needs none.
   */
  #arm(): ReturnType<typeof setTimeout> | undefined {
    for (const pending of this.#pending.values()) {
      if (pending.deadline === undefined) continue;
      if (pending.deadline === Infinity) return undefined;
      const delay = Math.min(MAX_TIMER_DELAY_MS, pending.deadline - performance.now());
      return setTimeout(this.#expire, Math.max(0, delay));
    }
    return undefined;
  }

  /** Times out every request past its deadline, then waits for the next deadline. */
  readonly #expire = (): void => {
    this.#watchdog = undefined;
    const now = performance.now();
    for (const [id, pending] of this.#pending) {
      if (pending.deadline === undefined) continue;
      if (pending.deadline > now) break;
      this.#giveUp(
        id,
        new EnvError(
          "Timeout",
          `${pending.op} timed out after ${this.#options.limitMs} ms`,
          pending.op,
        ),
      );
    }
    this.#watchdog = this.#arm();
  };

  #giveUp(id: number, error: EnvError): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (pending.onAbort) pending.signal!.removeEventListener("abort", pending.onAbort);
    this.#abandoned.add(id);
    pending.reject(error);
    // A healthy service answers the dropped request soon; a stuck one is replaced.
    const channel = pending.channel;
    if (!channel) return;
    setTimeout(() => {
      if (this.#abandoned.delete(id)) {
        this.#options.onStuck(channel, `${pending.op} did not finish after it was dropped`);
      }
    }, STUCK_AFTER_DROP_MS);
  }
}
