/**
 * Deterministic idempotency keys. Each string part is length-prefixed
 * (`<utf8 bytes>:<text>`), so no choice of ids can make two different keys
 * collide, and the same logical write always yields the same key. Each
 * runtime defines its own key format on top of this builder, beside its
 * records (the agent's in `agent/keys.ts`, the pipeline's in `attractor/keys.ts`).
 *
 * @module
 */
import { utf8Length } from "../core/utf8.ts";

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
      key += `|${utf8Length(part)}:${part}`;
    }
  }
  return key;
}
