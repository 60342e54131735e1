/**
 * The one-pass encoder: checks a record value against its fields and writes
 * it in the same walk, without building zod's parsed copy first.
 *
 * zod stays the definition and the judge. This walk accepts only what the
 * field builders' zod schemas accept (every constraint a field can carry is
 * in its {@link FieldMeta}: the wire family, an integer range, the id and
 * hash patterns, an enum's labels, a nested struct, required or optional, no
 * unknown keys), and it refuses — answers {@link REFUSED} — at the first
 * thing it is not sure of. The caller then runs zod, which names the problem
 * in its own words, or accepts a value this walk was too cautious about. So
 * a value is written only if zod would accept it, and a bad value gets the
 * same error as before. `one_pass_test.ts` holds both to that on every
 * record type the project defines.
 *
 * Why: records are encoded on the caller's thread at every append (an agent
 * session writes two a round), and zod's strict-object parse, which copies
 * the value before msgpack walks it again, was about half of the encoding.
 *
 * @module
 */
import type { FieldEntry, FieldMeta, RecordType } from "./fields.ts";
import type { TaggedWriter } from "./msgpack.ts";

/** What a check answers when it is not sure: the caller asks zod. */
export const REFUSED: unique symbol = Symbol("refused");

/** Writes one checked value, or answers {@link REFUSED} having written part of it. */
export type OnePassWrite = (w: TaggedWriter, value: unknown) => typeof REFUSED | undefined;

const U64_DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const BLAKE3_HEX = /^[0-9a-f]{64}$/;

/**
 * Builds the one-pass writer of a record type's fields (sorted by tag, as
 * the type keeps them). `writerOf` gives a nested struct type's own writer.
 */
export function onePassWriter(
  fields: readonly FieldEntry[],
  writerOf: (type: RecordType) => OnePassWrite,
): OnePassWrite {
  const names: Record<string, true> = Object.create(null);
  for (const field of fields) names[field.name] = true;
  const count = fields.length;
  const writers = fields.map((field) => fieldWriter(field.meta, writerOf));
  const tags = fields.map((field) => field.meta.tag);
  const optional = fields.map((field) => field.optional);
  return (w, value) => {
    if (value === null || typeof value !== "object") return REFUSED;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return REFUSED;
    const record = value as Record<string, unknown>;
    // zod's strict object refuses an unknown key; a for-in over a plain
    // object visits exactly its own enumerable string keys.
    for (const key in record) if (names[key] !== true) return REFUSED;
    // The map header counts the fields present: patched in when it fits one byte.
    const headerAt = count <= 15 ? w.placeholder() : -1;
    let present = 0;
    if (headerAt < 0) {
      for (let i = 0; i < count; i++) if (record[fields[i].name] !== undefined) present++;
      w.mapHeader(present);
    }
    for (let i = 0; i < count; i++) {
      const v = record[fields[i].name];
      if (v === undefined) {
        if (optional[i]) continue;
        return REFUSED;
      }
      if (headerAt >= 0) present++;
      w.tag(tags[i]);
      if (writers[i](w, v) === REFUSED) return REFUSED;
    }
    if (headerAt >= 0) w.patchFixmap(headerAt, present);
    return undefined;
  };
}

function fieldWriter(
  meta: FieldMeta,
  writerOf: (type: RecordType) => OnePassWrite,
): OnePassWrite {
  switch (meta.wire) {
    case "ref": {
      const type = meta.struct!;
      // Resolved on first use: a struct may be compiled after the types naming it.
      let nested: OnePassWrite | undefined;
      return (w, v) => (nested ??= writerOf(type))(w, v);
    }
    case "array": {
      const type = meta.struct;
      let item: OnePassWrite | undefined = type ? undefined : primitiveWriter(meta.items!);
      return (w, v) => {
        if (!Array.isArray(v)) return REFUSED;
        item ??= writerOf(type!);
        w.arrayHeader(v.length);
        for (let i = 0; i < v.length; i++) {
          // A hole is undefined to zod too, which refuses it.
          if (item(w, v[i]) === REFUSED) return REFUSED;
        }
        return undefined;
      };
    }
    default:
      if (meta.enumType) {
        const values = new Map<unknown, number>(Object.entries(meta.enumType.values));
        return (w, v) => {
          const n = values.get(v);
          if (n === undefined) return REFUSED;
          w.uint(n);
          return undefined;
        };
      }
      return primitiveWriter(meta.wire, meta.semantic);
  }
}

/** An integer field between `min` and `max` (zod's `.int()` asks for a safe integer). */
function integerWriter(min: number, max: number): OnePassWrite {
  return (w, v) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) return REFUSED;
    w.int(v);
    return undefined;
  };
}

function primitiveWriter(wire: string, semantic?: string): OnePassWrite {
  switch (wire) {
    case "u8":
      return integerWriter(0, 0xff);
    case "u32":
      return integerWriter(0, 0xffff_ffff);
    case "int32":
      return integerWriter(-0x8000_0000, 0x7fff_ffff);
    case "int64":
      return integerWriter(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    case "unix_ms":
      return integerWriter(0, Number.MAX_SAFE_INTEGER);
    case "u64":
      if (semantic !== "id") return integerWriter(0, Number.MAX_SAFE_INTEGER);
      return (w, v) => {
        if (typeof v !== "string" || !U64_DECIMAL.test(v)) return REFUSED;
        // Twenty digits may exceed 2^64 - 1: w.uint throws its RangeError, as before.
        w.uint(BigInt(v));
        return undefined;
      };
    case "string":
      return (w, v) => {
        if (typeof v !== "string") return REFUSED;
        w.string(v);
        return undefined;
      };
    case "bool":
      return (w, v) => {
        if (typeof v !== "boolean") return REFUSED;
        w.bool(v);
        return undefined;
      };
    case "bytes":
      if (semantic === "blake3") {
        return (w, v) => {
          if (typeof v !== "string" || !BLAKE3_HEX.test(v)) return REFUSED;
          w.value(Uint8Array.fromHex(v));
          return undefined;
        };
      }
      return (w, v) => {
        if (!(v instanceof Uint8Array)) return REFUSED;
        w.value(v);
        return undefined;
      };
    default:
      // A wire type this walk does not know: always ask zod.
      return () => REFUSED;
  }
}
