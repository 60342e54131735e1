/**
 * The fstree object format: a tree is a msgpack array, sorted by name, of
 * maps `{"1": name, "2": kind, "3": mode, "4": size, "5": hash}`. The keys
 * are digit strings and the integers fixed-width (kind u8 0xcc, mode u32
 * 0xce, size u64 0xcf), exactly as CXDB's Go client writes them, so the same
 * directory hashes to the same root in every client. A tree's hash is BLAKE3
 * of these bytes.
 *
 * The container is written here because no msgpack library lets a caller
 * force fixed-width integers; names are encoded by @msgpack/msgpack.
 *
 * @module
 */
import { encode } from "@msgpack/msgpack";
import { fromHex, toHex } from "@forge/turnstore";
import { decodeMsgpack } from "@forge/turnstore";
import { concatBytes } from "../protocol/wire.ts";

/** Entry kinds. */
export const EntryKind = { file: 0, dir: 1, symlink: 2 } as const;
/** An entry kind: 0 file, 1 directory, 2 symlink. */
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

/** One entry of a tree. */
export interface TreeEntry {
  /** File name (one path segment). */
  readonly name: string;
  /** 0 file, 1 directory, 2 symlink. */
  readonly kind: EntryKind;
  /** Permission bits (e.g. 0o644). */
  readonly mode: number;
  /** File size; 0 for a directory; target length for a symlink. */
  readonly size: number;
  /** BLAKE3 of the content, the subtree, or the link target; lowercase hex. */
  readonly hash: string;
}

const te = new TextEncoder();

/** Sorts entries by the bytes of their names, as the Go client does. */
export function sortEntries(entries: readonly TreeEntry[]): TreeEntry[] {
  const key = (e: TreeEntry) => te.encode(e.name);
  return [...entries].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
}

/** Encodes a tree (entries are sorted first). */
export function encodeTree(entries: readonly TreeEntry[]): Uint8Array {
  const sorted = sortEntries(entries);
  const parts: Uint8Array[] = [];
  const n = sorted.length;
  if (n < 16) parts.push(Uint8Array.of(0x90 | n));
  else if (n <= 0xffff) parts.push(Uint8Array.of(0xdc, n >> 8, n & 0xff));
  else parts.push(Uint8Array.of(0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff));
  for (const e of sorted) {
    const fixed = new Uint8Array(2 + 2 + 2 + 2 + 5 + 2 + 9 + 2 + 2 + 32);
    const v = new DataView(fixed.buffer);
    parts.push(Uint8Array.of(0x85, 0xa1, 0x31), encode(e.name));
    let o = 0;
    fixed.set([0xa1, 0x32, 0xcc, e.kind], o);
    o += 4;
    fixed.set([0xa1, 0x33, 0xce], o);
    v.setUint32(o + 3, e.mode >>> 0);
    o += 7;
    fixed.set([0xa1, 0x34, 0xcf], o);
    v.setBigUint64(o + 3, BigInt(e.size));
    o += 11;
    fixed.set([0xa1, 0x35, 0xc4, 0x20], o);
    fixed.set(fromHex(e.hash), o + 4);
    o += 36;
    parts.push(fixed.subarray(0, o));
  }
  return concatBytes(parts);
}

/** Decodes a tree; accepts integer or digit-string keys. Throws TypeError on malformed bytes. */
export function decodeTree(bytes: Uint8Array): TreeEntry[] {
  const raw = decodeMsgpack(bytes);
  if (!Array.isArray(raw)) throw new TypeError("an fstree tree is a msgpack array");
  return raw.map((item, i) => {
    const m = item as Record<string, unknown>;
    const hash = m["5"];
    if (
      typeof m["1"] !== "string" || !(hash instanceof Uint8Array) || hash.length !== 32 ||
      ![0, 1, 2].includes(Number(m["2"]))
    ) {
      throw new TypeError(`fstree entry ${i} is malformed`);
    }
    return {
      name: m["1"],
      kind: Number(m["2"]) as EntryKind,
      mode: Number(m["3"]),
      size: Number(m["4"]),
      hash: toHex(hash),
    };
  });
}
