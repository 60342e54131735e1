/**
 * Typed records: one zod 4 definition per record type gives its TypeScript
 * type, validation, msgpack encoding keyed by numeric tags, decoding, and its
 * registry bundle.
 *
 * ```ts
 * import { defineRecord, f } from "@forge/turnstore/records";
 * const Note = defineRecord({
 *   typeId: "example.note",
 *   version: 1,
 *   fields: { text: f.string(1), at: f.unixMs(2), tags: f.array(3, "string").optional() },
 * });
 * const bytes = Note.encode({ text: "hi", at: Date.now() });
 * ```
 *
 * @module
 */
export * from "./fields.ts";
export * from "./record.ts";
export * from "./bundle.ts";
export * from "./idempotency.ts";
export { decodeMsgpack } from "./msgpack.ts";
