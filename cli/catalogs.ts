/**
 * Every record catalog and registry bundle this project writes, so readers
 * (the CLI, a CXDB publisher) decode and describe all of them.
 *
 * @module
 */
import type { RecordCatalog, RegistryBundle } from "@forge/turnstore";
import { attractorBundle, attractorCatalog, CheckpointSavedV4 } from "@forge/attractor/records";
import { presentCheckpointState } from "@forge/attractor/engine";
import { agentBundle, agentCatalog } from "@forge/agent/records";

/** Catalogs of every record type the project writes. */
export const PROJECT_CATALOGS: readonly RecordCatalog[] = [agentCatalog, attractorCatalog];
/** Registry bundles of every record type the project writes. */
export const PROJECT_BUNDLES: readonly RegistryBundle[] = [agentBundle, attractorBundle];

/**
 * How the trace shows records whose stored form is not readable as is: a
 * checkpoint's deflated state is shown inflated, as JSON.
 */
export function presentProjectRecord(
  typeId: string,
  typeVersion: number,
  value: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (typeId === CheckpointSavedV4.typeId && typeVersion >= 4) {
    return presentCheckpointState(value);
  }
  return undefined;
}
