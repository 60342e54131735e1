/**
 * The turn store: a DAG of typed turns grouped into contexts, with forks that
 * share history, idempotent appends, content-addressed blobs and registry
 * bundles, over interchangeable backends (memory, Deno KV, filesystem log).
 *
 * ```ts
 * import { openTurnStore } from "@forge/turnstore";
 * await using store = await openTurnStore("memory:");
 * const ctx = await store.createContext();
 * await store.appendTurn({
 *   contextId: ctx.contextId,
 *   typeId: "example.note",
 *   typeVersion: 1,
 *   payload: new Uint8Array([0x80]),
 * });
 * ```
 *
 * @module
 */
export * from "./contract.ts";
export * from "./records/mod.ts";
export { MemoryStore, openMemoryStore } from "./memory/store.ts";
export {
  type CommitObserver,
  type CommitStats,
  KV_CONNECT_LIMITS,
  type KvLimits,
  KvStore,
  type KvStoreOptions,
  LOCAL_KV_LIMITS,
  openKvStore,
} from "./kv/mod.ts";
export {
  type Durability,
  FsStore,
  type FsStoreOptions,
  openFsStore,
  parseFsTarget,
  type RecoveryReport,
} from "./fs/mod.ts";
export {
  openThreadStore,
  THREAD_SCHEMES,
  ThreadStore,
  type ThreadStoreOptions,
  type ThreadTraffic,
} from "./thread/mod.ts";
export {
  BUILT_IN_SCHEMES,
  openTurnStore,
  type OpenTurnStoreOptions,
  type StoreOpener,
} from "./open.ts";
