/**
 * Registry bundles in KV. A publication is checked against the merged view
 * of every bundle (the CXDB rules in registry/bundle.ts) and committed with
 * a check on one registry counter, so two publishers can never both pass the
 * rules against a view the other one changed. The merged view is cached and
 * rebuilt only when the counter moved.
 *
 * @module
 */
import { BackendError, InvalidInputError } from "../core/errors.ts";
import {
  canonicalBundleJson,
  type RegistryBundle,
  RegistryIndex,
  validateBundleShape,
} from "../registry/bundle.ts";
import type { PublishBundleResult } from "../core/types.ts";
import { BudgetedAtomic, type CommitObserver } from "./budget.ts";
import { loadBytes, storeBytes } from "./chunks.ts";
import { retryBusy } from "./busy.ts";
import { BUNDLE_PREFIX, bundleKey, REGISTRY_KEY, type StoredBytes } from "./keys.ts";

const MAX_PUBLISH_ATTEMPTS = 100;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Publishes and reads registry bundles. */
export class BundleShelf {
  readonly #kv: Deno.Kv;
  readonly #observer?: CommitObserver;
  #index?: { versionstamp: string | null; index: RegistryIndex };

  /** Keeps bundles in `kv`. */
  constructor(kv: Deno.Kv, observer?: CommitObserver) {
    this.#kv = kv;
    this.#observer = observer;
  }

  /** Publishes `bundle`; identical re-publication is `created: false`, a change a Conflict. */
  async publish(bundle: RegistryBundle): Promise<PublishBundleResult> {
    const valid = validateBundleShape(bundle);
    const canonical = canonicalBundleJson(valid);
    let stored: StoredBytes | undefined;
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
      const counter = await this.#kv.get<bigint>(REGISTRY_KEY);
      const index = await this.#indexAt(counter.versionstamp);
      if (index.check(valid) === "identical") return { created: false };
      stored ??= await storeBytes(this.#kv, encoder.encode(canonical), this.#observer);
      const op = new BudgetedAtomic(this.#kv)
        .check(REGISTRY_KEY, counter.versionstamp)
        .check(bundleKey(valid.bundle_id), null)
        .set(bundleKey(valid.bundle_id), stored)
        .set(REGISTRY_KEY, (counter.value ?? 0n) + 1n);
      const result = await op.commit(this.#observer);
      if (result.ok) {
        index.admit(JSON.parse(canonical));
        this.#index = { versionstamp: result.versionstamp, index };
        return { created: true };
      }
    }
    throw new BackendError(`publishing bundle ${valid.bundle_id} kept conflicting`);
  }

  /** A published bundle, or undefined. */
  async get(bundleId: string): Promise<RegistryBundle | undefined> {
    if (typeof bundleId !== "string") {
      throw new InvalidInputError(`bundleId must be a string, got ${typeof bundleId}`);
    }
    if (bundleId.length === 0 || bundleId.length > 200) return undefined; // never publishable
    const entry = await this.#kv.get<StoredBytes>(bundleKey(bundleId));
    if (entry.versionstamp === null) return undefined;
    return JSON.parse(await this.#json(bundleId, entry.value));
  }

  async #json(id: string, stored: StoredBytes): Promise<string> {
    return decoder.decode(await loadBytes(this.#kv, stored, `registry bundle ${id}`));
  }

  /** The merged view as of the registry counter `versionstamp`. */
  async #indexAt(versionstamp: string | null): Promise<RegistryIndex> {
    if (this.#index && this.#index.versionstamp === versionstamp) return this.#index.index;
    // Every publication moves the counter in its own commit, so no counter, no bundles: a
    // fresh store's first publication (each new session's store, often) skips two reads.
    if (versionstamp === null) return new RegistryIndex();
    // Read the bundles and the counter together until they agree, so the
    // view matches the versionstamp the publication will check.
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
      const index = await retryBusy(async () => {
        const index = new RegistryIndex();
        for await (const entry of this.#kv.list<StoredBytes>({ prefix: BUNDLE_PREFIX })) {
          const id = String(entry.key[1]);
          index.admit(JSON.parse(await this.#json(id, entry.value)));
        }
        return index;
      }, "reading the registry");
      const after = await this.#kv.get(REGISTRY_KEY);
      if (after.versionstamp === versionstamp) {
        this.#index = { versionstamp, index };
        return index;
      }
      versionstamp = after.versionstamp;
    }
    throw new BackendError("the registry kept changing while it was read");
  }
}
