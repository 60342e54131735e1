/**
 * What the kv tests that open a store file themselves share: a temporary
 * file, a store on it, and appends of numbered text turns in one go.
 *
 * @module
 */
import type { AppendedTurn } from "../core/types.ts";
import { KvStore, type KvStoreOptions } from "./store.ts";
import { LOCAL_KV_LIMITS } from "./limits.ts";
import { startKvConnectPeer } from "./testing/kv_connect_peer.ts";

const te = new TextEncoder();

/** Runs `fn` with the path of a new KV file in a temporary directory, removed after. */
export async function withStoreFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-test-" });
  try {
    await fn(`${dir}/forge.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `fn` with a store on a new KV file (local limits unless `options`
 * say otherwise) and the file's path; closes the store and removes the file after.
 */
export async function withFileStore(
  fn: (store: KvStore, path: string) => Promise<void>,
  options: KvStoreOptions = {},
): Promise<void> {
  await withStoreFile(async (path) => {
    const store = new KvStore(await Deno.openKv(path), { limits: LOCAL_KV_LIMITS, ...options });
    try {
      await fn(store, path);
    } finally {
      await store.close();
    }
  });
}

/**
 * Appends turns `from` to `to - 1` at once (they share commits), each the
 * text `turn <i>` padded with dots to `pad` bytes, plus `extra(i)`'s fields
 * (an idempotency key, say).
 */
export function appendTurns(
  store: KvStore,
  contextId: string,
  from: number,
  to: number,
  pad = 0,
  extra: (i: number) => object = () => ({}),
): Promise<AppendedTurn[]> {
  const appends = [];
  for (let i = from; i < to; i++) {
    appends.push(store.appendTurn({
      contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode(`turn ${i}`.padEnd(pad, ".")),
      ...extra(i),
    }));
  }
  return Promise.all(appends);
}

/** A Deno KV a test runs on, and how to close it and drop its data. */
export interface OpenedKv {
  /** The database. */
  readonly kv: Deno.Kv;
  /** Removes what backs it (a temporary file, a peer); call after closing `kv`. */
  cleanup(): Promise<void>;
}

/** Where a kv test with KV Connect limits runs: a local file, or the remote path itself. */
export interface KvConnectTarget {
  /** Shown in test names. */
  readonly name: string;
  /** True when Deno's remote client (KV Connect) talks to it. */
  readonly remote: boolean;
  /** Opens a fresh, empty database. */
  open(): Promise<OpenedKv>;
}

/** A new KV file in a temporary directory. */
export const FILE_TARGET: KvConnectTarget = {
  name: "file",
  remote: false,
  async open() {
    const dir = await Deno.makeTempDir({ prefix: "forge-kv-test-" });
    return {
      kv: await Deno.openKv(`${dir}/forge.kv`),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  },
};

/** Deno's KV Connect client on a fresh in-repo peer (testing/kv_connect_peer.ts) on 127.0.0.1. */
export const PEER_TARGET: KvConnectTarget = {
  name: "KV Connect peer",
  remote: true,
  async open() {
    const peer = await startKvConnectPeer();
    Deno.env.set("DENO_KV_ACCESS_TOKEN", peer.token);
    return { kv: await Deno.openKv(peer.url), cleanup: () => peer.close() };
  },
};

/** The targets a test written for KV Connect limits runs on. */
export const KV_CONNECT_TARGETS: readonly KvConnectTarget[] = [FILE_TARGET, PEER_TARGET];
