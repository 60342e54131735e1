/**
 * Checks the binary client's options when it is made, so that a bad value is
 * an InvalidInput error naming the option at once, instead of a client that
 * never times out (a NaN or negative timeout meant "no deadline"), never
 * sends (maxInFlight 0), or fails "after NaN attempts" later.
 *
 * @module
 */
import { describe, InvalidInputError } from "@forge/turnstore/backend";
import type { CxdbClientOptions, ReconnectOptions } from "./options.ts";

function fail(name: string, what: string, value: unknown): never {
  throw new InvalidInputError(
    `CXDB client option ${name} must be ${what}, got ${describe(value)}`,
  );
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    fail(name, `an integer from ${min} to ${max}`, value);
  }
}

/**
 * A per-request timeout: a number of ms above 0; Infinity asks for none.
 * Exported for per-call options, which take the same values.
 */
export function checkTimeout(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !(value > 0)) {
    fail(name, "a number of milliseconds above 0 (Infinity for none)", value);
  }
}

/** Throws InvalidInput naming the first bad option. */
export function checkClientOptions(options: CxdbClientOptions): void {
  if (options === null || typeof options !== "object") {
    fail("options", "an object", options);
  }
  const { hostname, clientTag, compressThreshold, reconnect } = options;
  if (hostname !== undefined && (typeof hostname !== "string" || hostname.length === 0)) {
    fail("hostname", "a non-empty string", hostname);
  }
  integer("port", options.port, 1, 65535);
  // HELLO carries the tag with a u16 length.
  if (
    clientTag !== undefined &&
    (typeof clientTag !== "string" || new TextEncoder().encode(clientTag).length > 0xffff)
  ) {
    fail("clientTag", "a string of at most 65535 UTF-8 bytes", clientTag);
  }
  checkTimeout("timeoutMs", options.timeoutMs);
  integer("maxInFlight", options.maxInFlight, 1);
  integer("maxQueued", options.maxQueued, 1);
  if (
    compressThreshold !== undefined &&
    (typeof compressThreshold !== "number" || !(compressThreshold >= 0))
  ) {
    fail("compressThreshold", "a number of bytes, 0 or more", compressThreshold);
  }
  checkRetry("reconnect", reconnect);
}

/**
 * The longest delay a timer takes: a longer one fires at once (Deno, like
 * browsers, sets it to 1 ms), and `AbortSignal.timeout` refuses 2^53 and up.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Checks a retry policy (`reconnect` of the binary client, `retry` of the HTTP one). */
export function checkRetry(name: string, retry: ReconnectOptions | undefined): void {
  if (retry === undefined) return;
  if (retry === null || typeof retry !== "object") fail(name, "an object", retry);
  integer(`${name}.attempts`, retry.attempts, 1);
  for (const delay of ["initialDelayMs", "maxDelayMs"] as const) {
    const value = retry[delay];
    if (
      value !== undefined && !(typeof value === "number" && value >= 0 && value <= MAX_TIMER_MS)
    ) {
      fail(`${name}.${delay}`, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, value);
    }
  }
}
