/**
 * For tests of the one-pass encoder (`one_pass_test.ts`, and
 * tests/record_encoding_test.ts over every project record type): encoding a
 * value through `encode` must do exactly what encoding it through zod does.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RecordType } from "./fields.ts";
import { encodeThroughZod } from "./record.ts";

/** What encoding did: its bytes, or the error's class, code and message. */
function outcome(encode: () => Uint8Array): unknown {
  try {
    return { bytes: [...encode()] };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { error: e.constructor.name, code: e.code, message: e.message };
  }
}

/** Asserts that `type.encode(value)` gives the bytes or the error the zod path gives. */
export function assertEncodesAsZod(type: RecordType, value: unknown, what: string): void {
  assert.deepEqual(
    outcome(() => type.encode(value as never)),
    outcome(() => encodeThroughZod(type, value as never)),
    `${type.typeId} v${type.version}: ${what}`,
  );
}
