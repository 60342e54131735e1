/**
 * A store on its own thread: {@link openThreadStore} opens a `memory:`,
 * `kv:` or `fs:` backend inside a worker thread and hands back a
 * {@link ThreadStore} that forwards every ForgeStore call to it, so the
 * backend's work runs beside the caller's. `openTurnStore(url, { thread:
 * "worker" })` opens the same.
 *
 * ```ts
 * import { openThreadStore } from "./mod.ts";
 * await using store = await openThreadStore("kv::memory:");
 * const ctx = await store.createContext();
 * ```
 *
 * @module
 */
export {
  openThreadStore,
  THREAD_SCHEMES,
  ThreadStore,
  type ThreadStoreOptions,
  type ThreadTraffic,
} from "./store.ts";
export type { CommitObserver, CommitStats } from "../kv/budget.ts";
export type * from "../core/types.ts";
export type { BundleField, BundleTypeVersion, RegistryBundle } from "../registry/bundle.ts";
export type { ContextId, TurnId } from "../core/ids.ts";
