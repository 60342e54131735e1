import assert from "node:assert/strict";
import { fromHex, toHex } from "@forge/turnstore";
import { decodeMsgpack } from "@forge/turnstore";
import {
  appendPayloadBytes,
  decodeAppended,
  decodeError,
  decodeHead,
  decodeTurns,
  encodeAppend,
  encodeAppendInto,
  encodeAttachFs,
  encodeCtxCreate,
  encodeCtxFork,
  encodeError,
  encodeFrame,
  encodeGetHead,
  encodeGetLast,
  encodeHello,
  encodePutBlob,
  encodeResponse,
  encodeTurns,
  FLAG_HAS_FS_ROOT,
  FrameParser,
  MsgType,
  WireError,
} from "./wire.ts";
import { compressForWire, decompressFromWire } from "./compress.ts";

const fixtures = new URL("../../../shared/cxdb-fixtures/", import.meta.url);
interface ProtocolFixture {
  name: string;
  msg_type: number;
  flags: number;
  payload_hex: string;
}
const protocolFixture = (name: string): ProtocolFixture =>
  JSON.parse(Deno.readTextFileSync(new URL(`protocol/${name}.json`, fixtures)));

/** Splits an APPEND_TURN fixture back into its fields, so the encoder can be fed them. */
function appendFields(hex: string, flags: number) {
  const b = fromHex(hex);
  const v = new DataView(b.buffer);
  let o = 0;
  const u64 = () => (o += 8, v.getBigUint64(o - 8, true).toString());
  const u32 = () => (o += 4, v.getUint32(o - 4, true));
  const bytes = (n: number) => (o += n, b.slice(o - n, o));
  const contextId = u64();
  const parentTurnId = u64();
  const typeId = new TextDecoder().decode(bytes(u32()));
  const typeVersion = u32();
  const encoding = u32();
  const compression = u32();
  const uncompressedLength = u32();
  const contentHash = toHex(bytes(32));
  const payload = bytes(u32());
  const key = new TextDecoder().decode(bytes(u32()));
  const fsRootHash = flags & 1 ? toHex(bytes(32)) : undefined;
  assert.equal(o, b.length, "the fixture is fully accounted for");
  return {
    contextId,
    parentTurnId,
    typeId,
    typeVersion,
    encoding,
    compression,
    uncompressedLength,
    contentHash,
    payload,
    idempotencyKey: key || undefined,
    fsRootHash,
  };
}

const allProtocolFixtures = [...Deno.readDirSync(new URL("protocol/", fixtures))]
  .map((e) => e.name.replace(/\.json$/, "")).sort();

Deno.test("every protocol fixture is covered by an encoder test", () => {
  assert.deepEqual(allProtocolFixtures, [
    "append_idempotent",
    "append_parent0",
    "append_parent7",
    "append_with_fs",
    "attach_fs",
    "ctx_create_base0",
    "ctx_fork_base123",
    "get_head_ctx42",
    "get_last_default",
    "get_last_payload",
    "hello_empty",
    "hello_tag",
    "put_blob",
  ]);
});

Deno.test("HELLO encodes byte for byte as the Go client does, with and without a tag", () => {
  const empty = protocolFixture("hello_empty");
  assert.equal(empty.msg_type, MsgType.HELLO);
  assert.equal(toHex(encodeHello()), empty.payload_hex);
  assert.equal(toHex(encodeHello("test-client")), protocolFixture("hello_tag").payload_hex);
});

Deno.test("CTX_CREATE, CTX_FORK and GET_HEAD encode their u64 little-endian", () => {
  const create = protocolFixture("ctx_create_base0");
  assert.equal(create.msg_type, MsgType.CTX_CREATE);
  assert.equal(toHex(encodeCtxCreate("0")), create.payload_hex);
  const fork = protocolFixture("ctx_fork_base123");
  assert.equal(fork.msg_type, MsgType.CTX_FORK);
  assert.equal(toHex(encodeCtxFork("123")), fork.payload_hex);
  const head = protocolFixture("get_head_ctx42");
  assert.equal(head.msg_type, MsgType.GET_HEAD);
  assert.equal(toHex(encodeGetHead("42")), head.payload_hex);
});

Deno.test("GET_LAST encodes limit and the include-payload switch", () => {
  const plain = protocolFixture("get_last_default");
  assert.equal(plain.msg_type, MsgType.GET_LAST);
  assert.equal(toHex(encodeGetLast("1", 10, false)), plain.payload_hex);
  assert.equal(toHex(encodeGetLast("1", 5, true)), protocolFixture("get_last_payload").payload_hex);
});

for (const name of ["append_parent0", "append_parent7", "append_idempotent", "append_with_fs"]) {
  Deno.test(`APPEND_TURN ${name} encodes byte for byte, flags included`, () => {
    const fx = protocolFixture(name);
    assert.equal(fx.msg_type, MsgType.APPEND_TURN);
    const fields = appendFields(fx.payload_hex, fx.flags);
    const { flags, payload } = encodeAppend(fields);
    assert.equal(flags, fx.flags);
    assert.equal(toHex(payload), fx.payload_hex);
    // The fixture's hash is BLAKE3 of its msgpack payload, as the server checks.
    assert.equal(fields.contentHash.length, 64);
    assert.ok(Array.isArray(decodeMsgpack(fields.payload)));
  });
}

for (const name of ["append_parent0", "append_idempotent", "append_with_fs"]) {
  Deno.test(`APPEND_TURN ${name} encoded in place, at an offset of a larger buffer, is the same bytes`, () => {
    const fx = protocolFixture(name);
    const fields = appendFields(fx.payload_hex, fx.flags);
    const size = appendPayloadBytes(fields);
    assert.equal(size, fx.payload_hex.length / 2);
    const out = new Uint8Array(size + 40).fill(0xee);
    const window = out.subarray(7);
    const flags = encodeAppendInto(fields, window, new DataView(out.buffer), 13);
    assert.equal(flags, fx.flags);
    assert.equal(toHex(window.subarray(13, 13 + size)), fx.payload_hex);
    assert.ok(out.subarray(0, 20).every((b) => b === 0xee), "nothing written before the offset");
    assert.ok(out.subarray(20 + size).every((b) => b === 0xee), "nothing written past the end");
  });
}

Deno.test("APPEND_TURN encoded in place with a malformed hash throws WireError and writes nothing", () => {
  const fields = appendFields(protocolFixture("append_parent0").payload_hex, 0);
  const out = new Uint8Array(appendPayloadBytes(fields)).fill(0xee);
  assert.throws(
    () => encodeAppendInto({ ...fields, contentHash: "xyz" }, out, new DataView(out.buffer), 0),
    (e) => e instanceof WireError && /contentHash/.test(e.message),
  );
  assert.ok(out.every((b) => b === 0xee));
});

Deno.test("APPEND_TURN with an fs root sets flags bit0 and appends the 32-byte root", () => {
  const fx = protocolFixture("append_with_fs");
  assert.equal(fx.flags, FLAG_HAS_FS_ROOT);
  assert.ok(fx.payload_hex.endsWith("bb".repeat(32)));
});

Deno.test("ATTACH_FS and PUT_BLOB encode byte for byte", () => {
  const attach = protocolFixture("attach_fs");
  assert.equal(attach.msg_type, MsgType.ATTACH_FS);
  assert.equal(toHex(encodeAttachFs("99", "aa".repeat(32))), attach.payload_hex);
  const put = protocolFixture("put_blob");
  assert.equal(put.msg_type, MsgType.PUT_BLOB);
  const data = new TextEncoder().encode("hello blob");
  const hash = put.payload_hex.slice(0, 64);
  assert.equal(toHex(encodePutBlob(hash, data)), put.payload_hex);
});

Deno.test("a frame header is len, msg_type, flags, req_id little-endian, and the parser reassembles split frames", () => {
  const frame = encodeFrame(5, 1, 0x0102030405060708n, new Uint8Array([9, 9, 9]));
  assert.equal(toHex(frame.subarray(0, 16)), "03000000050001000807060504030201");
  const parser = new FrameParser();
  const two = new Uint8Array([...frame, ...encodeFrame(255, 0, 2n, encodeError(422, "no"))]);
  for (let i = 0; i < two.length; i += 5) parser.push(two.subarray(i, i + 5));
  const a = parser.next()!;
  assert.equal(a.header.reqId, 0x0102030405060708n);
  assert.deepEqual([...a.payload], [9, 9, 9]);
  const b = parser.next()!;
  assert.equal(b.header.msgType, 255);
  assert.deepEqual(decodeError(b.payload), { code: 422, detail: "no" });
  assert.equal(parser.next(), undefined);
});

Deno.test("responses decode to decimal-string ids and hex hashes", () => {
  const head = decodeHead(
    encodeResponse.head({ contextId: "18446744073709551615", headTurnId: "7", headDepth: 3 }),
  );
  assert.deepEqual(head, { contextId: "18446744073709551615", headTurnId: "7", headDepth: 3 });
  const appended = decodeAppended(
    encodeResponse.appended({
      contextId: "1",
      turnId: "2",
      depth: 0,
      contentHash: "ab".repeat(32),
    }),
  );
  assert.equal(appended.contentHash, "ab".repeat(32));
  const turns = [{
    turnId: "3",
    parentTurnId: "2",
    depth: 1,
    typeId: "t",
    typeVersion: 2,
    encoding: 1,
    compression: 0,
    uncompressedLength: 2,
    contentHash: "cd".repeat(32),
    payload: new Uint8Array([0x91, 0x01]),
  }];
  assert.deepEqual(decodeTurns(encodeTurns(turns, true), true), turns);
  const { payload: _p, ...meta } = turns[0];
  assert.deepEqual(decodeTurns(encodeTurns(turns, false), false), [meta]);
});

Deno.test("a short response is a WireError naming the message, not a crash", () => {
  assert.throws(
    () => decodeHead(new Uint8Array(5), "GET_HEAD (context 4)"),
    (e: unknown) =>
      e instanceof WireError && e.code === "Protocol" && e.message.includes("GET_HEAD (context 4)"),
  );
});

Deno.test("zstd compresses large payloads only, and round-trips them", () => {
  const small = new Uint8Array(100).fill(1);
  assert.equal(compressForWire(small).compression, 0);
  const big = new Uint8Array(200_000).map((_, i) => i % 7);
  const wire = compressForWire(big);
  assert.equal(wire.compression, 1);
  assert.ok(wire.bytes.length < big.length / 10);
  assert.deepEqual(decompressFromWire(1, wire.bytes, big.length), big);
  assert.throws(() => decompressFromWire(1, wire.bytes, big.length + 1), WireError);
  const noise = new Uint8Array(70_000);
  for (let i = 0; i < noise.length; i += 65_536) {
    crypto.getRandomValues(noise.subarray(i, i + 65_536));
  }
  assert.equal(compressForWire(noise).compression, 0, "incompressible bytes go as they are");
});

Deno.test("the msgpack type fixtures decode with integer and digit-string keys", () => {
  const item = JSON.parse(
    Deno.readTextFileSync(new URL("types/msgpack_conversation_item.json", fixtures)),
  );
  const decoded = decodeMsgpack(fromHex(item.payload_hex)) as Record<string, unknown>;
  assert.equal(decoded["1"], "user_input");
  assert.equal(decoded["4"], "item-1");
  const numeric = JSON.parse(
    Deno.readTextFileSync(new URL("types/msgpack_numeric_map.json", fixtures)),
  );
  assert.deepEqual(decodeMsgpack(fromHex(numeric.payload_hex)), { 1: "one", 2: "two", 3: "three" });
});

Deno.test("u64 ids encode exactly at every size, the largest u64 included", () => {
  assert.equal(toHex(encodeGetHead("18446744073709551615")), "ffffffffffffffff");
  assert.equal(toHex(encodeGetHead("999999999999999")), "ff7fc6a47e8d0300");
  assert.equal(toHex(encodeGetHead("4294967296")), "0000000001000000");
  assert.equal(toHex(encodeGetHead("9007199254740993")), "0100000000002000");
});
