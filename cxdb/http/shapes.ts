/**
 * Checks of the HTTP API's answers before anything reads them: a body that is
 * not JSON, or JSON of another shape (a proxy's page, a broken or hostile
 * server), is a `CxdbError` with code "Protocol" naming the request and the
 * first bad field, instead of a TypeError deep in the store or, worse, ids
 * that are not ids handed to a caller as if they were.
 *
 * Only the fields this package reads are checked; others pass as they are.
 *
 * @module
 */
import { CxdbError } from "../client/errors.ts";

const U64 = /^(0|[1-9][0-9]{0,19})$/;
const HASH = /^[0-9a-f]{64}$/;

/** Fails `op` as a malformed answer. */
function malformed(op: string, what: string): never {
  throw new CxdbError("Protocol", op, `${op}: malformed answer from the server: ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function u64String(op: string, value: unknown, name: string): void {
  if (typeof value !== "string" || !U64.test(value) || BigInt(value) >= 1n << 64n) {
    malformed(op, `${name} must be a decimal u64 string, got ${JSON.stringify(value)}`);
  }
}

function count(op: string, value: unknown, name: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    malformed(op, `${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

/** The JSON of a body; Protocol when it is not JSON. */
export function parseJson(op: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return malformed(op, `not JSON (${(error as Error).message}): ${text.slice(0, 100)}`);
  }
}

/** Checks `GET /v1/contexts`: `{contexts: [{context_id, head_turn_id, head_depth}]}`. */
export function checkContextList(op: string, body: unknown): void {
  if (!isObject(body) || !Array.isArray(body.contexts)) malformed(op, "no contexts array");
  (body.contexts as unknown[]).forEach((c, i) => {
    if (!isObject(c)) malformed(op, `contexts[${i}] is not an object`);
    u64String(op, c.context_id, `contexts[${i}].context_id`);
    u64String(op, c.head_turn_id, `contexts[${i}].head_turn_id`);
    count(op, c.head_depth, `contexts[${i}].head_depth`);
  });
}

/**
 * Checks a page of `GET /v1/contexts/{id}/turns`. `numericIds`: the page was
 * asked for with `u64_format=number`, so ids are numbers, not checked here.
 */
export function checkTurnPage(op: string, body: unknown, numericIds = false): void {
  if (!isObject(body) || !Array.isArray(body.turns)) malformed(op, "no turns array");
  const u64 = numericIds ? () => {} : u64String;
  const next = body.next_before_turn_id;
  if (next !== undefined && next !== null) u64(op, next, "next_before_turn_id");
  (body.turns as unknown[]).forEach((t, i) => {
    const at = `turns[${i}]`;
    if (!isObject(t)) malformed(op, `${at} is not an object`);
    u64(op, t.turn_id, `${at}.turn_id`);
    u64(op, t.parent_turn_id, `${at}.parent_turn_id`);
    count(op, t.depth, `${at}.depth`);
    const type = t.declared_type;
    if (!isObject(type) || typeof type.type_id !== "string") {
      malformed(op, `${at}.declared_type.type_id must be a string`);
    }
    count(op, type.type_version, `${at}.declared_type.type_version`);
    if (t.bytes_b64 !== undefined && typeof t.bytes_b64 !== "string") {
      malformed(op, `${at}.bytes_b64 must be a string`);
    }
    if (
      t.content_hash_b3 !== undefined &&
      (typeof t.content_hash_b3 !== "string" || !HASH.test(t.content_hash_b3))
    ) {
      malformed(op, `${at}.content_hash_b3 must be 64 lowercase hex characters`);
    }
  });
}

/** Checks `GET /v1/turns/{id}/fs`: a listing with its root's hash. */
export function checkFsListing(op: string, body: unknown): void {
  if (!isObject(body)) malformed(op, "not an object");
  if (typeof body.fs_root_hash !== "string" || !HASH.test(body.fs_root_hash)) {
    malformed(op, "fs_root_hash must be 64 lowercase hex characters");
  }
  if (body.entries !== undefined && !Array.isArray(body.entries)) {
    malformed(op, "entries must be an array");
  }
}

/** The bytes of a base64 text; Protocol when it is not base64. */
export function base64Bytes(op: string, text: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    return malformed(op, `bytes_b64 is not base64: ${text.slice(0, 40)}`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
