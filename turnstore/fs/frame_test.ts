import assert from "node:assert/strict";
import {
  checkFrame,
  decodeHeader,
  encodeFrame,
  FRAME_HEADER_BYTES,
  RecordKind,
  sealFrame,
} from "./frame.ts";
import {
  decodeTurn,
  encodeAppend,
  encodeTurn,
  setTurnPlace,
  type TurnRecordData,
} from "./codec.ts";
import { blake3Hex } from "../core/hash.ts";
import type { ValidAppend } from "../core/validate.ts";
import { parseFsTarget } from "./options.ts";
import { isTurnStoreError } from "../core/errors.ts";

Deno.test("a frame round-trips, and any flipped byte is caught by a checksum", () => {
  const body = new Uint8Array(64).map((_, i) => i * 3);
  const frame = encodeFrame(RecordKind.turn, body);
  assert.equal(frame.length, FRAME_HEADER_BYTES + 64);
  const ok = checkFrame(frame);
  assert.ok(typeof ok !== "string");
  assert.equal(ok.kind, RecordKind.turn);
  assert.deepEqual(ok.body, body);
  for (let i = 0; i < frame.length; i++) {
    const bad = frame.slice();
    bad[i] ^= 0x01;
    assert.equal(typeof checkFrame(bad), "string", `byte ${i} flipped`);
  }
  assert.equal(decodeHeader(frame.subarray(0, 10)), undefined, "a short header is no header");
  assert.match(checkFrame(frame.subarray(0, 30)) as string, /cut short/);
});

Deno.test("a turn body round-trips every optional field", () => {
  const turn: TurnRecordData = {
    turnId: 2 ** 40,
    contextId: 7,
    parentTurnId: 2 ** 40 - 1,
    depth: 123_456,
    typeId: "forge.agent.user_turn ✓",
    typeVersion: 4_000_000_000,
    contentHash: "ab".repeat(32),
    fsRootHash: "cd".repeat(32),
    idempotencyKey: "key é",
    payload: new Uint8Array([0, 1, 255]),
  };
  assert.deepEqual(decodeTurn(encodeTurn(turn)), turn);
  const bare = { ...turn, fsRootHash: undefined, idempotencyKey: undefined };
  assert.deepEqual(decodeTurn(encodeTurn(bare)), bare);
});

Deno.test("a turn encoded before its place is known, then placed, equals one encoded with it", () => {
  const turn: TurnRecordData = {
    turnId: 2 ** 40 + 5,
    contextId: 9,
    parentTurnId: 2 ** 40 + 4,
    depth: 70_000,
    typeId: "forge.agent.assistant_turn",
    typeVersion: 3,
    contentHash: "ef".repeat(32),
    idempotencyKey: "forge-agent:v1|3:s-1|7|14:assistant_turn",
    payload: new Uint8Array([5, 6, 7]),
  };
  const early = encodeTurn({ ...turn, turnId: 0, parentTurnId: 0, depth: 0 }, 20);
  setTurnPlace(early, 20, turn.turnId, turn.parentTurnId, turn.depth);
  assert.deepEqual(early, encodeTurn(turn, 20));
  assert.deepEqual(decodeTurn(early.subarray(20)), { ...turn, fsRootHash: undefined });
});

Deno.test("an fs target names a directory and an optional durability; anything else is InvalidInput", () => {
  assert.deepEqual(parseFsTarget("./data"), { dir: "./data", durability: "group" });
  assert.deepEqual(parseFsTarget("/x/y?durability=fsync"), { dir: "/x/y", durability: "fsync" });
  assert.deepEqual(parseFsTarget("d?durability=none"), { dir: "d", durability: "none" });
  for (
    const [bad, mention] of [
      ["", "directory"],
      ["?durability=fsync", "directory"],
      ["d?durability=sometimes", "sometimes"],
      ["d?speed=fast", "speed"],
    ]
  ) {
    assert.throws(() => parseFsTarget(bad), (e: Error) => {
      assert.ok(isTurnStoreError(e, "InvalidInput"), String(e));
      assert.ok(e.message.includes(mention), e.message);
      return true;
    });
  }
});

Deno.test("a turn sealed in place equals the same turn framed by copy", () => {
  const turn: TurnRecordData = {
    turnId: 3,
    contextId: 1,
    parentTurnId: 2,
    depth: 3,
    typeId: "t",
    typeVersion: 1,
    contentHash: "0123456789abcdef".repeat(4),
    payload: new Uint8Array([9, 8, 7]),
  };
  const inPlace = sealFrame(encodeTurn(turn, FRAME_HEADER_BYTES), RecordKind.turn);
  assert.deepEqual(inPlace, encodeFrame(RecordKind.turn, encodeTurn(turn)));
  const checked = checkFrame(inPlace);
  assert.ok(typeof checked !== "string");
  assert.deepEqual(decodeTurn(checked.body), {
    ...turn,
    fsRootHash: undefined,
    idempotencyKey: undefined,
  });
});

Deno.test("an append's record encoded in one pass has encodeTurn's bytes, its hash and where its key is", () => {
  const payload = new Uint8Array(300).map((_, i) => i * 7);
  const requests: ValidAppend[] = [
    { contextId: "12", typeId: "forge.agent.model_call", typeVersion: 2, payload },
    {
      contextId: "2199023255552",
      typeId: "t ✓",
      typeVersion: 9,
      payload: new Uint8Array(0),
      idempotencyKey: "forge-agent:v1|36:0f0e|17|10:model_call",
      fsRootHash: "cd".repeat(32),
    },
    { contextId: "3", typeId: "t", typeVersion: 1, payload, idempotencyKey: "naïve 🔑 key" },
    { contextId: "3", typeId: "t", typeVersion: 1, payload, idempotencyKey: "" },
  ];
  for (const req of requests) {
    const contextId = Number(req.contextId);
    const { record, contentHash, keyFrom, keyTo } = encodeAppend(
      req,
      contextId,
      FRAME_HEADER_BYTES,
      (n) => new Uint8Array(n),
    );
    assert.equal(contentHash, blake3Hex(req.payload));
    const expected = encodeTurn({
      turnId: 0,
      contextId,
      parentTurnId: 0,
      depth: 0,
      typeId: req.typeId,
      typeVersion: req.typeVersion,
      contentHash,
      fsRootHash: req.fsRootHash,
      idempotencyKey: req.idempotencyKey,
      payload: req.payload,
    }, FRAME_HEADER_BYTES);
    assert.deepEqual(record, expected, `key ${JSON.stringify(req.idempotencyKey)}`);
    const key = req.idempotencyKey === undefined
      ? ""
      : new TextDecoder().decode(record.subarray(keyFrom, keyTo));
    assert.equal(key, req.idempotencyKey ?? "");
  }
});

Deno.test("an append's record is placed in the bytes its allocator gives", () => {
  const arena = new Uint8Array(4096);
  const req: ValidAppend = {
    contextId: "1",
    typeId: "t",
    typeVersion: 1,
    payload: new Uint8Array([1, 2, 3]),
    idempotencyKey: "k",
  };
  const { record } = encodeAppend(req, 1, FRAME_HEADER_BYTES, (n) => arena.subarray(100, 100 + n));
  assert.equal(record.buffer, arena.buffer);
  assert.equal(record.byteOffset, 100);
  const sealed = checkFrame(sealFrame(record, RecordKind.turn));
  assert.ok(typeof sealed !== "string");
  assert.deepEqual(decodeTurn(sealed.body).payload, req.payload);
});
