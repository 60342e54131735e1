/**
 * The pipeline's idempotency keys, built with the turn store's
 * length-prefixed key builder.
 *
 * @module
 */
import { idempotencyKey } from "@forge/turnstore/records";

/** The namespace (and format version) of every pipeline key. */
export const ATTRACTOR_KEY_NAMESPACE = "forge-attractor:v1";

/**
 * Key of a pipeline write:
 * `forge-attractor:v1|<len>:<run>|<len>:<node>|<len>:<attempt>|<len>:<kind>|<seq>`.
 */
export function attractorIdempotencyKey(
  runId: string,
  nodeId: string,
  attempt: number,
  kind: string,
  sequence: number,
): string {
  return idempotencyKey(ATTRACTOR_KEY_NAMESPACE, runId, nodeId, String(attempt), kind, sequence);
}
