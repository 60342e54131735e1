/**
 * `openTurnStore` with every scheme this project knows: the turn store's own
 * (memory:, kv:, fs:) and CXDB's (cxdb://, and cxdbs:// for TLS).
 *
 * @module
 */
import {
  type ForgeStore,
  openTurnStore as openBuiltIn,
  type OpenTurnStoreOptions,
} from "@forge/turnstore";
import { cxdbScheme } from "@forge/cxdb";

/**
 * Opens the store a URL names: `memory:`, `kv:<path>`, `kv::memory:`,
 * `kv:https://…`, `fs:<dir>[?durability=…]`, `cxdb://host:port?http=…` or
 * `cxdbs://…` (TLS).
 */
export function openTurnStore(
  url: string,
  options: OpenTurnStoreOptions = {},
): Promise<ForgeStore> {
  return openBuiltIn(url, {
    ...options,
    schemes: { "cxdb:": cxdbScheme, "cxdbs:": cxdbScheme, ...options.schemes },
  });
}
