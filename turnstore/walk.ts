/**
 * Streams a context's whole history page by page, newest page first, so that
 * a reader can go through millions of turns in bounded memory.
 *
 * @module
 */
import { InvalidInputError } from "./core/errors.ts";
import { describe } from "./core/ids.ts";
import { MAX_LIST_LIMIT, type StoredTurn, type TurnStore } from "./core/types.ts";

/** Options of {@link walkHistory}. */
export interface WalkHistoryOptions {
  /** Turns fetched per page; default 500. */
  readonly pageSize?: number;
  /** Start just before this turn instead of at the head. */
  readonly beforeTurnId?: string;
  /** Stops the walk between pages. */
  readonly signal?: AbortSignal;
}

/**
 * Yields pages of the context's history from the head towards the root; each
 * page is oldest → newest, as {@link TurnStore.listTurns} returns it.
 */
export async function* walkHistory(
  store: TurnStore,
  contextId: string,
  options: WalkHistoryOptions = {},
): AsyncGenerator<StoredTurn[]> {
  const limit = options.pageSize ?? 500;
  // Checked here so that the error names this option, not listTurns' limit.
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(
      `walkHistory pageSize must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${describe(limit)}`,
    );
  }
  let before = options.beforeTurnId;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await store.listTurns(contextId, { limit, beforeTurnId: before });
    if (page.length === 0) return;
    yield page;
    if (page[0].depth <= 1) return;
    before = page[0].turnId;
  }
}
