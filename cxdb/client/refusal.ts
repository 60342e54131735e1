/**
 * Why the transport refuses a request before queueing it: the client is
 * closed, the queue is full, or the caller's signal has already aborted.
 *
 * @module
 */
import { CxdbError } from "./errors.ts";
import { type AppendIdentity, describeAppend } from "./pending.ts";

/** What an error says the request was (built only when one is thrown). */
export function describeOp(
  op: string | (() => string) | undefined,
  append?: AppendIdentity,
): string {
  return typeof op === "string" ? op : op ? op() : append ? describeAppend(append) : "request";
}

/**
 * The error a new request fails with at once, or undefined when it may be
 * queued. Its description is built only here, not for every request.
 */
export function refusal(
  closed: boolean,
  queued: number,
  maxQueued: number,
  address: string,
  op: string | (() => string) | undefined,
  append: AppendIdentity | undefined,
  signal: AbortSignal | undefined,
): CxdbError | undefined {
  if (closed) {
    const what = describeOp(op, append);
    return new CxdbError("Closed", what, `${what}: the CXDB client for ${address} is closed`);
  }
  if (queued >= maxQueued) {
    const what = describeOp(op, append);
    return new CxdbError(
      "QueueFull",
      what,
      `${what}: ${queued} requests are already waiting to be sent to ${address} (maxQueued)`,
    );
  }
  if (signal?.aborted) {
    const what = describeOp(op, append);
    return new CxdbError("Aborted", what, `${what}: aborted before it was sent`, {
      cause: signal.reason,
    });
  }
  return undefined;
}
