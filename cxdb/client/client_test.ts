import assert from "node:assert/strict";
import { CxdbClient } from "./client.ts";
import { CxdbError, ServerError } from "./errors.ts";
import { blake3Bytes, toHex } from "@forge/turnstore";
import {
  encodeAppend,
  encodeFrame,
  encodeResponse,
  FrameParser,
  MsgType,
} from "../protocol/wire.ts";
import { startPeer } from "../testing/peer.ts";

const te = new TextEncoder();

/** A raw loopback server whose behaviour a test scripts frame by frame. */
function rawServer(
  onFrames: (frames: { msgType: number; reqId: bigint }[], conn: Deno.Conn) => Promise<void> | void,
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const parser = new FrameParser();
        const buf = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            parser.push(buf.subarray(0, n));
            const frames = [];
            for (let f = parser.next(); f; f = parser.next()) frames.push(f.header);
            if (frames.length) await onFrames(frames, conn);
          }
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

Deno.test("answers are matched to requests by req_id, even out of order", async () => {
  const held: { msgType: number; reqId: bigint }[] = [];
  const server = rawServer(async (frames, conn) => {
    for (const f of frames) if (f.msgType === MsgType.GET_HEAD) held.push(f);
    if (held.length === 3) {
      // Answer the three GET_HEADs newest first, each naming its own context.
      for (const [i, f] of [...held.entries()].reverse()) {
        await conn.write(encodeFrame(
          MsgType.GET_HEAD,
          0,
          f.reqId,
          encodeResponse.head({ contextId: String(i + 1), headTurnId: "0", headDepth: 0 }),
        ));
      }
    }
  });
  const client = new CxdbClient({ port: server.port });
  try {
    const heads = await Promise.all(["1", "2", "3"].map((c) => client.getHead(c)));
    assert.deepEqual(heads.map((h) => h.contextId), ["1", "2", "3"]);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("many requests are in flight at once on one connection", async () => {
  let maxBatch = 0;
  const server = rawServer(async (frames, conn) => {
    const heads = frames.filter((f) => f.msgType === MsgType.GET_HEAD);
    maxBatch = Math.max(maxBatch, heads.length);
    for (const f of heads) {
      await conn.write(
        encodeFrame(
          f.msgType,
          0,
          f.reqId,
          encodeResponse.head({ contextId: "1", headTurnId: "0", headDepth: 0 }),
        ),
      );
    }
  });
  const client = new CxdbClient({ port: server.port });
  try {
    await client.connect();
    await Promise.all(Array.from({ length: 64 }, () => client.getHead("1")));
    assert.ok(
      maxBatch > 1,
      `requests were pipelined (largest batch read by the server: ${maxBatch})`,
    );
    assert.equal(client.stats.connects, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("requests submitted in one tick leave in one write, the first one included", async () => {
  // Against a server that leaves Nagle on (as CXDB does, and the peer), a
  // burst split over two writes gets its last answers held until the client's
  // delayed ACK (~40 ms) once the client has nothing more to send.
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port });
  try {
    const ctx = await client.createContext();
    await client.getHead(ctx.contextId); // HELLO and the above are answered: nothing in flight
    const before = client.stats.writes;
    const appended = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        client.appendTurn({
          contextId: ctx.contextId,
          typeId: "t",
          typeVersion: 1,
          payload: new Uint8Array(512).fill(i),
        })),
    );
    assert.equal(appended.length, 64);
    assert.equal(client.stats.writes - before, 1, "64 appends of one tick, one socket write");
    await Promise.all([client.getHead(ctx.contextId), client.getHead(ctx.contextId)]);
    assert.equal(client.stats.writes - before, 2, "a lone pair after the burst: one write more");
  } finally {
    await client.close();
  }
});

Deno.test("an ERROR frame rejects only its request, naming the operation; the connection stays usable", async () => {
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port });
  try {
    const ctx = await client.createContext();
    const bad = client.request(99, 0, new Uint8Array(), "MSG 99 (test)");
    const before = client.request(
      MsgType.GET_BEFORE,
      0,
      new Uint8Array(20),
      "GET_BEFORE (context 1)",
    );
    await assert.rejects(
      bad,
      (e: unknown) =>
        e instanceof ServerError && e.serverCode === 400 && e.message.includes("MSG 99 (test)"),
    );
    await assert.rejects(before, (e: unknown) => e instanceof ServerError && e.serverCode === 422);
    assert.equal((await client.getHead(ctx.contextId)).contextId, ctx.contextId);
    assert.equal(client.stats.connects, 1, "no reconnect was needed");
  } finally {
    await client.close();
  }
});

Deno.test("a request the server drops twice fails with ConnectionDropped naming it; the others are retried and succeed", async () => {
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port });
  try {
    const ctx = await client.createContext();
    const results = await Promise.allSettled([
      client.getHead(ctx.contextId),
      client.getHead("424242"),
      client.getHead(ctx.contextId),
      client.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: te.encode("a"),
      }),
    ]);
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[2].status, "fulfilled");
    assert.equal(results[3].status, "fulfilled");
    const failed = results[1] as PromiseRejectedResult;
    assert.ok(
      failed.reason instanceof CxdbError && failed.reason.code === "ConnectionDropped",
      String(failed.reason),
    );
    assert.match(failed.reason.message, /GET_HEAD \(context 424242\)/);
    assert.equal(peer.counts.appends, 1, "the append happened once");
    assert.ok(client.stats.drops >= 2, "dropped, then dropped again when retried alone");
  } finally {
    await client.close();
  }
});

Deno.test("a timeout rejects with Timeout naming the operation; AbortSignal cancels", async () => {
  const server = rawServer(() => {}); // never answers
  const client = new CxdbClient({ port: server.port, timeoutMs: 50 });
  try {
    await assert.rejects(
      client.getHead("7"),
      (e: unknown) =>
        e instanceof CxdbError && e.code === "Timeout" &&
        e.message.includes("GET_HEAD (context 7)"),
    );
    const ac = new AbortController();
    const pending = client.getHead("8", { signal: ac.signal, timeoutMs: 10_000 });
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof CxdbError && e.code === "Aborted");
    await assert.rejects(
      client.getHead("9", { signal: AbortSignal.abort() }),
      (e: unknown) => e instanceof CxdbError && e.code === "Aborted",
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the queue is bounded: past maxQueued a request fails with QueueFull at once", async () => {
  const server = rawServer(() => {});
  const client = new CxdbClient({
    port: server.port,
    maxInFlight: 1,
    maxQueued: 2,
    timeoutMs: Infinity,
  });
  try {
    await client.connect(); // the unanswered HELLO holds the one in-flight slot
    const a = client.getHead("1");
    const b = client.getHead("2");
    await assert.rejects(
      client.getHead("3"),
      (e: unknown) =>
        e instanceof CxdbError && e.code === "QueueFull" &&
        e.message.includes("GET_HEAD (context 3)"),
    );
    const settled = Promise.allSettled([a, b]);
    await client.close();
    for (const r of await settled) {
      assert.ok(
        r.status === "rejected" && r.reason instanceof CxdbError && r.reason.code === "Closed",
      );
    }
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an unreachable server fails queued requests with Unavailable after the backoff attempts", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const client = new CxdbClient({
    port,
    reconnect: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
  });
  try {
    await assert.rejects(
      client.getHead("1"),
      (e: unknown) =>
        e instanceof CxdbError && e.code === "Unavailable" && e.message.includes("3 attempts"),
    );
  } finally {
    await client.close();
  }
});

Deno.test("a connection closed by the server while idle is reopened on the next request", async () => {
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port });
  try {
    const ctx = await client.createContext();
    peer.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await client.getHead(ctx.contextId)).contextId, ctx.contextId);
    assert.equal(client.stats.connects, 2);
  } finally {
    await client.close();
  }
});

Deno.test("large payloads travel zstd-compressed and come back intact", async () => {
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port, compressThreshold: 1024 });
  try {
    const ctx = await client.createContext();
    const payload = te.encode("abc".repeat(100_000));
    const appended = await client.appendTurn({
      contextId: ctx.contextId,
      typeId: "t",
      typeVersion: 1,
      payload,
    });
    assert.equal(appended.depth, 0, "CXDB's first turn has depth 0");
    const [turn] = await client.getLast(ctx.contextId, 1, true);
    assert.deepEqual(turn.payload, payload);
  } finally {
    await client.close();
  }
});

Deno.test("TLS connections work with a trusted CA", async () => {
  const dir = new URL("../testing/tls/", import.meta.url);
  const cert = Deno.readTextFileSync(new URL("cert.pem", dir));
  const key = Deno.readTextFileSync(new URL("key.pem", dir));
  await using peer = await startPeer({ tls: { cert, key } });
  const client = new CxdbClient({
    hostname: "localhost",
    port: peer.port,
    tls: { caCerts: [cert] },
  });
  try {
    const ctx = await client.createContext();
    assert.match(ctx.contextId, /^[1-9]/);
  } finally {
    await client.close();
  }
  const untrusted = new CxdbClient({
    hostname: "localhost",
    port: peer.port,
    tls: true,
    reconnect: { attempts: 1 },
  });
  try {
    await assert.rejects(
      untrusted.getHead("1"),
      (e: unknown) => e instanceof CxdbError && e.code === "Unavailable",
    );
  } finally {
    await untrusted.close();
  }
});

Deno.test("a server that keeps closing connections without answering makes requests fail with Unavailable, not hang", async () => {
  const server = rawServer((_frames, conn) => conn.close());
  const client = new CxdbClient({
    port: server.port,
    reconnect: { attempts: 3, initialDelayMs: 1 },
  });
  try {
    await assert.rejects(
      client.getHead("5"),
      (e: unknown) =>
        e instanceof CxdbError && e.code === "Unavailable" &&
        e.message.includes("GET_HEAD (context 5)"),
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an APPEND_TURN sent raw through request() answers with its payload bytes, appendTurn with the decoded answer", async () => {
  const peer = await startPeer();
  const client = new CxdbClient({ port: peer.port });
  try {
    const ctx = await client.createContext();
    const payload = new Uint8Array([0x91, 0x01]);
    const decoded = await client.appendTurn({
      contextId: ctx.contextId,
      typeId: "t.raw",
      typeVersion: 1,
      payload,
    });
    assert.equal(decoded.depth, 0);
    const { flags, payload: body } = encodeAppend({
      contextId: ctx.contextId,
      parentTurnId: "0",
      typeId: "t.raw",
      typeVersion: 1,
      encoding: 1,
      compression: 0,
      uncompressedLength: payload.length,
      contentHash: blake3Bytes(payload),
      payload,
    });
    const raw = await client.request(MsgType.APPEND_TURN, flags, body, "raw append");
    assert.ok(raw instanceof Uint8Array);
    assert.equal(raw.length, 52, "context, turn, depth, hash");
    const answers = [
      decoded,
      ...await Promise.all([1, 2, 3].map((i) =>
        client.appendTurn({
          contextId: ctx.contextId,
          typeId: "t.raw",
          typeVersion: 1,
          payload: new Uint8Array([0x91, i + 1]),
        })
      )),
    ];
    // Answers decoded straight from the read buffer stay intact after later reads.
    assert.deepEqual(answers.map((a) => a.depth).sort(), [0, 2, 3, 4]);
    assert.equal(new Set(answers.map((a) => a.turnId)).size, 4);
  } finally {
    await client.close();
    await peer.close();
  }
});

Deno.test("send buffers are reused once their requests settle, and every frame still leaves intact", async () => {
  // 3 000 appends of 1 KiB are ~13 send chunks of 256 KiB; with reuse a few
  // serve them all. Some appends are aborted while still queued (their room is
  // released before the bytes around it are written). The peer checks each
  // payload against its BLAKE3 and drops the connection on a mismatch, so a
  // chunk written again too early would show as a drop or a wrong turn. 600
  // callers and at most 16 in flight: most frames wait encoded (more than a
  // chunk holds) while others around them are answered.
  await using peer = await startPeer();
  const client = new CxdbClient({ port: peer.port, maxInFlight: 16, timeoutMs: 10_000 });
  try {
    const ctx = await client.createContext();
    const payload = (i: number) => {
      const p = new Uint8Array(1024).fill(i & 0xff);
      p[0] = i >> 8;
      return p;
    };
    const stored: number[] = [];
    let next = 0;
    let aborted = 0;
    await Promise.all(Array.from({ length: 600 }, async () => {
      for (let i = next++; i < 3000; i = next++) {
        if (i % 97 === 0) {
          const abort = new AbortController();
          const gone = client.appendTurn(
            { contextId: ctx.contextId, typeId: "t", typeVersion: 1, payload: payload(i) },
            { signal: abort.signal },
          );
          abort.abort();
          await assert.rejects(gone, (e) => e instanceof CxdbError && e.code === "Aborted");
          aborted++;
          continue;
        }
        await client.appendTurn({
          contextId: ctx.contextId,
          typeId: "t",
          typeVersion: 1,
          payload: payload(i),
        });
        stored.push(i);
      }
    }));
    assert.equal(client.stats.drops, 0, "no frame reached the peer corrupted");
    assert.ok(aborted > 0);
    assert.ok(
      client.stats.sendChunks <= 4,
      `send chunks reused: ${client.stats.sendChunks} allocated for ${stored.length} appends`,
    );
    const turns = await client.getLast(ctx.contextId, stored.length, true);
    assert.equal(turns.length, stored.length);
    for (const [k, t] of turns.entries()) {
      assert.deepEqual(t.payload, payload(stored[k]), `turn ${k} holds the bytes sent`);
      assert.equal(t.contentHash, toHex(blake3Bytes(payload(stored[k]))));
    }
  } finally {
    await client.close();
  }
});
