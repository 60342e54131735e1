/**
 * Filesystem snapshots: capture a directory into tree and file blobs, upload
 * only what the server lacks, attach the root to a turn, and diff two
 * snapshots.
 *
 * @module
 */
import { join, matchesGlob } from "node:path";
import { blake3Hex, type BlobStore } from "@forge/turnstore";
import { encodeTree, EntryKind, type TreeEntry } from "./tree.ts";

/** Codes of {@link FsTreeError}. */
export type FsTreeErrorCode = "TooLarge" | "TooMany" | "NotADirectory" | "Changed";

/** A capture refused by a cap, or pointed at something that is not a directory. */
export class FsTreeError extends Error {
  /** Stable code. */
  readonly code: FsTreeErrorCode;
  /** The path involved. */
  readonly path: string;
  /** Creates the error. */
  constructor(code: FsTreeErrorCode, path: string, message: string) {
    super(message);
    this.code = code;
    this.path = path;
    this.name = "FsTreeError";
  }
}

/** Options of {@link captureSnapshot}. */
export interface CaptureOptions {
  /** Glob patterns (node:path matchesGlob) tested against each relative path and each name. */
  readonly exclude?: readonly string[];
  /** Another exclusion test. */
  readonly excludeFn?: (relativePath: string, isDir: boolean) => boolean;
  /** Largest file, in bytes; larger is FsTreeError TooLarge. Default 100 MiB. */
  readonly maxFileSize?: number;
  /** Most files; more is FsTreeError TooMany. Default 100000. */
  readonly maxFiles?: number;
}

/** Where a file blob's bytes come from. */
export interface FileRef {
  /** Absolute path, read again at upload time. */
  readonly path: string;
  /** Size at capture time. */
  readonly size: number;
}

/** A captured directory. */
export interface Snapshot {
  /** BLAKE3 of the root tree. */
  readonly rootHash: string;
  /** Tree blobs by hash, children before parents, the root last. */
  readonly trees: Map<string, Uint8Array>;
  /** File blobs by hash. */
  readonly files: Map<string, FileRef>;
  /** Symlink targets by hash (the target text is the blob). */
  readonly symlinks: Map<string, string>;
  /** Every entry by relative path ("src/main.go"). */
  readonly entries: Map<string, TreeEntry>;
  /** Counts. */
  readonly stats: { files: number; dirs: number; symlinks: number; bytes: number };
}

const te = new TextEncoder();

/** Captures `dir` into a {@link Snapshot}. Symlinks are kept as links, never followed. */
export async function captureSnapshot(
  dir: string,
  options: CaptureOptions = {},
): Promise<Snapshot> {
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new FsTreeError("NotADirectory", dir, `${dir} is not a directory`);
  const maxFileSize = options.maxFileSize ?? 100 * 1024 * 1024;
  const maxFiles = options.maxFiles ?? 100_000;
  const snap = {
    trees: new Map<string, Uint8Array>(),
    files: new Map<string, FileRef>(),
    symlinks: new Map<string, string>(),
    entries: new Map<string, TreeEntry>(),
    stats: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
  };
  const excluded = (rel: string, name: string, isDir: boolean) =>
    (options.exclude ?? []).some((g) => matchesGlob(rel, g) || matchesGlob(name, g)) ||
    (options.excludeFn?.(rel, isDir) ?? false);

  const walk = async (abs: string, rel: string): Promise<string> => {
    const entries: TreeEntry[] = [];
    const names: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(abs)) names.push(e);
    names.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)); // deterministic walks and errors
    for (const e of names) {
      const childAbs = join(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const st = await Deno.lstat(childAbs);
      if (excluded(childRel, e.name, st.isDirectory)) continue;
      const mode = (st.mode ?? 0) & 0o777;
      let entry: TreeEntry;
      if (st.isSymlink) {
        const target = await Deno.readLink(childAbs);
        const hash = blake3Hex(te.encode(target));
        snap.symlinks.set(hash, target);
        snap.stats.symlinks++;
        entry = {
          name: e.name,
          kind: EntryKind.symlink,
          mode,
          size: te.encode(target).length,
          hash,
        };
      } else if (st.isDirectory) {
        snap.stats.dirs++;
        entry = {
          name: e.name,
          kind: EntryKind.dir,
          mode,
          size: 0,
          hash: await walk(childAbs, childRel),
        };
      } else if (st.isFile) {
        if (snap.stats.files >= maxFiles) {
          throw new FsTreeError(
            "TooMany",
            childAbs,
            `${dir} has more than ${maxFiles} files (maxFiles)`,
          );
        }
        if (st.size > maxFileSize) {
          throw new FsTreeError(
            "TooLarge",
            childAbs,
            `${childRel} is ${st.size} bytes, over the ${maxFileSize}-byte cap (maxFileSize)`,
          );
        }
        const bytes = await Deno.readFile(childAbs);
        const hash = blake3Hex(bytes);
        snap.files.set(hash, { path: childAbs, size: bytes.length });
        snap.stats.files++;
        snap.stats.bytes += bytes.length;
        entry = { name: e.name, kind: EntryKind.file, mode, size: bytes.length, hash };
      } else {
        continue; // sockets, devices, fifos: not content
      }
      entries.push(entry);
      snap.entries.set(childRel, entry);
    }
    const tree = encodeTree(entries);
    const hash = blake3Hex(tree);
    snap.trees.set(hash, tree);
    return hash;
  };
  const rootHash = await walk(dir, "");
  // Map insertion order already puts children first: re-insert the root last.
  const root = snap.trees.get(rootHash)!;
  snap.trees.delete(rootHash);
  snap.trees.set(rootHash, root);
  return { rootHash, ...snap };
}

/** What {@link uploadSnapshot} did. */
export interface UploadResult {
  /** Blobs sent. */
  readonly uploaded: number;
  /** Of those, blobs the server did not have. */
  readonly newOnServer: number;
  /** Blobs skipped because the server already has them. */
  readonly skipped: number;
  /** Bytes sent. */
  readonly bytes: number;
}

/** Options of {@link uploadSnapshot}. */
export interface UploadOptions {
  /** Hashes the server is known to have (e.g. every blob of the previous snapshot). */
  readonly known?: Set<string>;
  /** A snapshot uploaded earlier: its blobs are skipped. */
  readonly previous?: Snapshot;
  /** Blobs in flight at once; default 32. */
  readonly concurrency?: number;
}

/**
 * Uploads the blobs of `snap` the server lacks: files and link targets first,
 * then trees children-first, the root last, so no tree ever names a missing
 * blob. Uploaded hashes are added to `options.known`.
 */
export async function uploadSnapshot(
  store: Pick<BlobStore, "putBlob">,
  snap: Snapshot,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const known = options.known ?? new Set<string>();
  const prev = options.previous;
  const has = (h: string) =>
    known.has(h) ||
    (prev !== undefined && (prev.trees.has(h) || prev.files.has(h) || prev.symlinks.has(h)));
  let uploaded = 0, newOnServer = 0, skipped = 0, bytes = 0;
  const put = async (hash: string, read: () => Promise<Uint8Array>) => {
    if (has(hash)) {
      skipped++;
      return;
    }
    const data = await read();
    const res = await store.putBlob(data);
    if (res.hash !== hash) {
      throw new FsTreeError(
        "Changed",
        hash,
        `blob changed while uploading: captured as ${hash}, read back as ${res.hash}`,
      );
    }
    uploaded++;
    bytes += data.length;
    if (res.wasNew) newOnServer++;
    known.add(hash);
  };
  const limit = options.concurrency ?? 32;
  const run = async (jobs: (() => Promise<void>)[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, jobs.length) }, async () => {
        while (next < jobs.length) await jobs[next++]();
      }),
    );
  };
  await run([
    ...[...snap.files].map(([h, f]) => () => put(h, () => Deno.readFile(f.path))),
    ...[...snap.symlinks].map(([h, t]) => () => put(h, async () => te.encode(t))),
  ]);
  // Trees go in order (children first), each after the ones it names.
  for (const [h, tree] of snap.trees) await put(h, async () => tree);
  return { uploaded, newOnServer, skipped, bytes };
}

/** Uploads a snapshot and attaches its root to a turn. */
export async function attachSnapshot(
  store: Pick<BlobStore, "putBlob" | "attachFs">,
  turnId: string,
  snap: Snapshot,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const result = await uploadSnapshot(store, snap, options);
  await store.attachFs(turnId, snap.rootHash);
  return result;
}

/** What changed between two snapshots, by relative path (files and symlinks). */
export interface SnapshotDiff {
  /** Paths only in the new snapshot. */
  readonly added: string[];
  /** Paths only in the old snapshot. */
  readonly removed: string[];
  /** Paths in both whose content, kind or mode changed. */
  readonly modified: string[];
}

/** Compares two snapshots; identical subtrees (same hash) are not walked. */
export function diffSnapshots(older: Snapshot, newer: Snapshot): SnapshotDiff {
  const out: SnapshotDiff = { added: [], removed: [], modified: [] };
  if (older.rootHash === newer.rootHash) return out;
  const below = (s: Snapshot, dir: string) => {
    const prefix = dir ? `${dir}/` : "";
    const res = new Map<string, TreeEntry>();
    for (const [p, e] of s.entries) {
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes("/")) res.set(p, e);
    }
    return res;
  };
  const leaves = (s: Snapshot, dir: string, into: string[]) => {
    for (const [p, e] of below(s, dir)) {
      if (e.kind === EntryKind.dir) leaves(s, p, into);
      else into.push(p);
    }
  };
  const compare = (dir: string) => {
    const a = below(older, dir);
    const b = below(newer, dir);
    for (const [p, eb] of b) {
      const ea = a.get(p);
      if (!ea) {
        if (eb.kind === EntryKind.dir) leaves(newer, p, out.added);
        else out.added.push(p);
      } else if (ea.kind === EntryKind.dir && eb.kind === EntryKind.dir) {
        if (ea.hash !== eb.hash) compare(p);
      } else if (ea.kind === EntryKind.dir) {
        leaves(older, p, out.removed);
        out.added.push(p);
      } else if (eb.kind === EntryKind.dir) {
        out.removed.push(p);
        leaves(newer, p, out.added);
      } else if (ea.hash !== eb.hash || ea.kind !== eb.kind || ea.mode !== eb.mode) {
        out.modified.push(p);
      }
    }
    for (const [p, ea] of a) {
      if (b.has(p)) continue;
      if (ea.kind === EntryKind.dir) leaves(older, p, out.removed);
      else out.removed.push(p);
    }
  };
  compare("");
  for (const list of [out.added, out.removed, out.modified]) list.sort();
  return out;
}
