/**
 * Errors across the thread boundary: a turn store error travels as plain
 * data (code, message and fields) and is rebuilt on the caller's side as the
 * same class, so `instanceof`, `code`, `message`, `resource` and `id` read
 * as if the backend ran on the caller's thread.
 *
 * @module
 */
import {
  BackendError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type NotFoundResource,
  TurnStoreError,
  type TurnStoreErrorCode,
  UnsupportedError,
} from "../core/errors.ts";

/** The name and message of an error's cause, as far as it can be told. */
export interface WireCause {
  /** The cause's name ("Error", "NotFound", …). */
  readonly name: string;
  /** The cause's message. */
  readonly message: string;
}

/** A turn store error as plain data. */
export interface WireError {
  /** The error's code. */
  readonly code: TurnStoreErrorCode;
  /** Its message, exactly. */
  readonly message: string;
  /** NotFound only: the kind of thing looked up. */
  readonly resource?: NotFoundResource;
  /** NotFound only: the id or hash looked up. */
  readonly id?: string;
  /** What the backend saw underneath, when it said. */
  readonly cause?: WireCause;
}

function causeOf(error: Error): WireCause | undefined {
  const cause = error.cause;
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: typeof cause, message: String(cause) };
}

/**
 * Turns what a backend threw into plain data. Something that is not a turn
 * store error (a bug, a dropped connection) becomes a Backend error that names
 * it, so the caller never gets a bare Error or a clone failure.
 */
export function toWireError(error: unknown, label: string): WireError {
  if (error instanceof TurnStoreError) {
    const data: WireError = { code: error.code, message: error.message, cause: causeOf(error) };
    if (error instanceof NotFoundError) {
      return { ...data, resource: error.resource, id: error.id };
    }
    return data;
  }
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: "Backend",
    message: `${label} failed: ${name}: ${message}`,
    cause: { name, message },
  };
}

/** Rebuilds the error a backend threw from its data, as the same class. */
export function fromWireError(data: WireError): TurnStoreError {
  const options = data.cause ? { cause: rebuildCause(data.cause) } : undefined;
  let error: TurnStoreError;
  switch (data.code) {
    case "NotFound":
      error = new NotFoundError(data.resource ?? "turn", data.id ?? "", undefined, options);
      break;
    case "Conflict":
      error = new ConflictError(data.message, options);
      break;
    case "InvalidInput":
      error = new InvalidInputError(data.message, options);
      break;
    case "Unsupported":
      error = new UnsupportedError(data.message, options);
      break;
    default:
      error = new BackendError(data.message, options);
  }
  // NotFoundError composes its message from its fields; keep the backend's own words.
  error.message = data.message;
  return error;
}

function rebuildCause(cause: WireCause): Error {
  const error = new Error(cause.message);
  error.name = cause.name;
  return error;
}
