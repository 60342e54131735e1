/**
 * Opens a store from a URL, so that configuration is one string:
 *
 * | URL | backend |
 * | --- | --- |
 * | `memory:` | in memory, gone on close |
 * | `kv:./path/forge.kv` | Deno KV in a local file |
 * | `kv::memory:` | Deno KV in memory |
 * | `kv:https://host/…` | remote Deno KV over KV Connect (token from `DENO_KV_ACCESS_TOKEN`) |
 * | `fs:./dir?durability=fsync` | append-only log files in a directory |
 *
 * Other schemes (such as `cxdb://`) are added by the caller through
 * `options.schemes`; `openStore` of `@forge/stores` does that for CXDB.
 *
 * @module
 */
import { InvalidInputError, UnsupportedError } from "./core/errors.ts";
import type { ForgeStore } from "./core/types.ts";
import { openMemoryStore } from "./memory/store.ts";
import { openKvStore } from "./kv/mod.ts";
import { openFsStore } from "./fs/mod.ts";
import { openThreadStore } from "./thread/store.ts";

/** Opens a backend from the part of the URL after the scheme's colon, and the whole URL. */
export type StoreOpener = (rest: string, url: string) => Promise<ForgeStore>;

/** Options of {@link openTurnStore}. */
export interface OpenTurnStoreOptions {
  /** More schemes, keyed with their colon ("cxdb:"); they win over the built-in ones. */
  readonly schemes?: Readonly<Record<string, StoreOpener>>;
  /**
   * Where the backend runs: `"caller"` (the default) on this thread;
   * `"worker"` on its own thread (a worker thread, see `openThreadStore`), so
   * its work (hashing, Deno KV's commit op, the fs log's writes and syncs)
   * leaves this thread free. Only the built-in schemes (memory:, kv:, fs:)
   * can run there; a scheme given in `schemes` is Unsupported with it.
   */
  readonly thread?: "caller" | "worker";
}

const builtIn: Record<string, StoreOpener> = {
  "memory:": async (rest) => {
    if (rest !== "") {
      throw new InvalidInputError(
        `memory: takes nothing after the colon, got ${JSON.stringify(rest)}`,
      );
    }
    return await openMemoryStore();
  },
  "kv:": (rest) => openKvStore(rest),
  "fs:": (rest) => openFsStore(rest),
};

/** The schemes {@link openTurnStore} knows without options. */
export const BUILT_IN_SCHEMES: readonly string[] = Object.keys(builtIn);

/** Opens the store a URL names; throws Unsupported for an unknown scheme. */
export function openTurnStore(
  url: string,
  options: OpenTurnStoreOptions = {},
): Promise<ForgeStore> {
  if (typeof url !== "string" || url.length === 0) {
    return Promise.reject(
      new InvalidInputError(`a store URL must be a non-empty string, got ${String(url)}`),
    );
  }
  const colon = url.indexOf(":");
  if (colon < 1) {
    return Promise.reject(
      new InvalidInputError(
        `store URL ${JSON.stringify(url)} has no scheme; try memory:, kv:<path> or fs:<dir>`,
      ),
    );
  }
  const scheme = url.slice(0, colon + 1).toLowerCase();
  const thread = options.thread ?? "caller";
  if (thread !== "caller" && thread !== "worker") {
    return Promise.reject(
      new InvalidInputError(`thread must be "caller" or "worker", got ${JSON.stringify(thread)}`),
    );
  }
  if (thread === "worker") {
    if (options.schemes?.[scheme]) {
      return Promise.reject(
        new UnsupportedError(
          `store URL scheme ${scheme} is given by the caller and cannot run on its own thread ` +
            `(schemes that can: ${BUILT_IN_SCHEMES.join(" ")})`,
        ),
      );
    }
    return openThreadStore(url);
  }
  const opener = options.schemes?.[scheme] ?? builtIn[scheme];
  if (!opener) {
    const known = [...new Set([...Object.keys(options.schemes ?? {}), ...BUILT_IN_SCHEMES])];
    return Promise.reject(
      new UnsupportedError(
        `store URL scheme ${scheme} is not supported (known: ${known.join(" ")})`,
      ),
    );
  }
  return opener(url.slice(colon + 1), url);
}
