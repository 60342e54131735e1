/**
 * The turn store conformance suite. Every backend (memory, kv, fs, cxdb, and
 * any third-party one) registers the same tests by calling
 * {@link defineConformanceSuite}; passing them is what "implements the turn
 * store contract" means. The tests never assume particular id values or an
 * empty store, so they also run against shared servers.
 *
 * @module
 */
import type { ConformanceHandle, ConformanceOptions, ConformanceTest } from "./types.ts";
import { defineHistoryTests } from "./history.ts";
import { definePagingTests } from "./paging.ts";
import { defineIdempotencyTests } from "./idempotency.ts";
import { defineInputTests } from "./inputs.ts";
import { defineConcurrencyTests } from "./concurrency.ts";
import { defineBlobTests } from "./blobs.ts";
import { defineRegistryTests } from "./registry.ts";
import { defineLifecycleTests } from "./lifecycle.ts";
import { defineListContextsTests } from "./contexts.ts";

export type { ConformanceHandle, ConformanceOptions } from "./types.ts";

/**
 * Registers the conformance tests for one backend. `open` is called once per
 * test and must return a usable store.
 */
export function defineConformanceSuite(
  name: string,
  open: () => Promise<ConformanceHandle>,
  options: ConformanceOptions = {},
): void {
  const sanitize = options.sanitize ?? true;
  const test: ConformanceTest = (title, fn) =>
    Deno.test({
      name: `${name} conformance: ${title}`,
      ignore: options.ignore,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      fn: async () => {
        const handle = await open();
        let store = handle.store;
        try {
          await fn({
            ...handle,
            get store() {
              return store;
            },
            reopen: handle.reopen && (async () => (store = await handle.reopen!())),
          });
        } finally {
          await store.close().catch(() => {});
          await handle.cleanup?.();
        }
      },
    });

  defineHistoryTests(test);
  definePagingTests(test);
  defineIdempotencyTests(test);
  defineInputTests(test);
  defineConcurrencyTests(test);
  defineBlobTests(test);
  defineRegistryTests(test);
  defineLifecycleTests(test, options);
  defineListContextsTests(test, options.durable ?? false);
}
