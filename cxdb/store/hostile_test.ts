/**
 * The CXDB store against a server whose answers are well-formed frames that
 * do not answer the question: an append acknowledged with a turn of another
 * context, or with turn 0; a turn or blob read back with bytes of another
 * hash. The store refuses them with a BackendError naming what disagreed,
 * instead of recording a turn in the wrong chain or returning wrong bytes.
 */
import assert from "node:assert/strict";
import { BackendError } from "@forge/turnstore";
import { encodeResponse, MsgType } from "../protocol/wire.ts";
import { openCxdbStore } from "./store.ts";
import { frame, startFrameServer } from "../testing/frame_server.ts";

/** One turn of a GET_LAST answer with its payload, declaring `hash`. */
function lastTurn(turnId: bigint, hash: Uint8Array, payload: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode("test.item");
  const out = new Uint8Array(8 + 8 + 4 + 4 + type.length + 16 + 32 + 4 + payload.length);
  const v = new DataView(out.buffer);
  let at = 0;
  v.setBigUint64(at, turnId, true), at += 8;
  v.setBigUint64(at, 0n, true), at += 8; // parent: the root
  v.setUint32(at, 0, true), at += 4; // depth 0: a first turn, as CXDB counts
  v.setUint32(at, type.length, true), at += 4;
  out.set(type, at), at += type.length;
  v.setUint32(at, 1, true), at += 4; // version
  v.setUint32(at, 1, true), at += 4; // msgpack
  v.setUint32(at, 0, true), at += 4; // uncompressed
  v.setUint32(at, payload.length, true), at += 4;
  out.set(hash, at), at += 32;
  v.setUint32(at, payload.length, true), at += 4;
  out.set(payload, at);
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, 1, true);
  return new Uint8Array([...count, ...out]);
}

/**
 * A server that knows one context, 1, acknowledges every append with
 * `appended` (the payload's hash echoed, as CXDB does), and answers GET_LAST
 * and GET_BLOB with what `reads` gives.
 */
function lyingServer(
  appended: { contextId: string; turnId: string },
  reads: { last?: Uint8Array; blob?: Uint8Array; headTurnId?: string } = {},
) {
  const server = startFrameServer(async (conn, type, reqId, body) => {
    let answer: Uint8Array | undefined;
    if (type === MsgType.HELLO) answer = encodeResponse.hello("1");
    else if (type === MsgType.GET_HEAD) {
      const headTurnId = reads.headTurnId ?? "0";
      answer = encodeResponse.head({ contextId: "1", headTurnId, headDepth: 0 });
    } else if (type === MsgType.GET_LAST && reads.last) {
      answer = reads.last;
    } else if (type === MsgType.GET_BLOB && reads.blob) {
      answer = encodeResponse.blob(reads.blob);
    } else if (type === MsgType.APPEND_TURN) {
      const typeLen = new DataView(body.buffer).getUint32(16, true);
      const at = 20 + typeLen + 16; // type id, version, encoding, compression, length
      const hash = [...body.subarray(at, at + 32)]
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      answer = encodeResponse.appended({ ...appended, depth: 0, contentHash: hash });
    }
    if (answer) await conn.write(frame(type, reqId, answer));
  });
  return {
    url: `cxdb://127.0.0.1:${server.port}?timeoutMs=1000&attempts=2`,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

Deno.test("an append acknowledged with another context's turn, or turn 0, is a BackendError", async () => {
  for (const appended of [{ contextId: "7", turnId: "5" }, { contextId: "1", turnId: "0" }]) {
    await using server = lyingServer(appended);
    await using store = await openCxdbStore(server.url);
    await assert.rejects(
      store.appendTurn({
        contextId: "1",
        typeId: "test.item",
        typeVersion: 1,
        payload: new TextEncoder().encode("x"),
      }),
      (e: unknown) => {
        assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
        assert.match(
          e.message,
          new RegExp(
            `append to context 1 with turn ${appended.turnId} of context ${appended.contextId}`,
          ),
        );
        return true;
      },
    );
  }
});

Deno.test("a turn read back with bytes of another hash than it declares is a BackendError", async () => {
  const declared = new Uint8Array(32).fill(7);
  await using server = lyingServer({ contextId: "1", turnId: "1" }, {
    headTurnId: "5",
    last: lastTurn(5n, declared, new TextEncoder().encode("other bytes")),
  });
  await using store = await openCxdbStore(server.url);
  await assert.rejects(store.listTurns("1"), (e: unknown) => {
    assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
    assert.match(e.message, /bytes for turn 5 of hash [0-9a-f]{64}, not the turn's hash (07){32}/);
    return true;
  });
});

Deno.test("a blob read back with other bytes than its hash names is a BackendError", async () => {
  await using server = lyingServer({ contextId: "1", turnId: "1" }, {
    blob: new TextEncoder().encode("not the blob"),
  });
  await using store = await openCxdbStore(server.url);
  const hash = "ab".repeat(32);
  await assert.rejects(store.getBlob(hash), (e: unknown) => {
    assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
    assert.match(e.message, new RegExp(`12 bytes of hash [0-9a-f]{64} for blob ${hash}`));
    return true;
  });
});
