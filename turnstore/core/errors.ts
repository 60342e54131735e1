/**
 * Typed errors of the turn store contract. Every backend throws these, so a
 * caller can branch on `error.code` whatever store it talks to.
 *
 * @module
 */

/** The five error codes of the turn store contract. */
export type TurnStoreErrorCode =
  | "NotFound"
  | "Conflict"
  | "InvalidInput"
  | "Unsupported"
  | "Backend";

/** Base class of every error a turn store throws on purpose. */
export class TurnStoreError extends Error {
  /** Stable, machine-readable code. */
  readonly code: TurnStoreErrorCode;

  /** Creates an error with a code and a message that names what was wrong. */
  constructor(code: TurnStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = `${code}Error`;
  }
}

/** What kind of thing was not found. */
export type NotFoundResource = "context" | "turn" | "blob" | "bundle";

/** A context, turn, blob or registry bundle does not exist. */
export class NotFoundError extends TurnStoreError {
  /** The kind of thing that was looked up. */
  readonly resource: NotFoundResource;
  /** The id or hash that was looked up. */
  readonly id: string;

  /**
   * Creates a NotFound error for `resource` `id`; `detail` adds context, and
   * `options.cause` can carry how the backend found out (a dropped connection).
   */
  constructor(resource: NotFoundResource, id: string, detail?: string, options?: ErrorOptions) {
    super("NotFound", `${resource} ${id} not found${detail ? `: ${detail}` : ""}`, options);
    this.resource = resource;
    this.id = id;
  }
}

/**
 * The request contradicts what is stored: an idempotency key reused for other
 * bytes, a parent that is no longer the head, a bundle id reused for another
 * bundle. Nothing was written.
 */
export class ConflictError extends TurnStoreError {
  /** Creates a Conflict error. */
  constructor(message: string, options?: ErrorOptions) {
    super("Conflict", message, options);
  }
}

/** The request itself is malformed. Nothing was written. */
export class InvalidInputError extends TurnStoreError {
  /** Creates an InvalidInput error. */
  constructor(message: string, options?: ErrorOptions) {
    super("InvalidInput", message, options);
  }
}

/** The backend cannot do this at all (for example a URL scheme it does not know). */
export class UnsupportedError extends TurnStoreError {
  /** Creates an Unsupported error. */
  constructor(message: string, options?: ErrorOptions) {
    super("Unsupported", message, options);
  }
}

/** The backend failed: I/O, a dropped connection, corruption, a closed store. */
export class BackendError extends TurnStoreError {
  /** Creates a Backend error; pass the underlying error as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super("Backend", message, options);
  }
}

/** True when `error` is a {@link TurnStoreError} with the given code. */
export function isTurnStoreError(
  error: unknown,
  code?: TurnStoreErrorCode,
): error is TurnStoreError {
  return error instanceof TurnStoreError && (code === undefined || error.code === code);
}
