/**
 * Every value on the wire has the type its bundle declares, for every value in
 * range: each record of every family (agent and attractor) is filled with the
 * extremes of its fields' ranges (a timestamp of now and of the year 275760,
 * sizes above 4 GiB, the largest u64 id, the smallest int64), encoded, read
 * back with a reader that keeps msgpack's wire families, and projected as
 * strictly as the CXDB server does — where a value of the wrong family shows
 * as null.
 */
import assert from "node:assert/strict";
import { InvalidInputError, type RecordType } from "@forge/turnstore";
import type { FieldEntry, FieldMeta } from "../turnstore/records/mod.ts";
import { CompiledRecordType } from "../turnstore/records/record.ts";
import { AGENT_RECORD_TYPES, agentBundle } from "../agent/records.ts";
import { ATTRACTOR_RECORD_TYPES, attractorBundle } from "../attractor/records.ts";
import { readWireValue, tagOf, type WireValue } from "../cxdb/testing/msgpack_view.ts";
import { bundleLookup, projectPayload } from "../cxdb/testing/projection.ts";

type Extreme = "low" | "high";

function fields(type: RecordType): readonly FieldEntry[] {
  assert.ok(type instanceof CompiledRecordType, `${type.typeId} is a CompiledRecordType`);
  return type.fields;
}

/** A value of a primitive wire type at one end of its range. */
function primitive(wire: string, semantic: string | undefined, end: Extreme): unknown {
  switch (wire) {
    case "u8":
      return end === "high" ? 0xff : 0;
    case "u32":
      return end === "high" ? 0xffff_ffff : 0;
    case "u64":
      if (semantic === "id") return end === "high" ? "18446744073709551615" : "1";
      // A size above 4 GiB, and the largest the TypeScript type holds.
      return end === "high" ? Number.MAX_SAFE_INTEGER : 5 * 2 ** 30;
    case "unix_ms":
      // Now, and the last millisecond a JavaScript Date can hold.
      return end === "high" ? 8_640_000_000_000_000 : Date.now();
    case "int32":
      return end === "high" ? 0x7fff_ffff : -0x8000_0000;
    case "int64":
      return end === "high" ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    case "string":
      return semantic === "json" ? '{"k":[1,2]}' : end === "high" ? "é".repeat(300) : "";
    case "bool":
      return end === "high";
    case "bytes":
      if (semantic === "blake3") return (end === "high" ? "f" : "0").repeat(64);
      return new Uint8Array(end === "high" ? 70_000 : 0).fill(7);
  }
  throw new Error(`no sample for wire type ${wire}`);
}

function sampleField(meta: FieldMeta, end: Extreme): unknown {
  if (meta.enumType) {
    const labels = Object.keys(meta.enumType.values);
    return end === "high" ? labels.at(-1) : labels[0];
  }
  if (meta.wire === "ref") return sample(meta.struct!, end);
  if (meta.wire === "array") {
    return meta.struct
      ? [sample(meta.struct, end), sample(meta.struct, end)]
      : [primitive(meta.items!, meta.itemSemantic, end)];
  }
  return primitive(meta.wire, meta.semantic, end);
}

/** A value of `type` with every field, optional ones included, at one end of its range. */
function sample(type: RecordType, end: Extreme): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(type)) out[f.name] = sampleField(f.meta, end);
  return out;
}

const UNSIGNED = new Set(["u8", "u32", "u64", "unix_ms"]);

/** Checks that each field of `value` has the msgpack family its declared type names. */
function checkFamilies(type: RecordType, value: WireValue, where: string): number {
  assert.equal(value.kind, "map", `${where} is a map`);
  if (value.kind !== "map") return 0;
  const byTag = new Map(value.entries.map(([k, v]) => [tagOf(k), v]));
  let checked = 0;
  for (const f of fields(type)) {
    const v = byTag.get(BigInt(f.meta.tag));
    assert.ok(v, `${where}.${f.name} (tag ${f.meta.tag}) is on the wire`);
    checked += checkOne(f.meta, f.meta.wire, v!, `${where}.${f.name}`);
  }
  return checked;
}

function checkOne(meta: FieldMeta, wire: string, v: WireValue, where: string): number {
  if (wire === "ref") return checkFamilies(meta.struct!, v, where);
  if (wire === "array") {
    assert.equal(v.kind, "array", `${where} is an array`);
    if (v.kind !== "array") return 0;
    let n = 0;
    v.items.forEach((item, i) => {
      n += meta.struct
        ? checkFamilies(meta.struct, item, `${where}[${i}]`)
        : checkOne({ ...meta, struct: undefined }, meta.items!, item, `${where}[${i}]`);
    });
    return n;
  }
  const expected = UNSIGNED.has(wire)
    ? ["uint"]
    : wire === "int32" || wire === "int64"
    ? ["uint", "int"]
    : wire === "string"
    ? ["str"]
    : wire === "bool"
    ? ["bool"]
    : wire === "bytes"
    ? ["bin"]
    : [];
  assert.ok(
    expected.includes(v.kind),
    `${where}: declared ${wire}, written as msgpack ${v.kind}${
      "code" in v ? ` (0x${v.code.toString(16)})` : ""
    }`,
  );
  return 1;
}

/** True when no projected field anywhere is null. */
function nulls(value: unknown, where: string, out: string[] = []): string[] {
  if (value === null) out.push(where);
  else if (Array.isArray(value)) value.forEach((v, i) => nulls(v, `${where}[${i}]`, out));
  else if (typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      nulls(v, `${where}.${k}`, out);
    }
  }
  return out;
}

const families = [
  { name: "agent", types: AGENT_RECORD_TYPES, bundle: agentBundle },
  { name: "attractor", types: ATTRACTOR_RECORD_TYPES, bundle: attractorBundle },
];

for (const family of families) {
  const lookup = bundleLookup([family.bundle]);
  for (const end of ["low", "high"] as const) {
    Deno.test(`every ${family.name} record's fields go out as their declared wire type (${end} end of each range)`, () => {
      assert.ok(family.types.length > 0);
      let checked = 0;
      for (const type of family.types) {
        const record = type as CompiledRecordType<never>;
        const bytes = record.encode(sample(type, end) as never);
        checked += checkFamilies(type, readWireValue(bytes), `${type.typeId} v${type.version}`);
        const projected = projectPayload(
          bytes,
          type.typeId,
          type.version,
          new URLSearchParams(),
          lookup,
        );
        assert.deepEqual(
          nulls(projected, type.typeId),
          [],
          `${type.typeId}: a strict typed view shows every field`,
        );
      }
      assert.ok(checked >= family.types.length * 2, `${checked} fields checked`);
    });
  }
}

Deno.test("a unix_ms timestamp is a msgpack uint64 (0xcf), never a float64 (0xcb)", () => {
  const type = AGENT_RECORD_TYPES.find((t) =>
    fields(t).some((f) => f.meta.wire === "unix_ms")
  ) as CompiledRecordType<never>;
  const at = fields(type).find((f) => f.meta.wire === "unix_ms")!;
  const value = { ...sample(type, "low"), [at.name]: 1_764_547_200_000 };
  const wire = readWireValue(type.encode(value as never));
  assert.equal(wire.kind, "map");
  const v =
    (wire.kind === "map" ? wire.entries : []).find(([k]) => tagOf(k) === BigInt(at.meta.tag))![1];
  assert.deepEqual(v, { kind: "uint", value: 1_764_547_200_000n, code: 0xcf });
});

Deno.test("the strict typed view shows a float where unix_ms or u64 is declared as null, as the server does", () => {
  const bundle = bundleLookup([{
    registry_version: 1,
    bundle_id: "t",
    types: {
      "t.x": {
        versions: {
          "1": {
            fields: {
              "1": { name: "at", type: "unix_ms" },
              "2": { name: "size", type: "u64" },
              "3": { name: "n", type: "u32" },
              "4": { name: "s", type: "string" },
            },
          },
        },
      },
    },
    enums: {},
  } as never]);
  // {1: 1.7e12 as float64, 2: 5 GiB as float64, 3: "7", 4: 7}
  const bytes = Uint8Array.of(
    0x84,
    0x01,
    0xcb,
    ...new Uint8Array(new Float64Array([1_764_547_200_000]).buffer).reverse(),
    0x02,
    0xcb,
    ...new Uint8Array(new Float64Array([5 * 2 ** 30]).buffer).reverse(),
    0x03,
    0xa1,
    0x37,
    0x04,
    0x07,
  );
  assert.deepEqual(projectPayload(bytes, "t.x", 1, new URLSearchParams(), bundle), {
    at: null,
    size: null,
    n: null,
    s: null,
  });
});

Deno.test("the encoder refuses a value outside its declared type instead of writing another family", () => {
  const type = AGENT_RECORD_TYPES.find((t) =>
    fields(t).some((f) => f.meta.wire === "unix_ms")
  ) as CompiledRecordType<never>;
  const at = fields(type).find((f) => f.meta.wire === "unix_ms")!;
  for (const bad of [1.5, -1, 2 ** 53, Number.NaN]) {
    assert.throws(
      () => type.encode({ ...sample(type, "low"), [at.name]: bad } as never),
      InvalidInputError,
      `${at.name} = ${bad}`,
    );
  }
});
