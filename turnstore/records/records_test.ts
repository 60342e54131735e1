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

Deno.test("decoding accepts digit-string keys as CXDB's Go client writes them", () => {
  // The shared fixture: keys "1".."30" as strings, timestamps as int64.
  const fixture = JSON.parse(
    Deno.readTextFileSync(
      new URL(
        "../../../shared/cxdb-fixtures/types/msgpack_conversation_item.json",
        import.meta.url,
      ),
    ),
  );
  const Item = defineRecord({
    typeId: "cxdb.ConversationItem",
    version: 3,
    fields: { itemType: f.string(1), status: f.string(2), createdAt: f.unixMs(3), id: f.string(4) },
  });
  const value = Item.decode(fromHex(fixture.payload_hex));
  assert.deepEqual(value, {
    itemType: "user_input",
    status: "complete",
    createdAt: 0x18bcfe56800,
    id: "item-1",
  });
  const numeric = JSON.parse(
    Deno.readTextFileSync(
      new URL("../../../shared/cxdb-fixtures/types/msgpack_numeric_map.json", import.meta.url),
    ),
  );
  const Trio = defineRecord({
    typeId: "test.trio",
    fields: { one: f.string(1), two: f.string(2), three: f.string(3) },
  });
  assert.deepEqual(Trio.decode(fromHex(numeric.payload_hex)), {
    one: "one",
    two: "two",
    three: "three",
  });
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
