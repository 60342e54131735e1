/**
 * Our own CXDB binary-protocol vectors, assembled by hand, field by field,
 * from the protocol as documented (strongdm/cxdb docs/protocol.md and the
 * measured server behaviour in the project's reference notes): every integer
 * written out as its little-endian bytes, every string as its ASCII bytes. No
 * code of the encoder under test produced them. The BLAKE3 digests are the
 * official BLAKE3 test vectors (input: bytes 0, 1, 2, … mod 251 of the given
 * length), so no hash function of ours produced those either.
 *
 * @module
 */

/** Joins hex fragments (spaces allowed) into bytes. */
export function hex(...parts: string[]): Uint8Array {
  const s = parts.join("").replace(/\s+/g, "");
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error(`bad hex vector: ${s}`);
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** The hex of an ASCII string's bytes. */
export function ascii(text: string): string {
  return [...text].map((c) => {
    const code = c.charCodeAt(0);
    if (code > 0x7f) throw new Error("ascii() takes ASCII only");
    return code.toString(16).padStart(2, "0");
  }).join("");
}

/** Official BLAKE3 vectors: input `i % 251` for i < length. */
export const BLAKE3_VECTORS = [
  { length: 0, hash: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" },
  { length: 1, hash: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213" },
  { length: 2, hash: "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63" },
  { length: 3, hash: "e1be4d7a8ab5560aa4199eea339849ba8e293d55ca0a81006726d184519e647f" },
] as const;

/** The input of the BLAKE3 vector of `length` bytes. */
export function blake3Input(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i % 251);
}

/** The payload our append vectors carry: the 3-byte BLAKE3 vector input. */
export const APPEND_PAYLOAD: Uint8Array = blake3Input(3);
/** Its BLAKE3 (official vector). */
export const APPEND_PAYLOAD_HASH: string = BLAKE3_VECTORS[3].hash;

/** One request as the protocol lays it out. */
export interface RequestVector {
  /** What the vector shows. */
  readonly name: string;
  /** msg_type of the frame. */
  readonly msgType: number;
  /** flags of the frame. */
  readonly flags: number;
  /** The request payload (no frame header). */
  readonly payload: Uint8Array;
}

const TYPE_ID = "forge.test.note"; // 15 bytes

/** Request payloads. */
export const REQUESTS = {
  helloEmpty: {
    name: "HELLO without a tag",
    msgType: 1,
    flags: 0,
    payload: hex(
      "0100", //          u16 proto_ver = 1
      "0000", //          u16 tag_len = 0
      "00000000", //      u32 meta_len = 0
    ),
  },
  helloTag: {
    name: "HELLO with tag forge-deno",
    msgType: 1,
    flags: 0,
    payload: hex(
      "0100", //          u16 proto_ver = 1
      "0a00", //          u16 tag_len = 10
      ascii("forge-deno"),
      "00000000", //      u32 meta_len = 0
    ),
  },
  ctxCreateEmpty: {
    name: "CTX_CREATE of an empty context",
    msgType: 2,
    flags: 0,
    payload: hex("0000000000000000"), // u64 base_turn_id = 0
  },
  ctxForkBig: {
    name: "CTX_FORK at turn 2^32 + 5",
    msgType: 3,
    flags: 0,
    payload: hex("0500000001000000"), // u64 base_turn_id = 0x1_0000_0005
  },
  getHeadMax: {
    name: "GET_HEAD of context 2^64 - 1",
    msgType: 4,
    flags: 0,
    payload: hex("ffffffffffffffff"), // u64 context_id = 18446744073709551615
  },
  getHeadSafe: {
    name: "GET_HEAD of context 2^53 + 1 (past JavaScript's exact integers)",
    msgType: 4,
    flags: 0,
    payload: hex("0100000000002000"), // u64 context_id = 9007199254740993
  },
  getLastMeta: {
    name: "GET_LAST of 10 turns of context 1, without payloads",
    msgType: 6,
    flags: 0,
    payload: hex(
      "0100000000000000", // u64 context_id = 1
      "0a000000", //         u32 limit = 10
      "00000000", //         u32 include_payload = 0
    ),
  },
  getLastPayload: {
    name: "GET_LAST of 300 turns of context 258, with payloads",
    msgType: 6,
    flags: 0,
    payload: hex(
      "0201000000000000", // u64 context_id = 258
      "2c010000", //         u32 limit = 300
      "01000000", //         u32 include_payload = 1
    ),
  },
  appendHead: {
    name: "APPEND_TURN at the head (parent 0), no key, no fs root",
    msgType: 5,
    flags: 0,
    payload: hex(
      "0300000000000000", // u64 context_id = 3
      "0000000000000000", // u64 parent_turn_id = 0 (the head)
      "0f000000", //         u32 type_len = 15
      ascii(TYPE_ID),
      "02000000", //         u32 type_version = 2
      "01000000", //         u32 encoding = 1 (msgpack)
      "00000000", //         u32 compression = 0 (none)
      "03000000", //         u32 uncompressed_len = 3
      APPEND_PAYLOAD_HASH, // [32] BLAKE3 of the payload
      "03000000", //         u32 payload_len = 3
      "000102", //           payload
      "00000000", //         u32 idem_len = 0
    ),
  },
  appendParentKey: {
    name: "APPEND_TURN on parent 7 with idempotency key k-1",
    msgType: 5,
    flags: 0,
    payload: hex(
      "0300000000000000", // u64 context_id = 3
      "0700000000000000", // u64 parent_turn_id = 7
      "0f000000", //         u32 type_len = 15
      ascii(TYPE_ID),
      "02000000", //         u32 type_version = 2
      "01000000", //         u32 encoding = 1
      "00000000", //         u32 compression = 0
      "03000000", //         u32 uncompressed_len = 3
      APPEND_PAYLOAD_HASH,
      "03000000", //         u32 payload_len = 3
      "000102",
      "03000000", //         u32 idem_len = 3
      ascii("k-1"),
    ),
  },
  appendFsRoot: {
    name: "APPEND_TURN with an fs root (flags bit0, root after the key)",
    msgType: 5,
    flags: 1,
    payload: hex(
      "0300000000000000", // u64 context_id = 3
      "0000000000000000", // u64 parent_turn_id = 0
      "0f000000", //         u32 type_len = 15
      ascii(TYPE_ID),
      "02000000", //         u32 type_version = 2
      "01000000", //         u32 encoding = 1
      "00000000", //         u32 compression = 0
      "03000000", //         u32 uncompressed_len = 3
      APPEND_PAYLOAD_HASH,
      "03000000", //         u32 payload_len = 3
      "000102",
      "00000000", //         u32 idem_len = 0
      "cd".repeat(32), //    [32] fs_root
    ),
  },
  getBlob: {
    name: "GET_BLOB of the empty blob",
    msgType: 9,
    flags: 0,
    payload: hex(BLAKE3_VECTORS[0].hash), // [32] hash
  },
  putBlob: {
    name: "PUT_BLOB of two bytes 00 01",
    msgType: 11,
    flags: 0,
    payload: hex(
      BLAKE3_VECTORS[2].hash, // [32] hash
      "02000000", //             u32 len = 2
      "0001", //                 bytes
    ),
  },
  attachFs: {
    name: "ATTACH_FS of a root to turn 99",
    msgType: 10,
    flags: 0,
    payload: hex(
      "6300000000000000", // u64 turn_id = 99
      "ab".repeat(32), //    [32] root_hash
    ),
  },
} as const satisfies Record<string, RequestVector>;

/** Response payloads, with what they decode to. */
export const RESPONSES = {
  hello: {
    payload: hex(
      "2a00000000000000", // u64 session_id = 42
      "0100", //             u16 proto_ver = 1
    ),
    decoded: { sessionId: "42", protocolVersion: 1 },
  },
  head: {
    payload: hex(
      "ffffffffffffffff", // u64 context_id = 2^64 - 1
      "0500000001000000", // u64 head_turn_id = 2^32 + 5
      "07000000", //         u32 head_depth = 7
    ),
    decoded: { contextId: "18446744073709551615", headTurnId: "4294967301", headDepth: 7 },
  },
  appended: {
    payload: hex(
      "0300000000000000", // u64 context_id = 3
      "0900000000000000", // u64 turn_id = 9
      "00000000", //         u32 depth = 0
      APPEND_PAYLOAD_HASH, // [32] hash
    ),
    decoded: { contextId: "3", turnId: "9", depth: 0, contentHash: APPEND_PAYLOAD_HASH },
  },
  lastWithPayload: {
    payload: hex(
      "01000000", //         u32 count = 1
      "0900000000000000", // u64 turn_id = 9
      "0800000000000000", // u64 parent_turn_id = 8
      "01000000", //         u32 depth = 1
      "0f000000", //         u32 type_len = 15
      ascii(TYPE_ID),
      "02000000", //         u32 type_version = 2
      "01000000", //         u32 encoding = 1
      "00000000", //         u32 compression = 0
      "03000000", //         u32 uncompressed_len = 3
      APPEND_PAYLOAD_HASH, // [32] hash
      "03000000", //         u32 len = 3
      "000102", //           bytes
    ),
    decoded: [{
      turnId: "9",
      parentTurnId: "8",
      depth: 1,
      typeId: TYPE_ID,
      typeVersion: 2,
      encoding: 1,
      compression: 0,
      uncompressedLength: 3,
      contentHash: APPEND_PAYLOAD_HASH,
      payload: APPEND_PAYLOAD,
    }],
  },
  blob: {
    payload: hex("02000000", "0001"), // u32 len = 2, bytes
    decoded: hex("0001"),
  },
  putBlob: {
    payload: hex(BLAKE3_VECTORS[2].hash, "01"), // [32] hash, u8 was_new = 1
    decoded: { hash: BLAKE3_VECTORS[2].hash, wasNew: true },
  },
  attachFs: {
    payload: hex("6300000000000000", "ab".repeat(32)), // u64 turn_id = 99, [32] root
    decoded: { turnId: "99", rootHash: "ab".repeat(32) },
  },
  error: {
    payload: hex(
      "a6010000", // u32 code = 422
      "0b000000", // u32 len = 11
      ascii("bad request"),
    ),
    decoded: { code: 422, detail: "bad request" },
  },
} as const;

/** A whole frame: header (len, msg_type, flags, req_id, little-endian) and payload. */
export const FRAME = {
  bytes: hex(
    "03000000", //         u32 len = 3
    "0500", //             u16 msg_type = 5
    "0100", //             u16 flags = 1
    "0807060504030201", // u64 req_id = 0x0102030405060708
    "090909", //           payload
  ),
  header: { length: 3, msgType: 5, flags: 1, reqId: 0x0102030405060708n },
  payload: hex("090909"),
} as const;
