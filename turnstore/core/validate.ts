/**
 * Argument checks shared by every backend, so that bad input gets the same
 * InvalidInput error, with the same wording, whatever the store.
 *
 * @module
 */
import { InvalidInputError } from "./errors.ts";
import { describe, hasControlChars, requireId, ROOT_TURN_ID } from "./ids.ts";
import { requireHash } from "./hash.ts";
import {
  type AppendTurnInput,
  DEFAULT_LIST_LIMIT,
  type ListTurnsOptions,
  MAX_BLOB_BYTES,
  MAX_LIST_LIMIT,
  MAX_PAYLOAD_BYTES,
} from "./types.ts";

const U32_MAX = 0xffff_ffff;
/** Longest type id, in UTF-8 bytes. */
export const MAX_TYPE_ID_BYTES = 256;
/** Longest idempotency key, in UTF-8 bytes. */
export const MAX_IDEMPOTENCY_KEY_BYTES = 1024;

const encoder = new TextEncoder();

/** True when `text` is longer than `max` UTF-8 bytes; skips encoding when it cannot be. */
function utf8Over(text: string, max: number): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings need no encoding.
  return text.length * 3 > max && encoder.encode(text).length > max;
}

/** An append request whose every field has been checked. */
export interface ValidAppend {
  /** The context. */
  readonly contextId: string;
  /** The expected head, when the caller gave one. */
  readonly parentTurnId?: string;
  /** Record type id. */
  readonly typeId: string;
  /** Record type version. */
  readonly typeVersion: number;
  /** Payload bytes. */
  readonly payload: Uint8Array;
  /** Idempotency key, when given. */
  readonly idempotencyKey?: string;
  /** Tree root to attach, when given. */
  readonly fsRootHash?: string;
}

/** Checks an append request and returns its fields; throws InvalidInput naming the bad field. */
export function validateAppend(input: AppendTurnInput): ValidAppend {
  if (input === null || typeof input !== "object") {
    throw new InvalidInputError(`appendTurn needs an object, got ${describe(input)}`);
  }
  const contextId = requireId("contextId", input.contextId);
  const parentTurnId = input.parentTurnId === undefined
    ? undefined
    : requireId("parentTurnId", input.parentTurnId);
  const { typeId, typeVersion, payload, idempotencyKey, fsRootHash } = input;
  if (typeof typeId !== "string" || typeId.length === 0) {
    throw new InvalidInputError(
      `typeId must be a non-empty string (context ${contextId}), got ${describe(typeId)}`,
    );
  }
  if (!typeId.isWellFormed()) {
    // A lone surrogate has no UTF-8 form: a durable backend would store U+FFFD
    // and read back another type id than the one given.
    throw new InvalidInputError(
      `typeId ${describe(typeId)} is not valid Unicode (a lone surrogate) (context ${contextId})`,
    );
  }
  if (utf8Over(typeId, MAX_TYPE_ID_BYTES) || hasControlChars(typeId)) {
    throw new InvalidInputError(
      `typeId ${
        describe(typeId)
      } is longer than ${MAX_TYPE_ID_BYTES} bytes or has control characters (context ${contextId})`,
    );
  }
  if (!Number.isInteger(typeVersion) || typeVersion < 1 || typeVersion > U32_MAX) {
    throw new InvalidInputError(
      `typeVersion must be an integer from 1 to ${U32_MAX} (context ${contextId}, type ${typeId}), got ${
        describe(typeVersion)
      }`,
    );
  }
  if (!(payload instanceof Uint8Array)) {
    throw new InvalidInputError(
      `payload must be a Uint8Array (context ${contextId}, type ${typeId}), got ${
        describe(payload)
      }`,
    );
  }
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new InvalidInputError(
      `payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit (context ${contextId}, type ${typeId})`,
    );
  }
  if (idempotencyKey !== undefined) {
    if (typeof idempotencyKey !== "string" || idempotencyKey.length === 0) {
      throw new InvalidInputError(
        `idempotencyKey must be a non-empty string (context ${contextId}), got ${
          describe(idempotencyKey)
        }`,
      );
    }
    if (!idempotencyKey.isWellFormed()) {
      // Stored as UTF-8, two keys that differ only in lone surrogates would
      // both become U+FFFD and name the same turn.
      throw new InvalidInputError(
        `idempotencyKey ${
          describe(idempotencyKey)
        } is not valid Unicode (a lone surrogate) (context ${contextId})`,
      );
    }
    if (utf8Over(idempotencyKey, MAX_IDEMPOTENCY_KEY_BYTES)) {
      throw new InvalidInputError(
        `idempotencyKey is longer than ${MAX_IDEMPOTENCY_KEY_BYTES} bytes (context ${contextId})`,
      );
    }
  }
  return {
    contextId,
    parentTurnId,
    typeId,
    typeVersion,
    payload,
    idempotencyKey,
    fsRootHash: fsRootHash === undefined ? undefined : requireHash("fsRootHash", fsRootHash),
  };
}

/** Checks listTurns options and returns the limit and cursor. */
export function validateList(
  contextId: unknown,
  options: ListTurnsOptions | undefined,
): { contextId: string; beforeTurnId?: string; limit: number } {
  const ctx = requireId("contextId", contextId);
  // As createContext's and listContexts' options: an object or absent, never quietly ignored.
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new InvalidInputError(
      `listTurns options must be an object (context ${ctx}), got ${describe(options)}`,
    );
  }
  const limit = options?.limit === undefined ? DEFAULT_LIST_LIMIT : options.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(
      `limit must be an integer from 1 to ${MAX_LIST_LIMIT} (context ${ctx}), got ${
        describe(limit)
      }`,
    );
  }
  const beforeTurnId = options?.beforeTurnId === undefined
    ? undefined
    : requireId("beforeTurnId", options.beforeTurnId);
  return { contextId: ctx, beforeTurnId, limit };
}

/**
 * Checks createContext's options and returns the base turn (the root for an
 * empty context). Options must be an object or absent; null is InvalidInput
 * on every backend (it was a TypeError on some and ignored on others).
 */
export function validateCreateContext(options: unknown): string {
  if (options === undefined) return ROOT_TURN_ID;
  if (options === null || typeof options !== "object") {
    throw new InvalidInputError(
      `createContext options must be an object, got ${describe(options)}`,
    );
  }
  const base = (options as { baseTurnId?: unknown }).baseTurnId;
  return base === undefined ? ROOT_TURN_ID : requireId("baseTurnId", base);
}

/**
 * Checks a bundle id given to getRegistryBundle: a non-empty string, as every
 * backend requires (some answered "not found" for "" or a number).
 */
export function validateBundleId(bundleId: unknown): string {
  if (typeof bundleId !== "string" || bundleId.length === 0) {
    throw new InvalidInputError(`bundleId must be a non-empty string, got ${describe(bundleId)}`);
  }
  return bundleId;
}

/** Checks a blob's bytes. */
export function validateBlob(bytes: unknown): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidInputError(`blob must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.length > MAX_BLOB_BYTES) {
    throw new InvalidInputError(
      `blob of ${bytes.length} bytes exceeds the ${MAX_BLOB_BYTES}-byte limit`,
    );
  }
  return bytes;
}

/**
 * The fingerprint an idempotency key is bound to: the same key may only ever
 * name the same type, version, bytes and tree root.
 */
export function appendFingerprint(
  a: { typeId: string; typeVersion: number; contentHash: string; fsRootHash?: string },
): string {
  return `${a.typeVersion}|${a.contentHash}|${a.fsRootHash ?? ""}|${a.typeId}`;
}
