/**
 * Bytes larger than a KV value: split into content-addressed chunks, each
 * written before the record that references them. An interrupted write
 * leaves only unreferenced chunks, never a record pointing at missing data.
 *
 * @module
 */
import { blake3Bytes, toHex } from "../core/hash.ts";
import { BackendError } from "../core/errors.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { chunkKey, type StoredBytes } from "./keys.ts";
import { CHUNK_BYTES, CHUNKS_PER_COMMIT, INLINE_BYTES, MAX_GET_MANY } from "./limits.ts";

/**
 * Stores `bytes` for a record: inline when small (not copied: pass the
 * store's own copy), otherwise as chunks committed now (several per commit).
 * Returns what the record should hold.
 */
export function storeBytes(
  kv: Deno.Kv,
  bytes: Uint8Array,
  observer?: CommitObserver,
): StoredBytes | Promise<StoredBytes> {
  // Synchronous when inline: an append of a small payload should not pay a hop.
  if (bytes.length <= INLINE_BYTES) return { size: bytes.length, inline: bytes };
  return storeChunks(kv, bytes, observer);
}

async function storeChunks(
  kv: Deno.Kv,
  bytes: Uint8Array,
  observer?: CommitObserver,
): Promise<StoredBytes> {
  const count = Math.ceil(bytes.length / CHUNK_BYTES);
  const hashes = new Uint8Array(count * 32);
  for (let first = 0; first < count; first += CHUNKS_PER_COMMIT) {
    const op = new BudgetedAtomic(kv);
    for (let i = first; i < Math.min(count, first + CHUNKS_PER_COMMIT); i++) {
      const chunk = bytes.slice(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
      const hash = blake3Bytes(chunk);
      hashes.set(hash, i * 32);
      op.set(chunkKey(toHex(hash)), chunk);
    }
    const result = await op.commit(observer);
    if (!result.ok) throw new BackendError("writing chunks failed without a check");
  }
  return { size: bytes.length, chunks: hashes };
}

/** The bytes a record describes; Backend error when a chunk is missing or wrong. */
export async function loadBytes(
  kv: Deno.Kv,
  stored: StoredBytes,
  what: string,
): Promise<Uint8Array> {
  if (stored.inline) return stored.inline;
  const list = stored.chunks;
  if (!list || list.length % 32 !== 0) throw new BackendError(`${what}: record has no bytes`);
  const count = list.length / 32;
  const keys = Array.from(
    { length: count },
    (_, i) => chunkKey(toHex(list.subarray(i * 32, i * 32 + 32))),
  );
  const out = new Uint8Array(stored.size);
  const groups: Promise<void>[] = [];
  for (let first = 0; first < count; first += MAX_GET_MANY) {
    const slice = keys.slice(first, first + MAX_GET_MANY);
    groups.push(
      kv.getMany<Uint8Array[]>(slice).then((entries) => {
        entries.forEach((entry, j) => {
          const i = first + j;
          const expected = Math.min(CHUNK_BYTES, stored.size - i * CHUNK_BYTES);
          if (!(entry.value instanceof Uint8Array) || entry.value.length !== expected) {
            throw new BackendError(
              `${what}: chunk ${i} (${String(slice[j][1])}) is missing or damaged`,
            );
          }
          out.set(entry.value, i * CHUNK_BYTES);
        });
      }),
    );
  }
  await Promise.all(groups);
  return out;
}
