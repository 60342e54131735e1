/**
 * The read commands (`runs`, `inspect`, `trace`, `serve`, `log`, …) open a
 * store that must already exist: opening a `kv:` file or an `fs:` folder
 * creates it, so a mistyped `--store` would otherwise make an empty store
 * (folders included) and report "no runs". Only `forge run` creates stores.
 * Nor does any command open what cannot be a store: a directory as a `kv:`
 * file, a file as an `fs:` folder, or a folder of other files as an `fs:`
 * store (opening it would write the store's files among them).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { parseFsTarget } from "@forge/turnstore";
import { fileProblem, isFile } from "./file_errors.ts";

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

/** A store URL names a local path that is not a store of its kind. */
export class NotAStoreError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "NotAStore" as const;
  /** Creates the error for store URL `url` whose path `path` is `what`. */
  constructor(readonly url: string, readonly path: string, what: string) {
    super(`${path} (from --store ${url}) ${what}`);
    this.name = "NotAStoreError";
  }
}

/** What a command may do with a store that is not there yet. */
export interface StoreCheckOptions {
  /** The command creates a missing store (`forge run`); otherwise a missing store is an error. */
  readonly create?: boolean;
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

/**
 * Throws {@link StoreMissingError} when `url` names a local store that does
 * not exist (unless `options.create`), and {@link NotAStoreError} when its
 * path is not a store of its kind: a directory for `kv:`, a file for `fs:`,
 * or, for `fs:`, a directory holding other files but no store log.
 */
export async function assertStoreExists(
  url: string,
  options: StoreCheckOptions = {},
): Promise<void> {
  const path = localStorePath(url);
  if (path === undefined) return;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (options.create) return;
      throw new StoreMissingError(url, resolve(path));
    }
    throw new NotAStoreError(url, resolve(path), `cannot be read: ${fileProblem(error)}`);
  }
  const fs = url.slice(0, 3).toLowerCase() === "fs:";
  if (!fs) {
    if (info.isDirectory) {
      throw new NotAStoreError(url, resolve(path), "is a directory; a kv: store is one file");
    }
    return;
  }
  if (!info.isDirectory) {
    throw new NotAStoreError(url, resolve(path), "is a file; an fs: store is a directory");
  }
  if (await isFile(join(path, "log"))) return;
  // A directory without the store's log: empty, a run may make a store in it.
  let empty = true;
  for await (const _ of Deno.readDir(path)) {
    empty = false;
    break;
  }
  if (options.create && empty) return;
  throw new NotAStoreError(
    url,
    resolve(path),
    empty
      ? "is an empty directory, not an fs: store; forge run creates a store, the read commands never do"
      : "holds other files but no fs: store (no log file); give an fs: store a directory of its own",
  );
}
