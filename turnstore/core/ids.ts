/**
 * Ids are decimal strings in the unsigned 64-bit range, as CXDB assigns them.
 * "0" is the empty root: the parent of a context's first turn and the head of
 * an empty context.
 *
 * @module
 */
import { InvalidInputError } from "./errors.ts";

/** A turn id: a decimal u64 string. */
export type TurnId = string;
/** A context id: a decimal u64 string. */
export type ContextId = string;

/** The id of the empty root turn. */
export const ROOT_TURN_ID: TurnId = "0";

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** True when `value` is a canonical decimal u64 string. */
export function isU64String(value: unknown): value is string {
  // A writer names the same context on every append: the last valid id is
  // remembered (strings are immutable), so it is not parsed again each time.
  if (value === lastValid) return true;
  if (typeof value !== "string" || !DECIMAL.test(value) || BigInt(value) > U64_MAX) return false;
  lastValid = value;
  return true;
}

let lastValid = "0";

/**
 * Checks that `value` is a canonical decimal u64 string and returns it.
 * `label` names the argument in the error ("contextId", "parentTurnId", ...).
 */
export function requireId(label: string, value: unknown): string {
  if (!isU64String(value)) {
    throw new InvalidInputError(
      `${label} must be a decimal u64 string, got ${describe(value)}`,
    );
  }
  return value;
}

/** Renders a bad value for an error message without dumping large inputs. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  }
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (value === null || typeof value !== "object") return String(value);
  return Object.prototype.toString.call(value);
}

/** True when `text` has a control character (U+0000 to U+001F or U+007F). */
export function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
