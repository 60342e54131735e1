/**
 * Every record type the project defines encodes through the one-pass walk
 * exactly as through zod: the same bytes for a valid value, the same error
 * (class, code and message) for a bad one. Values are built from each type's
 * fields, then broken one field at a time in every way a field can be wrong.
 */
import assert from "node:assert/strict";
import { agentCatalog } from "../agent/records.ts";
import { attractorCatalog } from "../attractor/records.ts";
import type { FieldEntry, FieldMeta, RecordType } from "../turnstore/records/mod.ts";
import { assertEncodesAsZod } from "../turnstore/records/test_util.ts";

const HASH = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

/** Strings around every length and alphabet the writer treats apart. */
const STRINGS = [
  "",
  "plain",
  "x".repeat(31),
  "x".repeat(32),
  "x".repeat(255),
  "x".repeat(256),
  "é".repeat(16), // 32 bytes from 16 code units
  "日本語のテキスト",
  "emoji 🦕 pair",
  "a".repeat(100) + "é", // non-ASCII found late in a short string
  "é".repeat(200), // 400 bytes: a str8 guess that needs str16
  "z".repeat(21_845) + "日", // 21,848 bytes, near 3n = 65,535
  "y".repeat(70_000), // str32
  "lone \ud800 surrogate",
  "\udc00",
];

function sampleOf(meta: FieldMeta, variant: number): unknown {
  if (meta.enumType) {
    const labels = Object.keys(meta.enumType.values);
    return labels[variant % labels.length];
  }
  switch (meta.wire) {
    case "ref":
      return valueOf(meta.struct!, variant);
    case "array":
      return meta.struct
        ? [valueOf(meta.struct, variant), valueOf(meta.struct, variant + 1)]
        : [sampleItem(meta.items!, variant), sampleItem(meta.items!, variant + 1)];
    default:
      if (meta.semantic === "id") return ["1", "18446744073709551615", "42"][variant % 3];
      if (meta.semantic === "blake3") return HASH;
      return sampleItem(meta.wire, variant);
  }
}

function sampleItem(wire: string, variant: number): unknown {
  switch (wire) {
    case "string":
      return STRINGS[variant % STRINGS.length];
    case "bool":
      return variant % 2 === 0;
    case "bytes":
      return new Uint8Array(variant % 3 === 0 ? 0 : 40).fill(7);
    case "int32":
      return [-5, 2_000_000_000, -2_147_483_648][variant % 3];
    case "int64":
      return [-(2 ** 53 - 1), 7, 2 ** 40][variant % 3];
    case "u8":
      return [0, 255, 17][variant % 3];
    case "u32":
      return [0, 0xffff_ffff, 70_000][variant % 3];
    default: // u64, unix_ms
      return [0, Number.MAX_SAFE_INTEGER, 1_767_000_000_000][variant % 3];
  }
}

function fieldsOf(type: RecordType): readonly FieldEntry[] {
  return type.fields;
}

/** A valid value of `type`; odd variants leave optional fields out. */
function valueOf(type: RecordType, variant: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fieldsOf(type)) {
    if (field.optional && variant % 2 === 1) continue;
    out[field.name] = sampleOf(field.meta, variant);
  }
  return out;
}

/** Every way one field of a value can be wrong (and a few that are still right). */
function wrongValuesFor(meta: FieldMeta): unknown[] {
  const all: unknown[] = [
    undefined,
    null,
    "text",
    "",
    0,
    -1,
    1.5,
    Number.NaN,
    Infinity,
    2 ** 53,
    256,
    2 ** 32,
    -(2 ** 31) - 1,
    true,
    7n,
    new Uint8Array(3),
    new Uint16Array(2),
    [],
    [1, 2],
    ["a"],
    {},
    { unexpected: 1 },
    "toString",
    "__proto__",
    "01",
    "18446744073709551616",
    "99999999999999999999",
    HASH.toUpperCase(),
    HASH.slice(1),
    new Date(0),
  ];
  if (meta.wire === "array") {
    // deno-lint-ignore no-sparse-arrays
    all.push([, sampleOf({ ...meta, wire: "array" }, 0)], [{}], [null]);
  }
  if (meta.struct) {
    const good = valueOf(meta.struct, 0);
    all.push({ ...good, extra: 1 });
    for (const nested of fieldsOf(meta.struct)) {
      all.push({ ...good, [nested.name]: undefined }, { ...good, [nested.name]: null });
    }
  }
  return all;
}

const assertSame = assertEncodesAsZod;

const TYPES: RecordType[] = [...agentCatalog.types, ...attractorCatalog.types];

Deno.test("the record types under test are the project's agent and pipeline records", () => {
  assert.ok(TYPES.length >= 20, `${TYPES.length} types`);
  assert.ok(TYPES.some((t) => t.typeId === "forge.agent.assistant_turn"));
  assert.ok(TYPES.some((t) => t.typeId === "forge.attractor.checkpoint_saved"));
});

Deno.test("valid values of every record type encode to the bytes the zod path writes", () => {
  let checked = 0;
  for (const type of TYPES) {
    for (let variant = 0; variant < STRINGS.length; variant++) {
      const value = valueOf(type, variant);
      assert.doesNotThrow(() => type.validate(value), `${type.typeId}: sample ${variant} is valid`);
      assertSame(type, value, `valid variant ${variant}`);
      checked++;
    }
  }
  assert.ok(checked > 300);
});

Deno.test("a value wrong in any one field fails through the one-pass walk exactly as through zod", () => {
  let refused = 0;
  for (const type of TYPES) {
    const good = valueOf(type, 0);
    for (const field of fieldsOf(type)) {
      for (const wrong of wrongValuesFor(field.meta)) {
        const value = { ...good, [field.name]: wrong };
        assertSame(type, value, `${field.name} = ${String(wrong)}`);
        try {
          type.validate(value);
        } catch {
          refused++;
        }
      }
      const { [field.name]: _left, ...without } = good;
      assertSame(type, without, `${field.name} missing`);
    }
  }
  assert.ok(refused > 1_000, `${refused} bad values refused`);
});

Deno.test("values that are not plain objects, or carry unknown keys, go to zod and fail alike", () => {
  for (const type of TYPES) {
    const good = valueOf(type, 0);
    class Holder {}
    const instance = Object.assign(new Holder(), good);
    const nullProto = Object.assign(Object.create(null), good);
    const polluted = Object.assign(JSON.parse('{"__proto__":{"x":1}}'), good);
    const withGetter = Object.defineProperty({ ...good }, "extra", {
      get: () => 1,
      enumerable: true,
    });
    const hiddenExtra = Object.defineProperty({ ...good }, "extra", {
      value: 1,
      enumerable: false,
    });
    for (
      const [what, value] of [
        ["an instance of a class", instance],
        ["a null-prototype object", nullProto],
        ["an own __proto__ key", polluted],
        ["an enumerable getter for an unknown key", withGetter],
        ["a non-enumerable unknown key", hiddenExtra],
        ["an array", [good]],
        ["a string", "record"],
        ["null", null],
        ["undefined", undefined],
      ] as const
    ) {
      if (what === "an own __proto__ key") assert.ok(Object.hasOwn(value as object, "__proto__"));
      assertSame(type, value, what);
    }
  }
});
