/**
 * Record types: a shape of tagged fields with an id and a version, appended
 * as a turn or nested in another record type. They encode to msgpack maps
 * keyed by numeric tags.
 *
 * @module
 */
import { z } from "zod";
import { InvalidInputError } from "../core/errors.ts";
import {
  type FieldEntry,
  type FieldMeta,
  type Fields,
  metaOf,
  type RecordType,
  registerStructSchema,
  type ValueOf,
} from "./fields.ts";
import { decodeMsgpack, TaggedWriter } from "./msgpack.ts";
import { type OnePassWrite, onePassWriter, REFUSED } from "./one_pass.ts";

/** What `defineRecord`, `defineStruct` and `typedRecord` take. */
export interface RecordDefinition<Shape extends Fields> {
  /** Registry type id, e.g. "forge.agent.user_turn". */
  readonly typeId: string;
  /** Version of this shape, 1 or more (default 1). */
  readonly version?: number;
  /** Fields by TypeScript name, each built with `f`. */
  readonly fields: Shape;
  /** A short description. */
  readonly doc?: string;
}

const sharedWriter = new TaggedWriter(new Uint8Array(4096));
let sharedWriterBusy = false;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The one implementation of {@link RecordType}: a definition compiled once. Internal. */
export class CompiledRecordType<Shape extends Fields> implements RecordType<ValueOf<Shape>> {
  /** Registry type id. */
  readonly typeId: string;
  /** Version of this shape. */
  readonly version: number;
  /** Compiled fields in tag order. */
  readonly fields: readonly FieldEntry[];
  /** Description. */
  readonly doc?: string;
  /** Never set: carries the value type for inference. */
  declare readonly valueType?: ValueOf<Shape>;
  readonly #shape: z.ZodRawShape;
  readonly #schema: z.ZodType;
  /**
   * Checks and writes a value in one walk; refuses what it is unsure of
   * (then zod decides). Internal: types that nest this one call it too.
   */
  readonly onePass: OnePassWrite;

  /** Compiles a definition; throws TypeError for untagged fields or a tag used twice. */
  constructor(def: RecordDefinition<Shape>) {
    this.typeId = def.typeId;
    this.version = def.version ?? 1;
    this.doc = def.doc;
    if (!Number.isInteger(this.version) || this.version < 1) {
      throw new TypeError(`${def.typeId}: version must be an integer of 1 or more`);
    }
    this.#shape = def.fields as unknown as z.ZodRawShape;
    this.#schema = z.strictObject(this.#shape);
    const seen = new Map<number, string>();
    const fields: FieldEntry[] = [];
    for (const [name, schema] of Object.entries(def.fields)) {
      const found = metaOf(schema);
      if (!found) throw new TypeError(`${def.typeId}.${name} has no tag: build it with f.*`);
      const prior = seen.get(found.meta.tag);
      if (prior) {
        throw new TypeError(`${def.typeId}: tag ${found.meta.tag} used by ${prior} and ${name}`);
      }
      seen.set(found.meta.tag, name);
      fields.push({
        name,
        wireName: found.meta.wireName ?? snake(name),
        meta: found.meta,
        optional: found.optional,
      });
    }
    this.fields = fields.sort((a, b) => a.meta.tag - b.meta.tag);
    this.onePass = onePassWriter(this.fields, onePassOf);
    // Nesting builds a fresh object schema, so each use can carry its own tag.
    registerStructSchema(this, () => z.strictObject(this.#shape));
  }

  /** Checks `value` against the shape; throws InvalidInput naming the field. */
  validate(value: unknown): ValueOf<Shape> {
    const result = this.#schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = issue.path.length ? issue.path.join(".") : "(record)";
      throw new InvalidInputError(`${this.typeId} v${this.version}: ${path}: ${issue.message}`);
    }
    return result.data as ValueOf<Shape>;
  }

  /**
   * Validates and encodes `value` as a msgpack map keyed by field tags. The
   * one-pass walk writes a value it can vouch for; anything else is judged
   * by zod (which names what is wrong) and, if valid, written from zod's copy.
   */
  encode(value: ValueOf<Shape>): Uint8Array {
    // Encoding is synchronous, so one shared writer serves every call; a
    // call that finds it busy (it cannot happen today) takes its own.
    const writer = sharedWriterBusy ? new TaggedWriter() : sharedWriter;
    const shared = writer === sharedWriter;
    if (shared) sharedWriterBusy = true;
    try {
      writer.reset();
      if (this.onePass(writer, value) !== REFUSED) return writer.finish();
      const valid = this.validate(value) as Record<string, unknown>;
      writer.reset();
      writeStruct(writer, this, valid);
      return writer.finish();
    } finally {
      if (shared) sharedWriterBusy = false;
    }
  }

  /** Decodes msgpack bytes (integer or digit-string keys) and validates the result. */
  decode(bytes: Uint8Array): ValueOf<Shape> {
    let raw: unknown;
    try {
      raw = decodeMsgpack(bytes);
    } catch (error) {
      throw new InvalidInputError(
        `${this.typeId} v${this.version}: payload is not msgpack (${(error as Error).message})`,
        { cause: error },
      );
    }
    return this.validate(readStruct(this, raw, this.typeId));
  }
}

/**
 * Encodes `value` the way `encode` did before the one-pass walk: zod checks
 * and copies it, then the copy is written. The reference the walk is held to
 * in tests; not for use elsewhere.
 */
export function encodeThroughZod<V>(type: RecordType<V>, value: V): Uint8Array {
  const valid = type.validate(value) as Record<string, unknown>;
  const writer = new TaggedWriter();
  writeStruct(writer, type, valid);
  return writer.finish();
}

/** Defines a record type meant for nesting in others (`f.struct`), version 1 by default. */
export function defineStruct<Shape extends Fields>(
  def: RecordDefinition<Shape>,
): RecordType<ValueOf<Shape>> {
  return new CompiledRecordType(def);
}

/** Defines a record type; its value type is inferred from the fields. */
export function defineRecord<Shape extends Fields>(
  def: RecordDefinition<Shape>,
): RecordType<ValueOf<Shape>> {
  return new CompiledRecordType(def);
}

/** The TypeScript value type of a record type. */
export type RecordValue<T> = T extends RecordType<infer V> ? V : never;

/** A nested struct type's own one-pass walk. */
function onePassOf(type: RecordType): OnePassWrite {
  if (type instanceof CompiledRecordType) return type.onePass;
  throw new TypeError(`${type.typeId} was not made by defineRecord, typedRecord or defineStruct`);
}

function compiled(type: RecordType): readonly FieldEntry[] {
  if (type instanceof CompiledRecordType) return type.fields;
  throw new TypeError(`${type.typeId} was not made by defineRecord, typedRecord or defineStruct`);
}

function writeStruct(w: TaggedWriter, type: RecordType, value: Record<string, unknown>): void {
  const fields = compiled(type);
  let present = 0;
  for (const field of fields) if (value[field.name] !== undefined) present++;
  w.mapHeader(present);
  for (const field of fields) {
    const v = value[field.name];
    if (v === undefined) continue;
    w.tag(field.meta.tag);
    writeField(w, field.meta, v);
  }
}

function writeField(w: TaggedWriter, meta: FieldMeta, value: unknown): void {
  switch (meta.wire) {
    case "ref":
      return writeStruct(w, meta.struct!, value as Record<string, unknown>);
    case "array": {
      const items = value as unknown[];
      w.arrayHeader(items.length);
      for (const item of items) {
        if (meta.struct) writeStruct(w, meta.struct, item as Record<string, unknown>);
        else writePrimitive(w, meta.items!, undefined, item);
      }
      return;
    }
    default:
      return writePrimitive(
        w,
        meta.wire,
        meta.semantic,
        meta.enumType ? meta.enumType.values[value as string] : value,
      );
  }
}

/** Refuses a value of the wrong family for a `wire` field (a function of its own: no closure per field). */
function wrong(wire: string, what: string): never {
  throw new InvalidInputError(
    `a ${wire} field cannot carry ${what}: it would not have the type its bundle declares`,
  );
}

/**
 * Writes one value as the msgpack family its declared wire type names, and
 * refuses a value of another family: a reader that trusts the bundle (the
 * CXDB server's typed view does) shows anything else as null.
 */
function writePrimitive(
  w: TaggedWriter,
  wire: string,
  semantic: string | undefined,
  value: unknown,
): void {
  switch (wire) {
    case "u8":
    case "u32":
    case "u64":
    case "unix_ms": {
      if (typeof value === "number") {
        const max = wire === "u8" ? 0xff : wire === "u32" ? 0xffff_ffff : Number.MAX_SAFE_INTEGER;
        if (!Number.isSafeInteger(value) || value < 0 || value > max) {
          return wrong(wire, `${value} (not an integer from 0 to ${max})`);
        }
        return w.uint(value);
      }
      // Ids are decimal strings (validated as u64); w.uint checks the range.
      if (semantic === "id" && typeof value === "string") return w.uint(BigInt(value));
      if (typeof value === "bigint" && wire === "u64") return w.uint(value);
      return wrong(wire, `${typeof value} ${String(value)}`);
    }
    case "int32":
    case "int64":
      if (!(typeof value === "number" && Number.isSafeInteger(value))) {
        return wrong(wire, `${typeof value} ${String(value)}`);
      }
      if (wire === "int32" && (value < -0x8000_0000 || value > 0x7fff_ffff)) {
        return wrong(wire, `${value} (out of range)`);
      }
      return w.int(value);
    case "string":
      return typeof value === "string" ? w.value(value) : wrong(wire, typeof value);
    case "bool":
      return typeof value === "boolean" ? w.bool(value) : wrong(wire, typeof value);
    case "bytes":
      if (semantic === "blake3") {
        return typeof value === "string" ? w.value(hexToBytes(value)) : wrong(wire, typeof value);
      }
      return value instanceof Uint8Array ? w.value(value) : wrong(wire, typeof value);
    default:
      return w.value(value);
  }
}

// The built-in hex codecs (ES2026): ~3x faster than a loop of parseInt /
// toString per byte, and a checkpoint record carries three hashes.
function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

function bytesToHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

function bad(where: string, message: string): never {
  throw new InvalidInputError(`${where}: ${message}`);
}

function readStruct(type: RecordType, raw: unknown, where: string): Record<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || raw instanceof Uint8Array) {
    bad(where, `expected a map, got ${Array.isArray(raw) ? "an array" : typeof raw}`);
  }
  const map = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of compiled(type)) {
    const v = map[String(field.meta.tag)];
    if (v === undefined || v === null) continue; // missing required fields fail validation
    out[field.name] = readField(field.meta, v, `${where}.${field.name}`);
  }
  return out;
}

function toSafeNumber(v: unknown, where: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      bad(where, `integer ${v} is outside the safe range`);
    }
    return Number(v);
  }
  return bad(where, `expected an integer, got ${typeof v}`);
}

function readField(meta: FieldMeta, v: unknown, where: string): unknown {
  switch (meta.wire) {
    case "ref":
      return readStruct(meta.struct!, v, where);
    case "array":
      if (!Array.isArray(v)) bad(where, `expected an array, got ${typeof v}`);
      return (v as unknown[]).map((item, i) =>
        meta.struct
          ? readStruct(meta.struct, item, `${where}[${i}]`)
          : readPrimitive(meta.items!, undefined, item, `${where}[${i}]`)
      );
    default:
      if (meta.enumType) {
        const label = meta.enumType.labels.get(toSafeNumber(v, where));
        return label ?? bad(where, `${String(v)} is not a value of enum ${meta.enumType.name}`);
      }
      return readPrimitive(meta.wire, meta.semantic, v, where);
  }
}

function readPrimitive(wire: string, semantic: string | undefined, v: unknown, where: string) {
  switch (wire) {
    case "u64":
      if (semantic === "id") {
        if (typeof v === "string") return v;
        if (typeof v === "number" || typeof v === "bigint") return BigInt(v).toString();
        return bad(where, `expected an id, got ${typeof v}`);
      }
      return toSafeNumber(v, where);
    case "u8":
    case "u32":
    case "int32":
    case "int64":
    case "unix_ms":
      return toSafeNumber(v, where);
    case "bytes":
      if (!(v instanceof Uint8Array)) return bad(where, `expected bytes, got ${typeof v}`);
      return semantic === "blake3" ? bytesToHex(v) : v;
    default:
      return v;
  }
}

/** True when A and B are mutually assignable. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** What a definition must be for {@link typedRecord}: its inferred value must equal `V`. */
export type DefinitionOf<V, Shape extends Fields> =
  & RecordDefinition<Shape>
  & (Same<ValueOf<Shape>, V> extends true ? unknown
    : { "the fields do not match the declared value type": ValueOf<Shape> });

/**
 * Defines a record whose value type is declared as an interface `V`; the
 * compiler rejects the definition unless its fields infer exactly `V`.
 *
 * ```ts
 * interface Note { text: string; at: number }
 * export const Note: RecordType<Note> = typedRecord<Note>()({
 *   typeId: "example.note",
 *   fields: { text: f.string(1), at: f.unixMs(2) },
 * });
 * ```
 */
export function typedRecord<V>(): <Shape extends Fields>(
  def: DefinitionOf<V, Shape>,
) => RecordType<V> {
  return (def) => new CompiledRecordType(def) as unknown as RecordType<V>;
}
