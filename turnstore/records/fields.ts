/**
 * Field builders for typed records. Each builder returns a zod 4 schema that
 * carries, in the {@link fieldMeta} registry, the field's numeric tag, its
 * wire type and its semantic hint. A record definition is a plain object of
 * these, and everything else (TypeScript types, validation, msgpack encoding,
 * decoding, registry bundles) is derived from it.
 *
 * @module
 */
import { z } from "zod";

/** Wire types a field can have; the names CXDB's registry understands. */
export type WireType =
  | "u8"
  | "u32"
  | "u64"
  | "int32"
  | "int64"
  | "string"
  | "bool"
  | "bytes"
  | "unix_ms"
  | "array"
  | "ref";

/** Primitive wire types that may be the items of an array. */
export type ItemWire = Exclude<WireType, "array" | "ref">;

/** An enum: labels in TypeScript, integers on the wire. */
export interface EnumType<L extends string = string> {
  /** Registry name of the enum, e.g. "forge.agent.LifecycleKind". */
  readonly name: string;
  /** Label → wire value. */
  readonly values: Readonly<Record<L, number>>;
  /** Wire value → label. */
  readonly labels: ReadonlyMap<number, L>;
}

/** Defines an enum from label → integer value (0 to 2^32-1). */
export function defineEnum<const L extends string>(
  name: string,
  values: Record<L, number>,
): EnumType<L> {
  const labels = new Map<number, L>();
  for (const [label, value] of Object.entries(values) as [L, number][]) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new TypeError(`enum ${name}: ${label} = ${value} is not a u32`);
    }
    if (labels.has(value)) throw new TypeError(`enum ${name}: value ${value} is used twice`);
    labels.set(value, label);
  }
  return { name, values, labels };
}

/** A compiled field: its TypeScript name and registry facts. */
export interface FieldEntry {
  /** TypeScript property name. */
  readonly name: string;
  /** Name shown in the registry bundle (snake_case of the property name). */
  readonly wireName: string;
  /** The field's registry facts. */
  readonly meta: FieldMeta;
  /** True when the field may be absent. */
  readonly optional: boolean;
}

/**
 * A record type: a shape of tagged fields with a registry type id and
 * version, which validates, encodes to a msgpack map keyed by tags, and
 * decodes. A record type is appended as a turn, or nested in another one
 * (`f.struct`; `defineStruct` makes one for nesting only). `V` is its value
 * type. Every record type is made by `defineRecord`, `typedRecord` or
 * `defineStruct`.
 */
export interface RecordType<V = unknown> {
  /** Registry type id, e.g. "forge.agent.user_turn". */
  readonly typeId: string;
  /** Registry version of this shape. */
  readonly version: number;
  /** Compiled fields in tag order. */
  readonly fields: readonly FieldEntry[];
  /** Description. */
  readonly doc?: string;
  /** Never set: carries the value type for inference. */
  readonly valueType?: V;
  /** Checks a value; throws InvalidInput naming the record type, version and field. */
  validate(value: unknown): V;
  /** Validates and encodes a value as a msgpack map keyed by tags. */
  encode(value: V): Uint8Array;
  /** Decodes and validates msgpack bytes (integer or digit-string keys). */
  decode(bytes: Uint8Array): V;
}

const structSchemas = new WeakMap<RecordType, () => unknown>();

/** Lets a struct be nested by `f.struct`: registers how to build a fresh schema of it. */
export function registerStructSchema(type: RecordType, factory: () => unknown): void {
  structSchemas.set(type, factory);
}

function schemaOf(type: RecordType): z.ZodType {
  const make = structSchemas.get(type);
  if (!make) throw new TypeError(`${type.typeId} is not a struct built with defineStruct`);
  return make() as z.ZodType; // fresh, so each use can carry its own tag
}

/** What the registry knows of one field. */
export interface FieldMeta {
  /** Numeric tag, the map key on the wire. */
  readonly tag: number;
  /** Wire type. */
  readonly wire: WireType;
  /** Meaning beyond the wire type: "unix_ms", "duration_ms", "id", "json", "hash", ... */
  readonly semantic?: string;
  /** Enum of an integer field. */
  readonly enumType?: EnumType;
  /** Nested struct of a ref field, or of an array's items. */
  readonly struct?: RecordType;
  /** Primitive item type of an array field. */
  readonly items?: ItemWire;
  /** Item semantic of an array of primitives. */
  readonly itemSemantic?: string;
  /** A short description, carried into the registry bundle. */
  readonly doc?: string;
  /** The field's name in the registry bundle, when it is not the snake_case of its property. */
  readonly wireName?: string;
}

const metas = new WeakMap<z.ZodType, FieldMeta>();

/**
 * The registry that attaches {@link FieldMeta} to field schemas. It is keyed
 * by schema instance, like a zod registry, and holds values zod's registry
 * types cannot (enum maps, struct definitions).
 */
export const fieldMeta: { get(schema: unknown): FieldMeta | undefined } = {
  get: (schema) => metas.get(schema as z.ZodType),
};

/** Optional extras of a field. */
export interface FieldOptions {
  /** A short description, carried into the registry bundle. */
  readonly doc?: string;
  /** A semantic hint beyond the wire type. */
  readonly semantic?: string;
  /**
   * The name in the registry bundle, when it is not the snake_case of the
   * property: a published (type id, version) keeps its bundle byte for byte,
   * so a property renamed in TypeScript keeps its published name here.
   */
  readonly wireName?: string;
}

/**
 * A field built with `f`: a zod 4 schema carrying a tag. Only its value type
 * `T` is part of the public API (through the Standard Schema marker every
 * zod 4 schema has), so users never depend on zod's internal types.
 */
export interface Field<T> {
  /** The Standard Schema marker; its `types.output` is the field's value type. */
  readonly "~standard": {
    readonly types?: { readonly input: unknown; readonly output: T } | undefined;
  };
  /** The same field, optional: absent from the map when undefined. */
  optional(): Field<T | undefined>;
}

/** The fields of a record or struct, by TypeScript property name. */
export type Fields = { readonly [name: string]: Field<unknown> };

/** The value type of a field. */
export type FieldValue<F> = F extends Field<infer T> ? T : never;

/** The names of the optional fields of `S`. */
export type OptionalKeys<S extends Fields> = {
  [K in keyof S]: undefined extends FieldValue<S[K]> ? K : never;
}[keyof S];

/** The value type of a record or struct with fields `S` (optional fields become `?:`). */
export type ValueOf<S extends Fields> =
  & { [K in Exclude<keyof S, OptionalKeys<S>>]: FieldValue<S[K]> }
  & { [K in OptionalKeys<S>]?: Exclude<FieldValue<S[K]>, undefined> };

const U64_DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

function tagged<S extends z.ZodType>(schema: S, meta: FieldMeta): S {
  if (!Number.isInteger(meta.tag) || meta.tag < 1 || meta.tag > 0xffff_ffff) {
    throw new TypeError(`field tag ${meta.tag} must be an integer from 1 to 2^32-1`);
  }
  metas.set(schema, meta);
  return schema;
}

function itemSchema(wire: ItemWire): z.ZodType {
  return primitive(wire, undefined);
}

function primitive(wire: ItemWire, semantic: string | undefined): z.ZodType {
  switch (wire) {
    case "u8":
      return z.number().int().min(0).max(0xff);
    case "u32":
      return z.number().int().min(0).max(0xffff_ffff);
    case "int32":
      return z.number().int().min(-0x8000_0000).max(0x7fff_ffff);
    case "u64":
      return semantic === "id"
        ? z.string().regex(U64_DECIMAL, "expected a decimal u64 string")
        : z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
    case "int64":
      return z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
    case "unix_ms":
      return z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
    case "string":
      return z.string();
    case "bool":
      return z.boolean();
    case "bytes":
      return z.instanceof(Uint8Array);
  }
}

/**
 * The field builders. Each takes the field's tag first; `.optional()` on the
 * result makes the field optional.
 */
export const f = {
  /** UTF-8 string. */
  string: (tag: number, o: FieldOptions = {}) =>
    tagged(z.string(), { tag, wire: "string", ...o }) as unknown as Field<string>,
  /** A string holding JSON text (tool arguments, structured output). */
  json: (tag: number, o: FieldOptions = {}) =>
    tagged(z.string(), { tag, wire: "string", semantic: "json", ...o }) as unknown as Field<string>,
  /** Boolean. */
  bool: (tag: number, o: FieldOptions = {}) =>
    tagged(z.boolean(), { tag, wire: "bool", ...o }) as unknown as Field<boolean>,
  /** Unsigned 8-bit integer. */
  u8: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("u8", undefined), { tag, wire: "u8", ...o }) as unknown as Field<number>,
  /** Unsigned 32-bit integer. */
  u32: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("u32", undefined), { tag, wire: "u32", ...o }) as unknown as Field<number>,
  /** Signed 32-bit integer. */
  int32: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("int32", undefined), { tag, wire: "int32", ...o }) as unknown as Field<number>,
  /** Unsigned 64-bit integer held as a safe JavaScript integer (counts, sizes). */
  u64: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("u64", undefined), { tag, wire: "u64", ...o }) as unknown as Field<number>,
  /** Signed 64-bit integer held as a safe JavaScript integer. */
  int64: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("int64", undefined), { tag, wire: "int64", ...o }) as unknown as Field<number>,
  /** A store id (context or turn): a decimal string in TypeScript, a u64 on the wire. */
  id: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("u64", "id"), { tag, wire: "u64", semantic: "id", ...o }) as unknown as Field<
      string
    >,
  /** Milliseconds since the Unix epoch; readers render it as a time. */
  unixMs: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("unix_ms", undefined), {
      tag,
      wire: "unix_ms",
      semantic: "unix_ms",
      ...o,
    }) as unknown as Field<number>,
  /** A duration in milliseconds. */
  durationMs: (tag: number, o: FieldOptions = {}) =>
    tagged(primitive("u64", undefined), {
      tag,
      wire: "u64",
      semantic: "duration_ms",
      ...o,
    }) as unknown as Field<number>,
  /** Raw bytes. */
  bytes: (tag: number, o: FieldOptions = {}) =>
    tagged(z.instanceof(Uint8Array), { tag, wire: "bytes", ...o }) as unknown as Field<Uint8Array>,
  /** A BLAKE3-256 hash as 64 lowercase hex characters, 32 bytes on the wire. */
  hash: (tag: number, o: FieldOptions = {}) =>
    tagged(z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex characters"), {
      tag,
      wire: "bytes",
      semantic: "blake3",
      ...o,
    }) as unknown as Field<string>,
  /** An enum: a label in TypeScript, an integer (u8 when it fits) on the wire. */
  enum: <L extends string>(
    tag: number,
    type: EnumType<L>,
    o: FieldOptions = {},
  ): Field<L> => {
    const labels = Object.keys(type.values) as [L, ...L[]];
    const wire: WireType = Math.max(...Object.values<number>(type.values)) <= 0xff ? "u8" : "u32";
    return tagged(z.enum(labels), {
      tag,
      wire,
      enumType: type as EnumType,
      ...o,
    }) as unknown as Field<
      L
    >;
  },
  /** A nested struct (a map with its own tags). */
  struct: <V>(tag: number, type: RecordType<V>, o: FieldOptions = {}): Field<V> =>
    tagged(schemaOf(type), { tag, wire: "ref", struct: type, ...o }) as unknown as Field<V>,
  /** An array of nested structs. */
  structs: <V>(tag: number, type: RecordType<V>, o: FieldOptions = {}): Field<V[]> =>
    tagged(z.array(schemaOf(type)), { tag, wire: "array", struct: type, ...o }) as unknown as Field<
      V[]
    >,
  /** An array of primitives of one wire type. */
  array: <W extends ItemWire>(tag: number, items: W, o: FieldOptions = {}): Field<ItemValue<W>[]> =>
    tagged(z.array(itemSchema(items)), {
      tag,
      wire: "array",
      items,
      itemSemantic: undefined,
      ...o,
    }) as unknown as Field<ItemValue<W>[]>,
} as const;

/** TypeScript type of an array item of wire type `W`. */
export type ItemValue<W extends ItemWire> = W extends "string" ? string
  : W extends "bool" ? boolean
  : W extends "bytes" ? Uint8Array
  : number;

/** The {@link FieldMeta} of a field schema (looking through `.optional()`). */
export function metaOf(schema: unknown): { meta: FieldMeta; optional: boolean } | undefined {
  let optional = false;
  let s = schema as z.ZodType;
  if (s instanceof z.ZodOptional) {
    optional = true;
    s = s.unwrap() as z.ZodType;
  }
  const meta = fieldMeta.get(s);
  return meta ? { meta, optional } : undefined;
}
