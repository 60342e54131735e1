/**
 * Deterministic idempotency keys. Each string part is length-prefixed
 * (`<utf8 bytes>:<text>`), so no choice of ids can make two different keys
 * collide, and the same logical write always yields the same key. Each
 * runtime defines its own key format on top of this builder, beside its
 * records (the agent's in `agent/keys.ts`, the pipeline's in `attractor/keys.ts`).
 *
 * @module
 */

/**
 * UTF-8 length of `text`, as TextEncoder would encode it (a lone surrogate
 * becomes U+FFFD, 3 bytes), without encoding it: keys are made per write.
 */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // the pair: 2 code units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

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
