/**
 * The peer's database: entries in memory, ordered bytewise by their encoded
 * key. Deno's key codec preserves order, so the peer never decodes a key.
 * Keys are held as "binary strings" (one UTF-16 unit per byte), which JS
 * compares and hashes bytewise for free. A write whose checks pass is
 * applied synchronously, so no other request sees half of it.
 *
 * @module
 */
import { KvConnectPeerError } from "./kv_connect_limits.ts";
import {
  Encoding,
  MutationKind,
  type WireAtomicWrite,
  type WireReadRange,
} from "./kv_connect_schema.ts";
import { expireAtMs } from "./kv_connect_limits.ts";

/** One stored entry, as the wire carries it. */
export interface StoredEntry {
  /** The encoded key. */
  readonly key: Uint8Array;
  /** The value bytes. */
  readonly value: Uint8Array;
  /** Their encoding (see `Encoding`). */
  readonly encoding: number;
  /** The commit that wrote it, 10 bytes. */
  readonly versionstamp: Uint8Array;
  /** Expiry in ms since the epoch; 0 for never. */
  readonly expireAt: number;
}

/** Outcome of {@link PeerData.write}. */
export type WriteOutcome =
  | { readonly ok: true; readonly versionstamp: Uint8Array }
  | { readonly ok: false; readonly failedChecks: number[] };

/** A key as a string of byte-valued code units, comparing as the bytes do. */
export function keyString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

const U64_MASK = (1n << 64n) - 1n;

/** The in-memory database of one peer. */
export class PeerData {
  #sorted: string[] = [];
  #entries = new Map<string, StoredEntry>();
  #version = 0n;

  /** How many live and expired entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries of each range, as a snapshot: nothing runs between two ranges of one call. */
  read(ranges: readonly WireReadRange[], now = Date.now()): StoredEntry[][] {
    return ranges.map((r) => this.#readRange(r, now));
  }

  /**
   * Applies one atomic write: every check must pass (else nothing is
   * written and the failed checks are named), then the mutations in order
   * under one new versionstamp. Throws {@link KvConnectPeerError} for what
   * the peer does not support or what `denokv` refuses while applying
   * (a u64 operation on a value that is not a u64); nothing is written then.
   */
  write(write: WireAtomicWrite, now = Date.now()): WriteOutcome {
    if (write.enqueues.length > 0) {
      throw new KvConnectPeerError(
        "EnqueueUnsupported",
        "the in-repo KV Connect peer does not support queues (enqueue)",
        400,
      );
    }
    const failed: number[] = [];
    write.checks.forEach((c, i) => {
      const current = this.#live(keyString(c.key), now);
      const passes = c.versionstamp.length === 0
        ? current === undefined
        : current !== undefined && sameBytes(current.versionstamp, c.versionstamp);
      if (!passes) failed.push(i);
    });
    if (failed.length > 0) return { ok: false, failedChecks: failed };

    const versionstamp = this.#nextVersionstamp();
    // Plan every mutation before applying any, so a refused one leaves nothing behind.
    const planned: Array<[string, StoredEntry | undefined]> = [];
    const pending = new Map<string, StoredEntry | undefined>();
    const current = (k: string) => pending.has(k) ? pending.get(k) : this.#live(k, now);
    for (const m of write.mutations) {
      const k = keyString(m.key);
      const expireAt = Math.max(0, expireAtMs(m.expire_at_ms));
      let next: StoredEntry | undefined;
      switch (m.kind) {
        case MutationKind.SET:
          next = {
            key: copy(m.key),
            value: copy(m.value!.data),
            encoding: m.value!.encoding,
            versionstamp,
            expireAt,
          };
          break;
        case MutationKind.DELETE:
          next = undefined;
          break;
        case MutationKind.SUM:
        case MutationKind.MIN:
        case MutationKind.MAX:
          next = {
            key: copy(m.key),
            value: u64Op(m.kind, current(k), m.value!),
            encoding: Encoding.LE64,
            versionstamp,
            expireAt,
          };
          break;
        default:
          throw new KvConnectPeerError(
            "MutationUnsupported",
            `the in-repo KV Connect peer does not support mutation kind ${m.kind}` +
              " (set with a versionstamped key)",
            400,
          );
      }
      pending.set(k, next);
      planned.push([k, next]);
    }
    for (const [k, next] of planned) {
      if (next) this.#put(k, next);
      else this.#delete(k);
    }
    return { ok: true, versionstamp };
  }

  #readRange(r: WireReadRange, now: number): StoredEntry[] {
    const lo = this.#lowerBound(keyString(r.start));
    const hi = this.#lowerBound(keyString(r.end));
    const out: StoredEntry[] = [];
    if (r.reverse) {
      for (let i = hi - 1; i >= lo && out.length < r.limit; i--) this.#collect(i, now, out);
    } else {
      for (let i = lo; i < hi && out.length < r.limit; i++) this.#collect(i, now, out);
    }
    return out;
  }

  #collect(i: number, now: number, out: StoredEntry[]): void {
    const e = this.#entries.get(this.#sorted[i])!;
    if (!expired(e, now)) out.push(e);
  }

  #live(k: string, now: number): StoredEntry | undefined {
    const e = this.#entries.get(k);
    return e && !expired(e, now) ? e : undefined;
  }

  #put(k: string, e: StoredEntry): void {
    if (!this.#entries.has(k)) this.#sorted.splice(this.#lowerBound(k), 0, k);
    this.#entries.set(k, e);
  }

  #delete(k: string): void {
    if (!this.#entries.delete(k)) return;
    this.#sorted.splice(this.#lowerBound(k), 1);
  }

  /** Index of the first key not below `k`. */
  #lowerBound(k: string): number {
    let lo = 0, hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** 8 bytes of a big-endian commit counter, then 2 zero bytes, as denokv's SQLite backend. */
  #nextVersionstamp(): Uint8Array {
    this.#version += 1n;
    const vs = new Uint8Array(10);
    new DataView(vs.buffer).setBigUint64(0, this.#version);
    return vs;
  }
}

/** A copy that owns its bytes (decoded fields share the request's buffer). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function expired(e: StoredEntry, now: number): boolean {
  return e.expireAt > 0 && e.expireAt <= now;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const OP_NAMES: Record<number, string> = {
  [MutationKind.SUM]: "sum",
  [MutationKind.MIN]: "min",
  [MutationKind.MAX]: "max",
};

/** sum (wrapping), min or max of two u64s; an absent value takes the operand. */
function u64Op(
  kind: number,
  existing: StoredEntry | undefined,
  operand: { data: Uint8Array; encoding: number },
): Uint8Array {
  const op = OP_NAMES[kind];
  if (operand.encoding !== Encoding.LE64) {
    // A V8 operand is a number or bigint sum (with optional bounds); Deno.KvU64 is the only
    // operand our store and tests use, so the peer refuses the rest rather than guess.
    throw new KvConnectPeerError(
      "OperandUnsupported",
      `the in-repo KV Connect peer supports '${op}' only on Deno.KvU64 operands`,
      400,
    );
  }
  const b = readU64(operand.data);
  if (!existing) return copy(operand.data);
  if (existing.encoding !== Encoding.LE64) {
    throw new KvConnectPeerError(
      "TypeMismatch",
      `Failed to perform '${op}' mutation on a non-U64 value in the database`,
    );
  }
  const a = readU64(existing.value);
  const r = kind === MutationKind.SUM
    ? (a + b) & U64_MASK
    : kind === MutationKind.MIN
    ? (a < b ? a : b)
    : (a > b ? a : b);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, r, true);
  return out;
}

function readU64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
