/**
 * The decisions every backend makes the same way: idempotent replays, the
 * compare-and-set parent, and the errors that explain them.
 *
 * @module
 */
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import type { AppendedTurn, StoredTurn } from "./types.ts";
import type { ValidAppend } from "./validate.ts";

/**
 * Resolves an append whose idempotency key already names `existing`: returns
 * that turn when the request matches it, and throws Conflict when the key is
 * being reused for a different record.
 */
export function replayIdempotent(
  request: ValidAppend,
  requestHash: string,
  existing: StoredTurn,
  existingFsRoot: string | undefined,
): AppendedTurn {
  const differences: string[] = [];
  if (existing.typeId !== request.typeId) {
    differences.push(`type ${existing.typeId} vs ${request.typeId}`);
  }
  if (existing.typeVersion !== request.typeVersion) {
    differences.push(`version ${existing.typeVersion} vs ${request.typeVersion}`);
  }
  if (existing.contentHash !== requestHash) {
    differences.push(`payload hash ${existing.contentHash} vs ${requestHash}`);
  }
  if (
    request.parentTurnId !== undefined && request.parentTurnId !== existing.parentTurnId
  ) {
    differences.push(`parent ${existing.parentTurnId} vs ${request.parentTurnId}`);
  }
  if (request.fsRootHash !== undefined && request.fsRootHash !== existingFsRoot) {
    differences.push(`fs root ${existingFsRoot ?? "none"} vs ${request.fsRootHash}`);
  }
  if (differences.length > 0) {
    throw new ConflictError(
      `idempotency key ${
        JSON.stringify(request.idempotencyKey)
      } in context ${request.contextId} already names turn ${existing.turnId} with different content (${
        differences.join("; ")
      })`,
    );
  }
  return { ...existing, contextId: request.contextId, deduplicated: true };
}

/** The Conflict thrown when an explicit parent is an older turn of the context. */
export function staleParent(contextId: string, parent: string, head: string): ConflictError {
  return new ConflictError(
    `parent turn ${parent} is not the head of context ${contextId} (head is ${head}); ` +
      `a context only grows at its head: append without a parent, or fork from turn ${parent}`,
  );
}

/** The InvalidInput thrown when an explicit parent is not in the context's history. */
export function foreignParent(contextId: string, parent: string): InvalidInputError {
  return new InvalidInputError(
    `parent turn ${parent} is not in the history of context ${contextId}; fork from it instead`,
  );
}

/** The InvalidInput thrown when a paging cursor is not in the context's history. */
export function foreignCursor(contextId: string, before: string): InvalidInputError {
  return new InvalidInputError(
    `beforeTurnId ${before} is not in the history of context ${contextId}`,
  );
}

/** Why a fork failed when its base turn does not exist. */
export const UNKNOWN_BASE_DETAIL = "it cannot be the base of a new context";

/**
 * The NotFound thrown when a context would be forked from a turn that does
 * not exist; `how` may add how the backend found out, after the contract's words.
 */
export function unknownBase(turnId: string, how?: string, options?: ErrorOptions): NotFoundError {
  return new NotFoundError(
    "turn",
    turnId,
    how ? `${UNKNOWN_BASE_DETAIL}; ${how}` : UNKNOWN_BASE_DETAIL,
    options,
  );
}
