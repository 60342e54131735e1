/**
 * @forge/cxdb: a CXDB client for Deno and a turn store backed by a CXDB
 * server.
 *
 * ```ts ignore
 * import { openCxdbStore } from "@forge/cxdb";
 * await using store = await openCxdbStore("cxdb://127.0.0.1:9009?http=http://127.0.0.1:9010");
 * const ctx = await store.createContext();
 * ```
 *
 * `openStore` of `@forge/stores` opens `cxdb://` and `cxdbs://` URLs too;
 * with turnstore's `openTurnStore`, register {@link cxdbScheme}.
 *
 * | import | what |
 * | --- | --- |
 * | `@forge/cxdb` | the store, the binary and HTTP clients, their errors, filesystem snapshots |
 * | `@forge/cxdb/protocol` | the binary protocol's frames, encoders and decoders, compression |
 * | `@forge/cxdb/fstree` | snapshots and the tree object encoding underneath |
 * | `@forge/cxdb/testing` | a loopback protocol peer for tests |
 *
 * @module
 */
import type { ForgeStore, StoreOpener } from "@forge/turnstore";
import { openCxdbStore } from "./store/store.ts";

export { CxdbStore, type CxdbStoreOptions, openCxdbStore } from "./store/store.ts";
export { type CxdbStoreConfig, parseCxdbUrl } from "./store/url.ts";
export { publishBundles, type PublishedBundle } from "./store/bundles.ts";
export {
  type AppendSink,
  type CallOptions,
  type ClientAppend,
  type ClientStats,
  CxdbClient,
  type CxdbClientOptions,
  type CxdbTlsOptions,
  type ReconnectOptions,
} from "./client/client.ts";
export {
  ConnectionDroppedError,
  CxdbError,
  type CxdbErrorCode,
  HttpError,
  ServerError,
} from "./client/errors.ts";
export * from "./http/client.ts";
export type { SseEvent } from "./http/sse.ts";
export * from "./fstree/snapshot.ts";

/** The opener of "cxdb:" (and "cxdbs:") URLs for `openTurnStore`'s `schemes` option. */
export const cxdbScheme: StoreOpener = (_rest: string, url: string): Promise<ForgeStore> =>
  openCxdbStore(url);
