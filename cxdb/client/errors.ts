/**
 * Errors of the CXDB client. Each has a stable `code` and a message that names
 * the operation and the ids it was about, because the server itself usually
 * says nothing: it closes the connection.
 *
 * @module
 */

/** Codes of {@link CxdbError}. */
export type CxdbErrorCode =
  | "ConnectionDropped"
  | "Unavailable"
  | "Timeout"
  | "Aborted"
  | "QueueFull"
  | "Closed"
  | "Server"
  | "Protocol"
  | "Http";

/** Base class of every error the CXDB client throws on purpose. */
export class CxdbError extends Error {
  /** Stable, machine-readable code. */
  readonly code: CxdbErrorCode;
  /** The operation, e.g. "APPEND_TURN (context 5, parent 0, type test.item v1)". */
  readonly operation: string;
  /** True when the request was an append already sent: it may have happened. */
  readonly outcomeUnknown: boolean;

  /** Creates an error for `operation`. */
  constructor(
    code: CxdbErrorCode,
    operation: string,
    message: string,
    options?: ErrorOptions & { outcomeUnknown?: boolean },
  ) {
    super(message, options);
    this.code = code;
    this.operation = operation;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
    this.name = `Cxdb${code}Error`;
  }
}

/**
 * The server closed the connection without answering this request, twice (the
 * second time with the request alone on a fresh connection), so the request
 * itself is the cause: the server does this for an unknown context or turn, a
 * missing blob, and a hash or length mismatch.
 */
export class ConnectionDroppedError extends CxdbError {
  /** Creates the error for `operation`. */
  constructor(operation: string, options?: ErrorOptions) {
    super(
      "ConnectionDropped",
      operation,
      `${operation}: the server closed the connection without answering, also when the request was retried alone; ` +
        `CXDB does this for an unknown context or turn, a missing blob, or a hash or length mismatch`,
      options,
    );
  }
}

/** The server answered with an ERROR frame. */
export class ServerError extends CxdbError {
  /** The server's numeric code (422 for unsupported messages). */
  readonly serverCode: number;
  /** The server's detail text. */
  readonly detail: string;

  /** Creates the error for `operation`. */
  constructor(operation: string, serverCode: number, detail: string) {
    super("Server", operation, `${operation}: server error ${serverCode}: ${detail}`);
    this.serverCode = serverCode;
    this.detail = detail;
  }
}

/** An HTTP read request failed with a status the client cannot map further. */
export class HttpError extends CxdbError {
  /** HTTP status. */
  readonly status: number;
  /** Response body (truncated). */
  readonly body: string;

  /** Creates the error for `operation`. */
  constructor(operation: string, status: number, body: string) {
    super("Http", operation, `${operation}: HTTP ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}
