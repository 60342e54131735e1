/**
 * One opener for every store this project knows, named by a URL: the turn
 * store's own backends and CXDB's.
 *
 * @module
 */
import {
  BUILT_IN_SCHEMES,
  type ForgeStore,
  openTurnStore,
  type OpenTurnStoreOptions,
} from "@forge/turnstore";
import { cxdbScheme } from "@forge/cxdb";

/** Every URL scheme {@link openStore} opens without options. */
export const STORE_SCHEMES: readonly string[] = [...BUILT_IN_SCHEMES, "cxdb:", "cxdbs:"];

/**
 * Opens the store a URL names:
 *
 * | URL | backend |
 * | --- | --- |
 * | `memory:` | in memory, gone on close |
 * | `kv:./path/forge.kv`, `kv::memory:`, `kv:https://…` | Deno KV: a file, memory, or remote (KV Connect) |
 * | `fs:./dir?durability=fsync\|group\|none` | the append-only log |
 * | `cxdb://host:9009?http=http://host:9010` | a CXDB server; `cxdbs://` for TLS |
 *
 * `options.schemes` adds schemes (or replaces these). Fails with
 * InvalidInput for a malformed URL and Unsupported for an unknown scheme,
 * naming the known ones.
 */
export function openStore(url: string, options: OpenTurnStoreOptions = {}): Promise<ForgeStore> {
  return openTurnStore(url, {
    ...options,
    schemes: { "cxdb:": cxdbScheme, "cxdbs:": cxdbScheme, ...options.schemes },
  });
}
