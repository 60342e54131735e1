/**
 * Argument checks of `TurnStore.listContexts`, shared by every backend
 * so a bad page request gets the same InvalidInput error everywhere.
 *
 * @module
 */
import { InvalidInputError } from "./errors.ts";
import { describe, requireId } from "./ids.ts";
import { DEFAULT_LIST_LIMIT, type ListContextsOptions, MAX_LIST_LIMIT } from "./types.ts";

/** A checked {@link ListContextsOptions}. */
export interface ValidListContexts {
  /** The exclusive cursor, when given. */
  readonly beforeContextId?: string;
  /** The page size. */
  readonly limit: number;
}

/** Checks listContexts options; throws InvalidInput naming the bad one. */
export function validateListContexts(
  options: ListContextsOptions | undefined,
): ValidListContexts {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new InvalidInputError(`listContexts options must be an object, got ${describe(options)}`);
  }
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(
      `limit must be an integer from 1 to ${MAX_LIST_LIMIT} (listContexts), got ${describe(limit)}`,
    );
  }
  const beforeContextId = options?.beforeContextId === undefined
    ? undefined
    : requireId("beforeContextId", options.beforeContextId);
  return { beforeContextId, limit };
}
