/**
 * A resettable timeout folded into the caller's AbortSignal, so one signal
 * given to fetch ends the request either way, and we can still tell a
 * timeout (code "timeout") from a caller's abort (code "aborted").
 *
 * @module
 */

import { RequestTimeoutError } from "./errors.ts";

/** A timer that aborts `signal` when it runs out; re-armed as a stream makes progress. */
export class Deadline implements Disposable {
  /** Aborts on the caller's abort or when the timer runs out. */
  readonly signal: AbortSignal;
  readonly #provider: string;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #error: RequestTimeoutError | undefined;

  /** Creates a deadline for `provider` on top of the caller's signal. */
  constructor(provider: string, callerSignal?: AbortSignal) {
    this.#provider = provider;
    this.signal = callerSignal
      ? AbortSignal.any([callerSignal, this.#controller.signal])
      : this.#controller.signal;
  }

  /** (Re)starts the timer; `what` says what we were waiting for. No-op without `ms`. */
  arm(ms: number | undefined, what: string): void {
    this.clear();
    if (ms === undefined || this.#error) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#error = new RequestTimeoutError(
        `${this.#provider}: ${what} took longer than ${ms} ms`,
        { provider: this.#provider },
      );
      this.#controller.abort(this.#error);
    }, ms);
  }

  /** The timeout error, if the timer ran out. */
  get timeoutError(): RequestTimeoutError | undefined {
    return this.#error;
  }

  /** Stops the timer. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer. */
  [Symbol.dispose](): void {
    this.clear();
  }
}
