/**
 * Every record catalog and registry bundle this project writes, so readers
 * (the CLI, a CXDB publisher) decode and describe all of them.
 *
 * @module
 */
import type { RecordCatalog, RegistryBundle } from "@forge/turnstore";
import { attractorBundle, attractorCatalog } from "@forge/attractor/records";
import { agentBundle, agentCatalog } from "@forge/agent/records";

/** Catalogs of every record type the project writes. */
export const PROJECT_CATALOGS: readonly RecordCatalog[] = [agentCatalog, attractorCatalog];
/** Registry bundles of every record type the project writes. */
export const PROJECT_BUNDLES: readonly RegistryBundle[] = [agentBundle, attractorBundle];
