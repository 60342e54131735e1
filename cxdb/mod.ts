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
 * With the root's `openTurnStore`, register the scheme:
 * `openTurnStore(url, { schemes: { "cxdb:": cxdbScheme, "cxdbs:": cxdbScheme } })`.
 *
 * @module
 */
import type { StoreOpener } from "@forge/turnstore";
import type { ForgeStore } from "@forge/turnstore";
import { openCxdbStore } from "./store/store.ts";

// Re-exported so the store's public signatures are documented with it.
export type {
  AppendedTurn,
  AppendTurnInput,
  BlobStore,
  BundleField,
  BundleTypeVersion,
  ContextHead,
  ContextId,
  CreateContextOptions,
  ForgeStore,
  ListTurnsOptions,
  PublishBundleResult,
  PutBlobResult,
  RegistryBundle,
  StoredTurn,
  StoreOpener,
  TurnId,
  TurnStore,
  TypedTurnStore,
} from "@forge/turnstore";
export { CxdbStore, type CxdbStoreOptions, openCxdbStore } from "./store/store.ts";
export { type CxdbStoreConfig, parseCxdbUrl } from "./store/url.ts";
export { publishBundles, type PublishedBundle } from "./store/bundles.ts";
export {
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
export { parseSse, type SseEvent } from "./http/sse.ts";
export * from "./protocol/wire.ts";
export * from "./protocol/compress.ts";
export * from "./fstree/tree.ts";
export * from "./fstree/snapshot.ts";

/** The opener of "cxdb:" (and "cxdbs:") URLs for `openTurnStore`'s `schemes` option. */
export const cxdbScheme: StoreOpener = (_rest: string, url: string): Promise<ForgeStore> =>
  openCxdbStore(url);
