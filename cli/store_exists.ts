/**
 * The read commands (`runs`, `inspect`, `trace`, `serve`, `log`, …) open a
 * store that must already exist: opening a `kv:` file or an `fs:` folder
 * creates it, so a mistyped `--store` would otherwise make an empty store
 * (folders included) and report "no runs". Only `forge run` creates stores.
 *
 * @module
 */
import { resolve } from "node:path";
import { parseFsTarget } from "@forge/turnstore";

/** A read command named a local store that does not exist. */
export class StoreMissingError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "StoreMissing" as const;
  /** Creates the error for store URL `url` whose path `path` is missing. */
  constructor(readonly url: string, readonly path: string) {
    super(
      `there is no store at ${path} (from --store ${url}); check --store or FORGE_STORE — ` +
        "forge run creates a store, the read commands never do",
    );
    this.name = "StoreMissingError";
  }
}

/**
 * The local file or folder of a `kv:` / `fs:` store URL; undefined for memory,
 * remote and CXDB stores, and for a target the store's own parser refuses
 * (opening it then says what is wrong).
 */
export function localStorePath(url: string): string | undefined {
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  const rest = url.slice(scheme.length);
  if (scheme === "fs:") {
    try {
      return parseFsTarget(rest).dir;
    } catch {
      return undefined;
    }
  }
  if (scheme !== "kv:") return undefined;
  if (rest.trim() === "" || rest === ":memory:" || /^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    return undefined;
  }
  return rest;
}

/** Throws {@link StoreMissingError} when `url` names a local store that does not exist. */
export async function assertStoreExists(url: string): Promise<void> {
  const path = localStorePath(url);
  if (path === undefined) return;
  try {
    await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new StoreMissingError(url, resolve(path));
    throw error;
  }
}
