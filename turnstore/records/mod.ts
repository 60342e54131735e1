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
 * This module loads no backend (no Deno KV, no filesystem log): record
 * definitions import from here, and the store contract they are written to is
 * `@forge/turnstore/contract`.
 *
 * @module
 */
export {
  defineEnum,
  type EnumType,
  f,
  type Field,
  type FieldEntry,
  type FieldMeta,
  type FieldOptions,
  type Fields,
  type FieldValue,
  type ItemValue,
  type ItemWire,
  type OptionalKeys,
  type RecordType,
  type ValueOf,
  type WireType,
} from "./fields.ts";
export {
  defineRecord,
  defineStruct,
  type DefinitionOf,
  type RecordDefinition,
  type RecordValue,
  type Same,
  typedRecord,
} from "./record.ts";
export {
  buildBundle,
  contentAddressedBundle,
  type DecodedRecord,
  RecordCatalog,
} from "./bundle.ts";
export * from "./idempotency.ts";
export { decodeMsgpack } from "./msgpack.ts";
// The registry bundle types the builders above return; they load nothing.
export type { BundleField, BundleTypeVersion, RegistryBundle } from "../registry/bundle.ts";
