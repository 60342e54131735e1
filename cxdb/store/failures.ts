/**
 * How the CXDB store says what went wrong: client errors mapped to the turn
 * store contract's errors, a dropped connection or an HTTP 404 becoming
 * NotFound of the id the call was about.
 *
 * @module
 */
import {
  BackendError,
  NotFoundError,
  type NotFoundResource,
  TurnStoreError,
} from "@forge/turnstore";
import { unknownBase } from "@forge/turnstore/backend";
import { CxdbError, HttpError } from "../client/errors.ts";

/** What a call was about, so that "the server does not know it" can name it. */
export interface Missing {
  readonly resource: NotFoundResource;
  readonly id: string;
  /** The id is the base of a new context (an unknown base has its own message). */
  readonly base?: boolean;
}

/** Runs a client call, mapping its failure with {@link mapCxdbError}. */
export type CxdbCall = <T>(fn: () => Promise<T>, missing?: Missing) => Promise<T>;

/** Maps a client error to the contract's error; `address` names the server. */
export function mapCxdbError(error: unknown, address: string, missing?: Missing): Error {
  if (error instanceof TurnStoreError) return error;
  if (error instanceof CxdbError) {
    if (error.code === "Closed") {
      return new BackendError("cxdb store is closed", { cause: error });
    }
    // The contract's words first, as every backend says them; then how
    // CXDB told us (the operation it dropped the connection on, or a 404).
    if (
      missing &&
      (error.code === "ConnectionDropped" || (error instanceof HttpError && error.status === 404))
    ) {
      const how = error instanceof HttpError
        ? error.message
        : `the CXDB server closed the connection on ${error.operation}`;
      return missing.base
        ? unknownBase(missing.id, how, { cause: error })
        : new NotFoundError(missing.resource, missing.id, how, { cause: error });
    }
    return new BackendError(`CXDB at ${address}: ${error.message}`, { cause: error });
  }
  return new BackendError(`CXDB at ${address}: ${(error as Error)?.message}`, {
    cause: error,
  });
}
