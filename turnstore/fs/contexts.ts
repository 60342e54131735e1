/**
 * The store-level context listing of the fs backend. Context ids are dense
 * slot numbers of `contexts.idx`, so a page is a walk down from the cursor:
 * `limit` positioned slot reads (the newest come from the index's cache),
 * whatever the number of contexts in the store.
 *
 * @module
 */
import type { ContextSummary } from "../core/types.ts";
import type { ContextSlot } from "./indexes.ts";

/**
 * Up to `limit` contexts with ids below `before` (all when undefined), newest
 * first; `newest` is the highest committed context id, `slot` reads one.
 */
export function listContextSlots(
  newest: number,
  slot: (contextId: number) => ContextSlot | undefined,
  before: string | undefined,
  limit: number,
): ContextSummary[] {
  // A cursor beyond the newest id (even beyond 2^53) simply starts at the newest.
  let id = before === undefined || BigInt(before) > BigInt(newest) ? newest : Number(before) - 1;
  const out: ContextSummary[] = [];
  for (; id >= 1 && out.length < limit; id--) {
    const s = slot(id);
    if (!s) continue;
    const head = {
      contextId: String(s.contextId),
      headTurnId: String(s.headTurnId),
      headDepth: s.headDepth,
      baseTurnId: String(s.baseTurnId),
    };
    out.push(s.createdAt === undefined ? head : { ...head, createdAt: s.createdAt });
  }
  return out;
}
