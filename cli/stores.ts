/**
 * `openTurnStore` with every scheme this project knows: the turn store's own
 * (memory:, kv:, fs:) and CXDB's (cxdb://).
 *
 * @module
 */
import {
  type ForgeStore,
  openTurnStore as openBuiltIn,
  type OpenTurnStoreOptions,
} from "@forge/turnstore";

/**
 * Opens the store a URL names: `memory:`, `kv:<path>`, `kv::memory:`,
 * `kv:https://…`, `fs:<dir>[?durability=…]` or `cxdb://host:port?http=…`.
 */
export function openTurnStore(
  url: string,
  options: OpenTurnStoreOptions = {},
): Promise<ForgeStore> {
  return openBuiltIn(url, { ...options, schemes: { ...options.schemes } });
}
