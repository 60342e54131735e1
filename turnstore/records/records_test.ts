import assert from "node:assert/strict";
import { buildBundle, defineEnum, defineRecord, defineStruct, f, RecordCatalog } from "./mod.ts";
import { idempotencyKey } from "./idempotency.ts";
import { decodeMsgpack } from "./msgpack.ts";
import { isTurnStoreError } from "../core/errors.ts";
import { fromHex } from "../core/hash.ts";

const Kind = defineEnum("test.Kind", { started: 1, ended: 2 });
const Call = defineStruct({
  typeId: "test.Call",
  fields: { callId: f.string(1), name: f.string(2), args: f.json(3) },
});
const Event = defineRecord({
  typeId: "test.event",
  version: 1,
  fields: {
    kind: f.enum(1, Kind),
    at: f.unixMs(2),
    childContextId: f.id(3),
    calls: f.structs(4, Call),
    note: f.string(5).optional(),
    tokens: f.u64(6),
    root: f.hash(7).optional(),
    labels: f.array(8, "string"),
  },
});

const sample = {
  kind: "started" as const,
  at: 1_767_000_000_000,
  childContextId: "18446744073709551615",
  calls: [{ callId: "c1", name: "read_file", args: '{"path":"a.txt"}' }],
  tokens: 42,
  root: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  labels: ["x", "y"],
};

Deno.test("a record encodes as a msgpack map keyed by integer tags", () => {
  const bytes = Event.encode(sample);
  const raw = decodeMsgpack(bytes) as Record<string, unknown>;
  assert.equal(bytes[0], 0x87, "a fixmap of the 7 present fields");
  assert.equal(bytes[1], 0x01, "the first key is the positive fixint tag 1, not a string");
  assert.equal(raw["1"], 1, "enums travel as their integer value");
  assert.equal(raw["3"], 18446744073709551615n, "ids travel as u64");
  assert.ok(raw["7"] instanceof Uint8Array && (raw["7"] as Uint8Array).length === 32);
  assert.equal(raw["5"], undefined, "absent optional fields are left out");
  assert.deepEqual(raw["4"], [{ 1: "c1", 2: "read_file", 3: '{"path":"a.txt"}' }]);
});

Deno.test("a record decodes back to the same typed value", () => {
  assert.deepEqual(Event.decode(Event.encode(sample)), sample);
  const withNote = { ...sample, note: "hello" };
  assert.deepEqual(Event.decode(Event.encode(withNote)), withNote);
});

/** Joins annotated hex fragments into bytes. */
const hex = (...parts: string[]) => fromHex(parts.join(""));
const ascii = (text: string) =>
  [...text].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");

Deno.test("a record encodes to hand-assembled msgpack, every integer as an integer", () => {
  // Assembled by hand from the msgpack spec, field by field, in tag order.
  const expected = hex(
    "87", //                                fixmap of 7 present fields
    "01",
    "01", //                                1 kind: enum started = 1 (positive fixint)
    "02",
    "cf0000019b69684600", //                2 at: 1_767_000_000_000 as uint64, never float64
    "03",
    "cfffffffffffffffff", //                3 childContextId: u64 2^64 - 1
    "04",
    "91", //                                4 calls: array of 1
    "83", //                                  fixmap of 3
    "01",
    "a2" + ascii("c1"), //                    1 callId
    "02",
    "a9" + ascii("read_file"), //             2 name
    "03",
    "b0" + ascii('{"path":"a.txt"}'), //      3 args (16 bytes)
    "06",
    "2a", //                                6 tokens: 42
    "07",
    "c420af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", // 7 root: bin8 32
    "08",
    "92a178a179", //                        8 labels: ["x", "y"]
  );
  assert.deepEqual(Event.encode(sample), expected);
});

Deno.test("integers of every width encode to the smallest msgpack integer, never a float", () => {
  const Sizes = defineRecord({
    typeId: "test.sizes",
    fields: { n: f.u64(1), m: f.int64(2) },
  });
  const cases: [number, number, string][] = [
    [0, 0, "8201000200"],
    [127, -32, "82017f02e0"],
    [128, -33, "8201cc8002d0df"],
    [65_536, -32_769, "8201ce0001000002d2ffff7fff"],
    [4_294_967_296, -2_147_483_649, "8201cf000000010000000002d3ffffffff7fffffff"],
    [5 * 2 ** 30, Number.MIN_SAFE_INTEGER, "8201cf000000014000000002d3ffe0000000000001"],
  ];
  for (const [n, m, wire] of cases) {
    assert.deepEqual(Sizes.encode({ n, m }), fromHex(wire), `${n}, ${m}`);
    assert.deepEqual(Sizes.decode(fromHex(wire)), { n, m });
  }
});

Deno.test("decoding accepts digit-string keys and fixed-width integers, as CXDB's Go client writes them", () => {
  const Item = defineRecord({
    typeId: "cxdb.ConversationItem",
    version: 3,
    fields: { itemType: f.string(1), status: f.string(2), createdAt: f.unixMs(3), id: f.string(4) },
  });
  const goStyle = hex(
    "85", //                                fixmap of 5
    "a131",
    "aa" + ascii("user_input"), //          "1": "user_input"
    "a132",
    "a8" + ascii("complete"), //            "2": "complete"
    "a133",
    "d30000019b69684600", //                "3": int64 1_767_000_000_000
    "a134",
    "a6" + ascii("item-1"), //              "4": "item-1"
    "a23939",
    "c0", //                                "99": nil, a field this version does not know
  );
  assert.deepEqual(Item.decode(goStyle), {
    itemType: "user_input",
    status: "complete",
    createdAt: 1_767_000_000_000,
    id: "item-1",
  });
  const Trio = defineRecord({
    typeId: "test.trio",
    fields: { one: f.string(1), two: f.string(2), three: f.string(3) },
  });
  const u64Keys = hex(
    "83", //                                fixmap of 3, keys as uint64 in the order 2, 1, 3
    "cf0000000000000002",
    "a3" + ascii("two"),
    "cf0000000000000001",
    "a3" + ascii("one"),
    "cf0000000000000003",
    "a5" + ascii("three"),
  );
  assert.deepEqual(Trio.decode(u64Keys), { one: "one", two: "two", three: "three" });
});

Deno.test("invalid values are InvalidInput naming the record and the field", () => {
  for (
    const [bad, field] of [
      [{ ...sample, tokens: -1 }, "tokens"],
      [{ ...sample, kind: "paused" }, "kind"],
      [{ ...sample, childContextId: "01" }, "childContextId"],
      [{ ...sample, extra: 1 }, "(record)"],
      [{ ...sample, calls: [{ callId: "c", name: 3, args: "{}" }] }, "calls.0.name"],
    ] as const
  ) {
    try {
      Event.encode(bad as never);
      assert.fail(`encoding ${field} should fail`);
    } catch (error) {
      assert.ok(isTurnStoreError(error, "InvalidInput"), String(error));
      assert.match((error as Error).message, /test\.event v1/);
      assert.ok((error as Error).message.includes(field), (error as Error).message);
    }
  }
  assert.throws(
    () => Event.decode(new Uint8Array([0xc1])),
    /test\.event v1: payload is not msgpack/,
  );
  assert.throws(() => Event.decode(new Uint8Array([0x80])), /test\.event v1/);
});

Deno.test("the registry bundle names every field, enum and nested struct", () => {
  const bundle = buildBundle("test.bundle.v1", [Event]);
  const fields = bundle.types["test.event"].versions["1"].fields;
  assert.deepEqual(fields["1"], { name: "kind", type: "u8", enum: "test.Kind" });
  assert.deepEqual(fields["2"], { name: "at", type: "unix_ms", semantic: "unix_ms" });
  assert.deepEqual(fields["3"], { name: "child_context_id", type: "u64", semantic: "id" });
  assert.deepEqual(fields["4"], {
    name: "calls",
    type: "array",
    items: { type: "ref", ref: "test.Call" },
  });
  assert.deepEqual(fields["5"], { name: "note", type: "string", optional: true });
  assert.deepEqual(fields["8"], { name: "labels", type: "array", items: "string" });
  assert.deepEqual(bundle.enums, { "test.Kind": { "1": "started", "2": "ended" } });
  assert.ok(bundle.types["test.Call"].versions["1"].fields["3"].semantic === "json");
});

Deno.test("a renamed property keeps its published bundle name through wireName", () => {
  const Closed = defineRecord({
    typeId: "test.closed",
    fields: { modelCallsUsed: f.u32(1, { wireName: "turns_used" }), exitCode: f.u32(2) },
  });
  const fields = buildBundle("test.renamed.v1", [Closed]).types["test.closed"].versions["1"].fields;
  assert.deepEqual(fields["1"], { name: "turns_used", type: "u32" });
  assert.deepEqual(fields["2"], { name: "exit_code", type: "u32" });
  const value = { modelCallsUsed: 3, exitCode: 0 };
  assert.deepEqual(Closed.decode(Closed.encode(value)), value);
});

Deno.test("a tag keeps its wire type across versions, or the bundle is refused", () => {
  const V2ok = defineRecord({
    typeId: "test.event",
    version: 2,
    fields: { at: f.unixMs(2), extra: f.string(9) },
  });
  assert.ok(buildBundle("ok", [Event, V2ok]).types["test.event"].versions["2"]);
  const V2bad = defineRecord({ typeId: "test.event", version: 2, fields: { at: f.string(2) } });
  assert.throws(() => buildBundle("bad", [Event, V2bad]), /tag 2 is unix_ms/);
  assert.throws(
    () => defineRecord({ typeId: "x", fields: { a: f.string(1), b: f.u8(1) } }),
    /tag 1 used by a and b/,
  );
});

Deno.test("a catalog decodes turns by type id and version", () => {
  const catalog = new RecordCatalog([Event]);
  const decoded = catalog.decode({
    typeId: "test.event",
    typeVersion: 1,
    payload: Event.encode(sample),
  });
  assert.equal(decoded?.type, Event);
  assert.deepEqual(decoded?.value, sample);
  assert.equal(
    catalog.decode({ typeId: "test.event", typeVersion: 9, payload: new Uint8Array() }),
    undefined,
  );
});

Deno.test("idempotency keys are length-prefixed and deterministic", () => {
  assert.equal(idempotencyKey("ns", "run-1", 7, "step"), "ns|5:run-1|7|4:step");
  assert.notEqual(
    idempotencyKey("n", "a|1:b"),
    idempotencyKey("n", "a", "b"),
    "no part can forge a boundary",
  );
  assert.equal(idempotencyKey("n", "é"), "n|2:é", "lengths count UTF-8 bytes");
  assert.throws(() => idempotencyKey("n", -1));
});

Deno.test("key lengths are the UTF-8 byte counts TextEncoder gives, surrogates included", () => {
  const encoder = new TextEncoder();
  const samples = [
    "",
    "abc",
    "é",
    "日本語",
    "😀",
    "a😀b",
    "\ud800",
    "\udc00x",
    "x\ud800",
    "\udbff\udfff",
  ];
  for (const text of samples) {
    assert.equal(
      idempotencyKey("n", text),
      `n|${encoder.encode(text).length}:${text}`,
      JSON.stringify(text),
    );
  }
});

Deno.test("a record holding a lone surrogate reads back as written, as stores already hold them", () => {
  const Note = defineRecord({ typeId: "test.note", version: 1, fields: { text: f.string(1) } });
  // Tool output cut inside a surrogate pair, say: the library writes the lone half as three
  // bytes (ED A0 BD) that are not UTF-8, and a strict decoder would make the record unreadable.
  for (const text of ["cut emoji \uD83D", "\uDE00 then text", "ok \u00e9 \u20ac \uD834\uDD1E"]) {
    assert.deepEqual(Note.decode(Note.encode({ text })), { text });
  }
});

Deno.test("a map with a key twice is InvalidInput, whichever form the key takes", () => {
  const Note = defineRecord({ typeId: "test.note", version: 1, fields: { text: f.string(1) } });
  const cases: [string, number[]][] = [
    ["tag 1 twice", [0x82, 0x01, 0xa1, 0x41, 0x01, 0xa1, 0x42]],
    ['tag 1 and "1"', [0x82, 0x01, 0xa1, 0x41, 0xa1, 0x31, 0xa1, 0x42]],
  ];
  for (const [what, bytes] of cases) {
    // Before: the last value won ("B"), where another reader may keep the first.
    assert.throws(
      () => Note.decode(new Uint8Array(bytes)),
      (error: unknown) => {
        assert.ok(isTurnStoreError(error, "InvalidInput"), `${what}: ${error}`);
        assert.match((error as Error).message, /map key "1" appears twice/);
        return true;
      },
      what,
    );
  }
  // Nested maps are checked too; equal keys in different maps are fine.
  assert.throws(
    () => decodeMsgpack(new Uint8Array([0x81, 0x01, 0x82, 0x02, 0x00, 0x02, 0x00])),
    /"2" appears twice/,
  );
  assert.deepEqual(
    decodeMsgpack(new Uint8Array([0x82, 0x01, 0x81, 0x01, 0x00, 0x02, 0x81, 0x01, 0x00])),
    {
      1: { 1: 0 },
      2: { 1: 0 },
    },
  );
});
