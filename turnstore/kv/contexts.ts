/**
 * The store-level context listing of the KV backend: one reverse range read
 * over the `["ctx", id]` records below the cursor, then each listed context's
 * head (one reverse range read each, run together). A page costs O(limit)
 * reads whatever the number of contexts in the store.
 *
 * @module
 */
import type { ContextSummary } from "../core/types.ts";
import { retryBusy } from "./busy.ts";
import type { History } from "./history.ts";
import { CONTEXT_PREFIX, contextKey, type ContextValue } from "./keys.ts";

/** Up to `limit` contexts with ids below `before` (all when undefined), newest first. */
export async function listContextPage(
  kv: Deno.Kv,
  history: History,
  before: bigint | undefined,
  limit: number,
): Promise<ContextSummary[]> {
  const entries = await retryBusy(async () => {
    const selector: Deno.KvListSelector = before === undefined
      ? { prefix: CONTEXT_PREFIX }
      : { start: CONTEXT_PREFIX, end: contextKey(before) };
    const out: { id: bigint; value: ContextValue }[] = [];
    for await (const e of kv.list<ContextValue>(selector, { reverse: true, limit })) {
      out.push({ id: e.key[1] as bigint, value: e.value });
    }
    return out;
  }, "listing contexts");
  return await Promise.all(entries.map(async ({ id, value }) => {
    const head = await history.head(history.remember(id, value));
    const summary: ContextSummary = {
      contextId: String(id),
      headTurnId: String(head.head),
      headDepth: head.depth,
      baseTurnId: String(value.base),
    };
    return value.createdAt === undefined ? summary : { ...summary, createdAt: value.createdAt };
  }));
}
