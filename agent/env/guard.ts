/**
 * Path guards: how an environment turns a path the model gave into the path
 * it touches. The open guard only resolves; the workspace guard also
 * resolves symbolic links and refuses anything whose real path leaves the
 * workspace, because Deno's permission check looks at the path as written
 * and would let a link inside the workspace reach outside.
 *
 * @module
 */

import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { EnvNotFoundError, PermissionDeniedError } from "./types.ts";
import { toEnvError } from "./errors.ts";

/**
 * Resolves paths for file operations; throws an EnvError when a path is
 * refused. Synchronous: each step is one short syscall (lstat, realpath),
 * and a promise per step would cost more than the step (see fs_ops.ts).
 */
export interface PathGuard {
  /** The directory relative paths resolve against. */
  readonly cwd: string;
  /** The path to use for reading an existing entry. */
  forRead(path: string): string;
  /** The path to use for creating or replacing a file that may not exist yet (links followed). */
  forWrite(path: string): string;
  /** The path of the entry itself, its final link not followed (for delete and move). */
  forEntry(path: string): string;
}

/** A guard that only resolves relative paths (the trusted local environment). */
export class OpenPathGuard implements PathGuard {
  /** Creates a guard resolving against `cwd`. */
  constructor(readonly cwd: string) {}

  /** Resolves `path` against the working directory. */
  forRead(path: string): string {
    return resolve(this.cwd, path);
  }

  /** Resolves `path` against the working directory. */
  forWrite(path: string): string {
    return resolve(this.cwd, path);
  }

  /** Resolves `path` against the working directory. */
  forEntry(path: string): string {
    return resolve(this.cwd, path);
  }
}

/** Whether `child` is `root` or lies under it (both absolute and normalised). */
export function isWithin(root: string, child: string): boolean {
  const rel = relative(root, child);
  // "..name" is a child named so, not a way up.
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * {@linkcode isWithin} for paths that are already absolute and normalised
 * (what `resolve` and `realPath` return): a prefix test, where `relative`
 * would normalise both paths again on every call.
 */
function under(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * A guard that confines every access to one workspace directory, by real
 * path. `root` must be the workspace's real path (no symlinks in it).
 */
export class WorkspacePathGuard implements PathGuard {
  /**
   * Creates a guard for the workspace at real path `root`; `cwd` must lie
   * inside it. `alias` is the workspace as the user named it, when that
   * path goes through a link (say /tmp → /private/tmp): absolute paths
   * under it are read as paths under `root`.
   */
  constructor(
    readonly root: string,
    readonly cwd: string = root,
    readonly alias?: string,
    /** Real paths inside the workspace that may be read but never written, moved or deleted. */
    readonly protectedPaths: readonly string[] = [],
  ) {
    if (!isWithin(root, cwd)) {
      throw new PermissionDeniedError(cwd, `working directory is outside the workspace ${root}`);
    }
    this.#root = resolve(root);
    this.#alias = alias === undefined || resolve(alias) === this.#root ? undefined : resolve(alias);
    this.#locked = protectedPaths.map((locked) => resolve(locked));
  }

  // The same paths normalised once, for the prefix tests of every call.
  readonly #root: string;
  readonly #alias: string | undefined;
  readonly #locked: readonly string[];

  #refuseProtected(path: string, real: string): string {
    for (const locked of this.#locked) {
      if (under(locked, real)) {
        throw new PermissionDeniedError(
          path,
          `${locked} is read-only in this environment (what is written there could run outside it)`,
        );
      }
    }
    return real;
  }

  #lexical(path: string): string {
    if (path.includes("\0")) throw new PermissionDeniedError(path, "path contains a NUL byte");
    let abs = resolve(this.cwd, path);
    if (this.#alias && under(this.#alias, abs)) {
      abs = join(this.#root, relative(this.#alias, abs));
    }
    if (!under(this.#root, abs)) {
      throw new PermissionDeniedError(path, `outside the workspace ${this.root}`);
    }
    return abs;
  }

  #real(path: string, abs: string): string {
    let real: string;
    try {
      real = Deno.realPathSync(abs);
    } catch (error) {
      throw toEnvError(error, path);
    }
    if (!under(this.#root, real)) {
      throw new PermissionDeniedError(
        path,
        `resolves through a symbolic link to ${real}, outside the workspace ${this.root}`,
      );
    }
    return real;
  }

  /** Resolves links and refuses a path whose real location leaves the workspace. */
  forRead(path: string): string {
    return this.#real(path, this.#lexical(path));
  }

  /**
   * Resolves the deepest existing ancestor by real path (the entry itself
   * may not exist yet) and refuses when it, or an existing link at the
   * path, leads outside the workspace.
   */
  forWrite(path: string): string {
    const abs = this.#lexical(path);
    const missing: string[] = [];
    let current = abs;
    for (;;) {
      let info: Deno.FileInfo | undefined;
      try {
        info = Deno.lstatSync(current);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw toEnvError(error, path);
      }
      if (info) {
        // An existing entry (link or not) is resolved as a whole: writing
        // through a link writes its target, so the target must be inside.
        if (info.isSymlink) this.#refuseDangling(path, current);
        const real = this.#real(path, current);
        return this.#refuseProtected(
          path,
          missing.length ? join(real, ...missing.reverse()) : real,
        );
      }
      const parent = dirname(current);
      if (parent === current) throw new EnvNotFoundError(path, "no existing ancestor");
      missing.push(current.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      current = parent;
    }
  }

  /**
   * The entry itself: its parent resolved by real path, its final component
   * kept as is, so deleting or moving a link touches the link, not its target.
   */
  forEntry(path: string): string {
    const abs = this.#lexical(path);
    if (abs === this.root) throw new PermissionDeniedError(path, "is the workspace root itself");
    const parent = this.forWrite(dirname(abs));
    return this.#refuseProtected(path, join(parent, basename(abs)));
  }

  #refuseDangling(path: string, link: string): void {
    try {
      Deno.statSync(link);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw toEnvError(error, path);
      let target = "?";
      try {
        target = Deno.readLinkSync(link);
      } catch { /* the reason below is enough */ }
      throw new PermissionDeniedError(
        path,
        `is a dangling symbolic link (to ${target}); writing through it is refused`,
      );
    }
  }
}
