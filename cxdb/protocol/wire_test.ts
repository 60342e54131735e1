import assert from "node:assert/strict";
import { blake3Hex, toHex } from "@forge/turnstore";
import {
  appendPayloadBytes,
  type AppendRequest,
  decodeAppended,
  decodeAppendedAt,
  decodeAttachFs,
  decodeBlob,
  decodeError,
  decodeHead,
  decodeHello,
  decodePutBlob,
  decodeTurns,
  encodeAppend,
  encodeAppendInto,
  encodeAttachFs,
  encodeCtxCreate,
  encodeCtxFork,
  encodeError,
  encodeFrame,
  encodeGetBlob,
  encodeGetHead,
  encodeGetLast,
  encodeHello,
  encodePutBlob,
  encodeResponse,
  encodeTurns,
  FrameParser,
  WireError,
} from "./wire.ts";
import { compressForWire, decompressFromWire } from "./compress.ts";
import {
  APPEND_PAYLOAD,
  APPEND_PAYLOAD_HASH,
  BLAKE3_VECTORS,
  blake3Input,
  FRAME,
  REQUESTS,
  RESPONSES,
} from "./testdata/vectors.ts";

/** Splits an APPEND_TURN payload back into its fields, so the encoder can be fed them. */
function appendFields(b: Uint8Array, flags: number) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
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
  assert.equal(o, b.length, "the vector is fully accounted for");
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

/**
 * Each request vector beside the encoder call that must reproduce it. The
 * coverage test below checks that this table names every vector, so a vector
 * added without an encoder check fails.
 */
const encoders: Record<keyof typeof REQUESTS, () => { flags: number; payload: Uint8Array }> = {
  helloEmpty: () => ({ flags: 0, payload: encodeHello() }),
  helloTag: () => ({ flags: 0, payload: encodeHello("forge-deno") }),
  ctxCreateEmpty: () => ({ flags: 0, payload: encodeCtxCreate("0") }),
  ctxForkBig: () => ({ flags: 0, payload: encodeCtxFork("4294967301") }),
  getHeadMax: () => ({ flags: 0, payload: encodeGetHead("18446744073709551615") }),
  getHeadSafe: () => ({ flags: 0, payload: encodeGetHead("9007199254740993") }),
  getLastMeta: () => ({ flags: 0, payload: encodeGetLast("1", 10, false) }),
  getLastPayload: () => ({ flags: 0, payload: encodeGetLast("258", 300, true) }),
  appendHead: () => encodeAppend(appendRequest({})),
  appendParentKey: () => encodeAppend(appendRequest({ parentTurnId: "7", idempotencyKey: "k-1" })),
  appendFsRoot: () => encodeAppend(appendRequest({ fsRootHash: "cd".repeat(32) })),
  getBlob: () => ({ flags: 0, payload: encodeGetBlob(BLAKE3_VECTORS[0].hash) }),
  putBlob: () => ({
    flags: 0,
    payload: encodePutBlob(BLAKE3_VECTORS[2].hash, blake3Input(2)),
  }),
  attachFs: () => ({ flags: 0, payload: encodeAttachFs("99", "ab".repeat(32)) }),
};

function appendRequest(over: Partial<AppendRequest>): AppendRequest {
  return {
    contextId: "3",
    parentTurnId: "0",
    typeId: "forge.test.note",
    typeVersion: 2,
    encoding: 1,
    compression: 0,
    uncompressedLength: APPEND_PAYLOAD.length,
    contentHash: APPEND_PAYLOAD_HASH,
    payload: APPEND_PAYLOAD,
    ...over,
  };
}

Deno.test("every request vector is checked by an encoder test, and every request type has one", () => {
  assert.deepEqual(Object.keys(encoders).sort(), Object.keys(REQUESTS).sort());
  const types = new Set<number>(Object.values(REQUESTS).map((v) => v.msgType));
  for (const type of [1, 2, 3, 4, 5, 6, 9, 10, 11]) {
    assert.ok(types.has(type), `a vector for msg_type ${type}`);
  }
});

for (const [key, vector] of Object.entries(REQUESTS)) {
  Deno.test(`${vector.name}: encodes byte for byte as the protocol lays it out`, () => {
    const { flags, payload } = encoders[key as keyof typeof REQUESTS]();
    assert.equal(toHex(payload), toHex(vector.payload));
    assert.equal(flags, vector.flags);
  });
}

Deno.test("BLAKE3 matches the official BLAKE3 test vectors", () => {
  for (const { length, hash } of BLAKE3_VECTORS) {
    assert.equal(blake3Hex(blake3Input(length)), hash, `input of ${length} bytes`);
  }
});

for (const key of ["appendHead", "appendParentKey", "appendFsRoot"] as const) {
  const vector = REQUESTS[key];
  Deno.test(`${vector.name}: its hash is BLAKE3 of its payload, as the server checks`, () => {
    const fields = appendFields(vector.payload, vector.flags);
    assert.equal(fields.contentHash, blake3Hex(fields.payload));
    assert.equal(fields.uncompressedLength, fields.payload.length);
  });
  Deno.test(`${vector.name}: encoded in place, at an offset of a larger buffer, is the same bytes`, () => {
    const fields = appendFields(vector.payload, vector.flags);
    const size = appendPayloadBytes(fields);
    assert.equal(size, vector.payload.length);
    const out = new Uint8Array(size + 40).fill(0xee);
    const window = out.subarray(7);
    const flags = encodeAppendInto(fields, window, new DataView(out.buffer), 13);
    assert.equal(flags, vector.flags);
    assert.equal(toHex(window.subarray(13, 13 + size)), toHex(vector.payload));
    assert.ok(out.subarray(0, 20).every((b) => b === 0xee), "nothing written before the offset");
    assert.ok(out.subarray(20 + size).every((b) => b === 0xee), "nothing written past the end");
  });
}

Deno.test("every response vector decodes to its fields, and the peer's encoders write the same bytes", () => {
  const r = RESPONSES;
  assert.deepEqual(decodeHello(r.hello.payload), r.hello.decoded);
  assert.deepEqual(decodeHead(r.head.payload), r.head.decoded);
  assert.deepEqual(decodeAppended(r.appended.payload), r.appended.decoded);
  assert.deepEqual(decodeTurns(r.lastWithPayload.payload, true), r.lastWithPayload.decoded);
  assert.deepEqual(decodeBlob(r.blob.payload), r.blob.decoded);
  assert.deepEqual(decodePutBlob(r.putBlob.payload), r.putBlob.decoded);
  assert.deepEqual(decodeAttachFs(r.attachFs.payload), r.attachFs.decoded);
  assert.deepEqual(decodeError(r.error.payload), r.error.decoded);
  assert.equal(toHex(encodeResponse.hello("42")), toHex(r.hello.payload));
  assert.equal(toHex(encodeResponse.head(r.head.decoded)), toHex(r.head.payload));
  assert.equal(toHex(encodeResponse.appended(r.appended.decoded)), toHex(r.appended.payload));
  assert.equal(
    toHex(encodeTurns(r.lastWithPayload.decoded, true)),
    toHex(r.lastWithPayload.payload),
  );
  assert.equal(toHex(encodeResponse.blob(r.blob.decoded)), toHex(r.blob.payload));
  assert.equal(
    toHex(encodeResponse.putBlob(r.putBlob.decoded.hash, true)),
    toHex(r.putBlob.payload),
  );
  assert.equal(
    toHex(encodeResponse.attachFs(r.attachFs.decoded.turnId, r.attachFs.decoded.rootHash)),
    toHex(r.attachFs.payload),
  );
  assert.equal(toHex(encodeError(422, "bad request")), toHex(r.error.payload));
});

Deno.test("the frame vector parses to its header and payload, and encodes back", () => {
  assert.equal(toHex(encodeFrame(5, 1, FRAME.header.reqId, FRAME.payload)), toHex(FRAME.bytes));
  const parser = new FrameParser();
  parser.push(FRAME.bytes);
  const frame = parser.next()!;
  assert.deepEqual(frame.header, FRAME.header);
  assert.equal(toHex(frame.payload), toHex(FRAME.payload));
});

Deno.test("APPEND_TURN encoded in place with a malformed hash throws WireError and writes nothing", () => {
  const fields = appendFields(REQUESTS.appendHead.payload, 0);
  const out = new Uint8Array(appendPayloadBytes(fields)).fill(0xee);
  assert.throws(
    () => encodeAppendInto({ ...fields, contentHash: "xyz" }, out, new DataView(out.buffer), 0),
    (e) => e instanceof WireError && /contentHash/.test(e.message),
  );
  assert.ok(out.every((b) => b === 0xee));
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

Deno.test("advance steps through split frames without allocating, as next() reads them", () => {
  const first = encodeFrame(5, 1, 0x0012_3456_789a_bcden, new Uint8Array([9, 9, 9]));
  const second = encodeFrame(255, 0, 2n, encodeError(422, "no"));
  const parser = new FrameParser();
  assert.equal(parser.advance(), false);
  parser.push(first.subarray(0, 10)); // not even a whole header
  assert.equal(parser.advance(), false);
  parser.push(first.subarray(10, 17)); // header, payload cut short
  assert.equal(parser.advance(), false);
  parser.push(new Uint8Array([...first.subarray(17), ...second]));
  assert.equal(parser.advance(), true);
  assert.deepEqual([parser.msgType, parser.flags, parser.reqId], [5, 1, 0x0012_3456_789a_bcde]);
  const payload = parser.bytes.subarray(parser.payloadAt, parser.payloadAt + parser.payloadLength);
  assert.deepEqual([...payload], [9, 9, 9]);
  assert.equal(parser.advance(), true);
  assert.deepEqual([parser.msgType, parser.reqId], [255, 2]);
  const at = parser.payloadAt;
  assert.deepEqual(decodeError(parser.bytes.subarray(at, at + parser.payloadLength)), {
    code: 422,
    detail: "no",
  });
  assert.equal(parser.advance(), false);
  // Drained: the next frame is read from the start of the buffer again.
  parser.push(encodeFrame(3, 0, 7n, new Uint8Array([1])));
  assert.equal(parser.advance(), true);
  assert.deepEqual([parser.msgType, parser.reqId, parser.payloadAt], [3, 7, 16]);
});

Deno.test("advance refuses a frame longer than the limit with WireError", () => {
  const parser = new FrameParser();
  const header = new Uint8Array(16);
  new DataView(header.buffer).setUint32(0, 0xffff_ffff, true);
  parser.push(header);
  assert.throws(() => parser.advance(), (e) => e instanceof WireError && /limit/.test(e.message));
});

Deno.test("an APPEND_TURN answer decodes in place at an offset, and a short one names what is missing", () => {
  const answer = encodeResponse.appended({
    contextId: "4",
    turnId: "9007199254740993", // above 2^53: exact through BigInt
    depth: 2,
    contentHash: "ef".repeat(32),
  });
  const bytes = new Uint8Array([0xaa, 0xbb, ...answer, 0xcc]);
  assert.deepEqual(decodeAppendedAt(bytes, 2, 2 + answer.length), {
    contextId: "4",
    turnId: "9007199254740993",
    depth: 2,
    contentHash: "ef".repeat(32),
  });
  assert.throws(() => decodeAppendedAt(bytes, 2, 2 + 51), WireError);
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

Deno.test("u64 ids encode exactly at every size, the largest u64 included", () => {
  assert.equal(toHex(encodeGetHead("18446744073709551615")), "ffffffffffffffff");
  assert.equal(toHex(encodeGetHead("999999999999999")), "ff7fc6a47e8d0300");
  assert.equal(toHex(encodeGetHead("4294967296")), "0000000001000000");
  assert.equal(toHex(encodeGetHead("9007199254740993")), "0100000000002000");
});

Deno.test("an append's answer decodes ids of any size, reuses the sent hash's hex only when echoed", () => {
  const sent = new Uint8Array(32).fill(0xab);
  const answer = (contentHash: string, turnId = "9007199254740993") =>
    encodeResponse.appended({ contextId: "4294967296", turnId, depth: 4294967295, contentHash });
  const sentHex = "ab".repeat(32);
  const echoed = decodeAppended(answer(sentHex), sent, sentHex);
  assert.deepEqual(echoed, {
    contextId: "4294967296",
    turnId: "9007199254740993",
    depth: 4294967295,
    contentHash: sentHex,
  });
  assert.equal(
    decodeAppended(answer(sentHex, "18446744073709551615")).turnId,
    "18446744073709551615",
  );
  const other = decodeAppended(answer("cd".repeat(32), "12"), sent, sentHex);
  assert.equal(other.contentHash, "cd".repeat(32));
  assert.equal(other.turnId, "12");
  assert.throws(
    () => decodeAppended(answer(sentHex).subarray(0, 51)),
    /APPEND_TURN response: payload of 51 bytes is too short/,
  );
});
