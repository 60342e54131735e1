/**
 * The conformance suite's types: the handle a backend gives each test, the
 * suite's options, and the registration function the area modules receive.
 *
 * @module
 */
import type { ForgeStore } from "../core/types.ts";

/** A store under test, with what the suite needs to reopen and clean it up. */
export interface ConformanceHandle {
  /** A store to test. It may hold other data, but none the suite wrote before. */
  readonly store: ForgeStore;
  /** Opens the same data again (after `store.close()`); required with `durable: true`. */
  readonly reopen?: () => Promise<ForgeStore>;
  /** Removes whatever the test left behind (temp dirs, files). */
  readonly cleanup?: () => Promise<void>;
}

/** Options of {@link defineConformanceSuite}. */
export interface ConformanceOptions {
  /** Passed to Deno.test: ignore the whole suite (say why in `ignoreReason`). */
  readonly ignore?: boolean;
  /** Deno.test's resource and op sanitizers; default true. */
  readonly sanitize?: boolean;
  /**
   * The backend keeps its data across close and reopen: registers the
   * durability test, which needs `reopen` from the handle. Default false.
   */
  readonly durable?: boolean;
  /** Bytes of the large-payload test; default 10 MB. */
  readonly largePayloadBytes?: number;
}

/** Registers one conformance test under the suite's name prefix. */
export type ConformanceTest = (
  title: string,
  fn: (h: ConformanceHandle) => Promise<void>,
) => void;
