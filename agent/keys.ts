/**
 * The agent's idempotency keys: one per write of a session, built with the
 * turn store's length-prefixed key builder.
 *
 * @module
 */
import { idempotencyKey } from "@forge/turnstore/records";

/** The namespace (and format version) of every agent key. */
export const AGENT_KEY_NAMESPACE = "forge-agent:v1";

/**
 * Key of an agent write: `forge-agent:v1|<len>:<session>|<seq>|<len>:<event>`.
 * `sequence` is the write's position in the session, so a retry of the same
 * write gets the same key.
 */
export function agentIdempotencyKey(sessionId: string, sequence: number, event: string): string {
  // A session writes many records: its key prefix is built once.
  if (sessionId !== lastSession) {
    lastPrefix = idempotencyKey(AGENT_KEY_NAMESPACE, sessionId);
    lastSession = sessionId;
  }
  return idempotencyKey(lastPrefix, sequence, event);
}

let lastSession: string | undefined;
let lastPrefix = "";
