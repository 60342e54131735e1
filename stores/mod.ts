/**
 * @forge/stores: every Forge store behind one URL. `openStore` knows the
 * turn store's backends (`memory:`, `kv:`, `fs:`) and CXDB's (`cxdb://`,
 * `cxdbs://`); the CLI and the root module open stores through it.
 *
 * ```ts
 * import { openStore } from "@forge/stores";
 * await using store = await openStore("memory:");
 * const ctx = await store.createContext();
 * ```
 *
 * Each backend also opens on its own, the same way:
 * `openMemoryStore()`, `openKvStore(target)`, `openFsStore(target)`
 * (`@forge/turnstore`) and `openCxdbStore(url)` (`@forge/cxdb`).
 *
 * @module
 */
export { openStore, STORE_SCHEMES } from "./open.ts";
