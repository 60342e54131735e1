/**
 * The Deno KV backend of the turn store: one local file, memory, or a remote
 * `denokv` over KV Connect. See README.md for the key layout, guarantees and
 * limits.
 *
 * @module
 */
import { BackendError, InvalidInputError } from "../core/errors.ts";
import { checkTarget, KvStore, type KvStoreOptions } from "./store.ts";
import { KV_CONNECT_LIMITS, LOCAL_KV_LIMITS } from "./limits.ts";
import { probeKvFile } from "./file_probe.ts";
import { createKvFile } from "./new_file.ts";

export { KvStore, type KvStoreOptions } from "./store.ts";
export type { CommitObserver, CommitStats } from "./budget.ts";
export { KV_CONNECT_LIMITS, type KvLimits, LOCAL_KV_LIMITS } from "./limits.ts";
// The contract types KvStore's signatures use, so this module documents on its own.
export type {
  AppendedTurn,
  AppendTurnInput,
  BlobStore,
  ContextHead,
  CreateContextOptions,
  ForgeStore,
  ListTurnsOptions,
  PublishBundleResult,
  PutBlobResult,
  StoredTurn,
  TurnStore,
  TypedTurnStore,
} from "../core/types.ts";
export type { BundleField, BundleTypeVersion, RegistryBundle } from "../registry/bundle.ts";
export type { ContextId, TurnId } from "../core/ids.ts";

/**
 * Opens a Deno KV store: a file path (its directory is created), ":memory:",
 * or an http(s) KV Connect URL (Deno.openKv reads the token from
 * DENO_KV_ACCESS_TOKEN). A file or memory target gets the local commit
 * limits (100 contexts per group commit), a remote one KV Connect's (10);
 * `options` (a commit observer, id block size, other limits) win over those.
 * A file it creates gets 8 KiB SQLite pages; an existing file keeps its own.
 * To bring your own `Deno.Kv`, use `new KvStore(kv, options)`.
 */
export async function openKvStore(
  target: string,
  options: KvStoreOptions = {},
): Promise<KvStore> {
  const where = checkTarget(target);
  const remote = /^https?:\/\//i.test(where);
  if (!remote && where !== ":memory:") {
    const slash = where.lastIndexOf("/");
    if (where.endsWith("/")) {
      throw new InvalidInputError(
        `kv target ${JSON.stringify(where)} names a directory, not a file`,
      );
    }
    if (slash > 0) {
      try {
        await Deno.mkdir(where.slice(0, slash), { recursive: true });
      } catch (error) {
        throw new BackendError(
          `cannot create the directory of kv file ${where}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  if (!remote && where !== ":memory:") {
    // A new file gets 8 KiB pages (new_file.ts); an existing one is probed, never changed.
    if (!createKvFile(where)) probeKvFile(where);
  }
  let kv: Deno.Kv;
  try {
    kv = await Deno.openKv(where);
  } catch (error) {
    throw new BackendError(`cannot open Deno KV at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new KvStore(kv, {
    label: `kv store ${where}`,
    limits: remote ? KV_CONNECT_LIMITS : LOCAL_KV_LIMITS,
    ...options,
  });
}
