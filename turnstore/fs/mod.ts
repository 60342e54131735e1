/**
 * The filesystem log backend of the turn store: an append-only, checksummed
 * log in a directory, fixed-slot indexes for reads that do not depend on
 * history length, a durability policy (fsync, group commit or none), crash
 * recovery and a single-writer lock. See README.md for the on-disk format.
 *
 * ```ts
 * import { openFsStore } from "./mod.ts";
 * await using store = await openFsStore("./data?durability=group");
 * const ctx = await store.createContext();
 * ```
 *
 * @module
 */
import { FsStore } from "./store.ts";

export { FsStore, type RecoveryReport } from "./store.ts";

export type * from "../core/types.ts";
export type { BundleField, BundleTypeVersion, RegistryBundle } from "../registry/bundle.ts";
export type { ContextId, TurnId } from "../core/ids.ts";
export {
  type Durability,
  DURABILITY_MODES,
  type FsStoreOptions,
  parseFsTarget,
} from "./options.ts";

/**
 * Opens the store in a directory (created when absent): `target` is the part
 * of an `fs:` URL after the colon, `./dir?durability=fsync|group|none`
 * (default group). Fails with BackendError when another process holds it.
 */
export function openFsStore(target: string): Promise<FsStore> {
  return FsStore.open(target);
}
