/**
 * Publishing registry bundles, so the CXDB server's typed view shows every
 * record the project writes with named fields.
 *
 * @module
 */
import type { RegistryBundle, TypedTurnStore } from "@forge/turnstore";

/** The outcome of publishing one bundle. */
export interface PublishedBundle {
  /** The bundle's id. */
  readonly bundleId: string;
  /** False when the server already had this exact bundle. */
  readonly created: boolean;
}

/**
 * Publishes `bundles` in order (a later bundle may rely on enums or types of
 * an earlier one). Identical re-publication is harmless; the first bundle the
 * store refuses stops the run with its error (Conflict or InvalidInput), and
 * the bundles before it stay published.
 */
export async function publishBundles(
  store: Pick<TypedTurnStore, "publishRegistryBundle">,
  bundles: Iterable<RegistryBundle>,
): Promise<PublishedBundle[]> {
  const out: PublishedBundle[] = [];
  for (const bundle of bundles) {
    const { created } = await store.publishRegistryBundle(bundle);
    out.push({ bundleId: bundle.bundle_id, created });
  }
  return out;
}
