/**
 * Loop detection (coding-agent-loop spec §2.10): the last `window` tool call
 * signatures repeat a pattern of length 1, 2 or 3.
 *
 * @module
 */

/** A tool call's signature: its name and its arguments in canonical JSON. */
export function toolCallSignature(name: string, args: unknown): string {
  return `${name}\u0000${canonicalJson(args)}`;
}

/** True when the last `window` signatures are one pattern of length 1, 2 or 3 repeated. */
export function detectLoop(signatures: readonly string[], window: number): boolean {
  if (window < 1 || signatures.length < window) return false;
  const recent = signatures.slice(-window);
  for (const len of [1, 2, 3]) {
    if (window % len !== 0 || window < len * 2) continue;
    let all = true;
    for (let i = len; i < window && all; i++) all = recent[i] === recent[i % len];
    if (all) return true;
  }
  return false;
}

/** JSON with object keys sorted, so equal arguments give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    out[key] = sortKeys((value as Record<string, unknown>)[key]);
  }
  return out;
}
