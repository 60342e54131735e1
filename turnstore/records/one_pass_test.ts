import assert from "node:assert/strict";
import { Encoder } from "@msgpack/msgpack";
import { defineEnum, defineRecord, defineStruct, f } from "./mod.ts";
import { assertEncodesAsZod } from "./test_util.ts";
import { TaggedWriter } from "./msgpack.ts";

const Color = defineEnum("test.Color", { red: 1, green: 2, blue: 300 });
const Inner = defineStruct({
  typeId: "test.Inner",
  fields: { name: f.string(1), size: f.u32(2).optional() },
});
/** One field of every kind a record can have. */
const Everything = defineRecord({
  typeId: "test.everything",
  fields: {
    s: f.string(1),
    j: f.json(2).optional(),
    b: f.bool(3),
    u8: f.u8(4),
    u32: f.u32(5),
    i32: f.int32(6),
    u64: f.u64(7),
    i64: f.int64(8),
    id: f.id(9),
    at: f.unixMs(10),
    ms: f.durationMs(11).optional(),
    raw: f.bytes(12),
    hash: f.hash(13).optional(),
    color: f.enum(14, Color),
    inner: f.struct(15, Inner),
    inners: f.structs(16, Inner),
    words: f.array(17, "string"),
    flags: f.array(18, "bool").optional(),
    nums: f.array(19, "u32").optional(),
  },
});
/** More than fifteen fields: its map header cannot be patched in one byte. */
const Wide = defineRecord({
  typeId: "test.wide",
  fields: Object.fromEntries(
    Array.from({ length: 18 }, (_, i) => [`f${i}`, i % 2 ? f.u32(i + 1).optional() : f.u32(i + 1)]),
  ),
});

const good = {
  s: "hello",
  b: true,
  u8: 255,
  u32: 0xffff_ffff,
  i32: -2_147_483_648,
  u64: Number.MAX_SAFE_INTEGER,
  i64: -(2 ** 40),
  id: "18446744073709551615",
  at: 1_767_000_000_000,
  raw: new Uint8Array([1, 2, 3]),
  color: "blue" as const,
  inner: { name: "a" },
  inners: [{ name: "b", size: 3 }, { name: "ü" }],
  words: ["x", "y"],
};

const same = assertEncodesAsZod;

Deno.test("the one-pass walk writes the bytes zod's checked copy gives, with and without optional fields", () => {
  same(Everything, good, "required fields only");
  same(Everything, {
    ...good,
    j: "{}",
    ms: 5,
    hash: "ab".repeat(32),
    flags: [true],
    nums: [7, 70_000],
  }, "every field");
  same(Everything, { ...good, j: undefined, hash: undefined }, "optional fields set to undefined");
  const wide = Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`f${i}`, i * 1000]));
  same(Wide, wide, "a map of 18 entries");
  const { f1: _a, f3: _b, ...fewer } = wide;
  same(Wide, fewer, "a map of 16 entries");
  assert.equal(Wide.encode(fewer as never)[0], 0xde, "a map16 header for 16 entries");
});

Deno.test("a bad value fails through the walk with zod's error, whatever is wrong", () => {
  const cases: [string, unknown][] = [
    ["u8 above 255", { ...good, u8: 256 }],
    ["u32 fraction", { ...good, u32: 1.5 }],
    ["int32 below range", { ...good, i32: -2_147_483_649 }],
    ["u64 unsafe", { ...good, u64: 2 ** 53 }],
    ["int64 NaN", { ...good, i64: Number.NaN }],
    ["id with a leading zero", { ...good, id: "042" }],
    ["id as a number", { ...good, id: 42 }],
    ["at negative", { ...good, at: -1 }],
    ["raw as an array", { ...good, raw: [1, 2] }],
    ["hash in capitals", { ...good, hash: "AB".repeat(32) }],
    ["enum label not defined", { ...good, color: "toString" }],
    ["enum value instead of label", { ...good, color: 300 }],
    ["nested field missing", { ...good, inner: {} }],
    ["nested unknown key", { ...good, inner: { name: "a", extra: 1 } }],
    ["struct array holding null", { ...good, inners: [null] }],
    ["string array holding a number", { ...good, words: ["x", 1] }],
    ["unknown key", { ...good, other: 1 }],
    ["required field missing", { ...good, s: undefined }],
    ["null for an optional field", { ...good, j: null }],
    ["not an object", "everything"],
  ];
  for (const [what, value] of cases) {
    assert.throws(() => Everything.encode(value as never), { code: "InvalidInput" }, what);
    same(Everything, value, what);
  }
});

Deno.test("an id above 2^64 - 1 fails with the writer's RangeError on both paths", () => {
  const value = { ...good, id: "18446744073709551616" };
  assert.throws(() => Everything.encode(value), RangeError);
  same(Everything, value, "id 2^64");
});

Deno.test("strings are written as the msgpack library writes them, at every header size", () => {
  const library = new Encoder({ useBigInt64: true });
  const texts = [
    "",
    "a".repeat(31),
    "a".repeat(32),
    "a".repeat(255),
    "a".repeat(256),
    "a".repeat(65_535),
    "a".repeat(65_536),
    "ü".repeat(15),
    "ü".repeat(16),
    "ü".repeat(127),
    "ü".repeat(128),
    "日".repeat(21_845),
    "日".repeat(21_846),
    "🦕",
    "a\ud800b",
    "\udfff",
  ];
  for (const text of texts) {
    const w = new TaggedWriter(new Uint8Array(8));
    w.string(text);
    assert.deepEqual(w.finish(), library.encode(text), `${text.length} code units`);
  }
});

Deno.test("encoded records are copies: encoding another record leaves them as they were", () => {
  const first = Everything.encode(good);
  const copy = first.slice();
  for (let i = 0; i < 100; i++) Everything.encode({ ...good, s: `other ${i}` });
  assert.deepEqual(first, copy);
});
