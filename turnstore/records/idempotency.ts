/**
 * Deterministic idempotency keys. Each string part is length-prefixed
 * (`<utf8 bytes>:<text>`), so no choice of ids can make two different keys
 * collide, and the same logical write always yields the same key.
 *
 * @module
 */

const encoder = new TextEncoder();

/** One part of a key: text is length-prefixed, a non-negative integer is written as is. */
export type KeyPart = string | number;

/** Joins `namespace` and `parts` into a length-prefixed key. */
export function idempotencyKey(namespace: string, ...parts: KeyPart[]): string {
  let key = namespace;
  for (const part of parts) {
    if (typeof part === "number") {
      if (!Number.isSafeInteger(part) || part < 0) {
        throw new TypeError(`idempotency key part ${part} must be a non-negative integer`);
      }
      key += `|${part}`;
    } else {
      key += `|${encoder.encode(part).length}:${part}`;
    }
  }
  return key;
}

/**
 * Key of an agent write: `forge-agent:v1|<len>:<session>|<seq>|<len>:<event>`.
 * `sequence` is the write's position in the session, so a retry of the same
 * write gets the same key.
 */
export function agentIdempotencyKey(sessionId: string, sequence: number, event: string): string {
  return idempotencyKey("forge-agent:v1", sessionId, sequence, event);
}

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
  return idempotencyKey("forge-attractor:v1", runId, nodeId, String(attempt), kind, sequence);
}
