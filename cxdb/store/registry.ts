/**
 * Registry bundles on CXDB: publication through the HTTP API, checked first
 * by the same rules (and messages) as every other backend, and reads
 * revalidated with the server's ETag.
 *
 * @module
 */
import {
  ConflictError,
  type PublishBundleResult,
  type RegistryBundle,
  RegistryIndex,
  UnsupportedError,
  validateBundleShape,
} from "@forge/turnstore";
import { validateBundleId } from "@forge/turnstore/backend";
import { HttpError } from "../client/errors.ts";
import type { CxdbHttpClient } from "../http/client.ts";
import type { CxdbCall } from "./failures.ts";

/** The store's registry bundles: what it published, and the bundles it read with their ETags. */
export class CxdbRegistry {
  readonly #http?: CxdbHttpClient;
  readonly #call: CxdbCall;
  readonly #map: (error: unknown) => Error;
  #registry = new RegistryIndex();
  #bundleCache = new Map<string, { etag: string; bundle: RegistryBundle }>();

  /** Bundles over `http` (none without it); `call` and `map` say what went wrong. */
  constructor(
    http: CxdbHttpClient | undefined,
    call: CxdbCall,
    map: (error: unknown) => Error,
  ) {
    this.#http = http;
    this.#call = call;
    this.#map = map;
  }

  #requireHttp(what: string): CxdbHttpClient {
    if (!this.#http) {
      throw new UnsupportedError(
        `${what} needs the CXDB HTTP API; add ?http=http://host:9010 to the cxdb URL`,
      );
    }
    return this.#http;
  }

  /** PUT /v1/registry/bundles/{id}; the server's 422 becomes Conflict. */
  async publish(bundle: RegistryBundle): Promise<PublishBundleResult> {
    const valid = validateBundleShape(bundle);
    const http = this.#requireHttp(`publishing registry bundle ${valid.bundle_id}`);
    // The same rules the other backends apply, with the same messages, before the server sees it.
    const local = this.#registry.check(valid);
    try {
      const put = await http.putBundle(valid);
      if (local === "new") this.#registry.admit(structuredClone(valid));
      return { created: put.status === 201 };
    } catch (error) {
      if (error instanceof HttpError && error.status === 422) {
        throw new ConflictError(
          `registry bundle ${valid.bundle_id} was refused by the CXDB server: ${
            error.body.slice(0, 300)
          }`,
        );
      }
      throw this.#map(error);
    }
  }

  /** GET /v1/registry/bundles/{id}, revalidated with its ETag. */
  async get(bundleId: string): Promise<RegistryBundle | undefined> {
    validateBundleId(bundleId);
    const http = this.#requireHttp(`reading registry bundle ${bundleId}`);
    const cached = this.#bundleCache.get(bundleId);
    const got = await this.#call(() => http.getBundle(bundleId, cached?.etag));
    if (got.status === 404) return undefined;
    if (got.status === 304) return structuredClone(cached!.bundle);
    if (got.etag) this.#bundleCache.set(bundleId, { etag: got.etag, bundle: got.bundle });
    return got.bundle;
  }
}
