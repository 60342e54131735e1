/**
 * The store contract without a backend: the `ForgeStore` interface and the
 * types it speaks (contexts, turns, heads, blobs, registry bundles), ids,
 * the typed errors, BLAKE3 helpers and {@link walkHistory}. Importing it loads
 * no Deno KV and no filesystem log, so record definitions, runtimes and
 * tools that are handed a store depend on this rather than on the root
 * module.
 *
 * ```ts
 * import { type ForgeStore, walkHistory } from "@forge/turnstore/contract";
 *
 * export async function count(store: ForgeStore, contextId: string): Promise<number> {
 *   let n = 0;
 *   for await (const page of walkHistory(store, contextId)) n += page.length;
 *   return n;
 * }
 * ```
 *
 * @module
 */
export * from "./core/errors.ts";
export * from "./core/ids.ts";
export * from "./core/types.ts";
export { blake3Bytes, blake3Hex, fromHex, requireHash, toHex } from "./core/hash.ts";
export * from "./registry/bundle.ts";
export { walkHistory, type WalkHistoryOptions } from "./walk.ts";
