/**
 * The filesystem log backend (being built).
 *
 * @module
 */
import { UnsupportedError } from "../core/errors.ts";
import type { ForgeStore } from "../core/types.ts";

/** Opens a filesystem log store in a directory. */
export function openFsStore(target: string): Promise<ForgeStore> {
  return Promise.reject(new UnsupportedError(`fs backend is not built yet (${target})`));
}
