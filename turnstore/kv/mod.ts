/**
 * The Deno KV backend (being built).
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import type { ForgeStore } from "../core/types.ts";

/** Opens a Deno KV store: a file path, ":memory:", or an http(s) KV Connect URL. */
export function openKvStore(target: string): Promise<ForgeStore> {
  return Promise.reject(new UnsupportedError(`kv backend is not built yet (${target})`));
}
