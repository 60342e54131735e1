/**
 * The store-level context listing of the CXDB store, over the HTTP context
 * list (`GET /v1/contexts?limit=`). CXDB's list has no cursor: it returns the
 * most recently created contexts, newest first. Context ids are global
 * counters from 1, so the page below a cursor is reached by asking for as
 * many contexts as lie between the newest and the cursor's page: a page deep
 * in the listing costs its distance from the newest context, the first page
 * only its own size.
 *
 * @module
 */
import type { ContextSummary } from "@forge/turnstore";
import type { CxdbHttpClient, HttpContext } from "../http/client.ts";

/** Up to `limit` contexts with ids below `before` (all when undefined), newest first. */
export async function listCxdbContexts(
  http: CxdbHttpClient,
  before: bigint | undefined,
  limit: number,
): Promise<ContextSummary[]> {
  let want = limit;
  if (before !== undefined) {
    const [newest] = await http.contexts({ limit: 1 });
    if (!newest) return [];
    const top = BigInt(newest.context_id);
    if (before <= 1n) return [];
    // Everything from the newest down to the page's end, but never more than the store holds.
    const span = top >= before ? top - before + 1n + BigInt(limit) : BigInt(limit);
    want = Number(span > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : span);
  }
  const list = await http.contexts({ limit: want });
  return list
    .filter((c) => before === undefined || BigInt(c.context_id) < before)
    .sort((a, b) => compareDesc(a.context_id, b.context_id))
    .slice(0, limit)
    .map(summary);
}

function compareDesc(a: string, b: string): number {
  const x = BigInt(a), y = BigInt(b);
  return x === y ? 0 : x > y ? -1 : 1;
}

function summary(c: HttpContext): ContextSummary {
  const created = c.created_at_unix_ms;
  const head = {
    contextId: c.context_id,
    headTurnId: c.head_turn_id,
    // CXDB counts a first turn as depth 0 and an empty context as 0 too.
    headDepth: c.head_turn_id === "0" ? 0 : c.head_depth + 1,
  };
  return typeof created === "number" ? { ...head, createdAt: created } : head;
}
