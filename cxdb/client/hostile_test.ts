/**
 * A hostile or broken server, spoken to through the public client: a raw
 * `Deno.listen` on 127.0.0.1 that answers with malformed frames (short,
 * lying lengths, wrong message types, garbage), closes mid-frame or never
 * answers. Every call must end within its timeout with a typed error — a
 * `CxdbError` or the protocol's `WireError`, each with a `code` — never hang,
 * never leave an uncaught error behind (the test runner fails on one), and
 * never allocate what a length prefix claims.
 */
import assert from "node:assert/strict";
import { CxdbClient } from "./client.ts";
import { CxdbError } from "./errors.ts";
import { encodeResponse, MsgType } from "../protocol/wire.ts";
import { WireError } from "../protocol/frame.ts";
import { frame, type FrameServer, startFrameServer } from "../testing/frame_server.ts";

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  values.forEach((n, i) => new DataView(out.buffer).setUint32(4 * i, n, true));
  return out;
}

/** How the server answers one request (HELLO included unless `hello` is true). */
type Answer = (conn: Deno.Conn, type: number, reqId: bigint) => Promise<void>;

/**
 * A server that answers each request with `answer`; with `hello`, HELLO gets
 * a correct answer first.
 */
function hostile(answer: Answer, hello = true): FrameServer {
  return startFrameServer(async (conn, type, reqId) => {
    if (hello && type === MsgType.HELLO) {
      await conn.write(frame(MsgType.HELLO, reqId, encodeResponse.hello("1")));
    } else await answer(conn, type, reqId);
  });
}

function client(port: number): CxdbClient {
  return new CxdbClient({ port, timeoutMs: 500, reconnect: { attempts: 2, initialDelayMs: 5 } });
}

/** Runs `call`, expects a typed error with `code` in `codes`, within `withinMs`. */
async function assertFailsTyped(
  port: number,
  call: (c: CxdbClient) => Promise<unknown>,
  codes: string[],
  withinMs = 3000,
): Promise<Error & { code: string }> {
  const c = client(port);
  const started = performance.now();
  try {
    const error = await call(c).then(
      (value) => assert.fail(`expected a typed error, got ${JSON.stringify(value)}`),
      (e: unknown) => e,
    );
    assert.ok(
      error instanceof CxdbError || error instanceof WireError,
      `a CxdbError or WireError, got ${error}`,
    );
    assert.ok(
      codes.includes(error.code),
      `code ${error.code} is one of ${codes}: ${error.message}`,
    );
    assert.ok(performance.now() - started < withinMs, `failed within ${withinMs} ms`);
    return error;
  } finally {
    await c.close();
  }
}

const never = () => new Promise<void>(() => {});
const hang = (conn: Deno.Conn) => conn.read(new Uint8Array(1)).then(() => {});

Deno.test("a server that never answers: the call times out naming the operation", async () => {
  await using server = hostile(() => never(), false);
  const e = await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Timeout"]);
  assert.match(e.message, /GET_HEAD \(context 1\).*within 500 ms/);
});

Deno.test("a HELLO answer that does not decode fails calls, with no uncaught error", async () => {
  // Before: the HELLO answer was decoded in a detached promise, and a short
  // one ended the process with an uncaught WireError.
  await using server = hostile(async (conn, type, reqId) => {
    if (type === MsgType.HELLO) await conn.write(frame(MsgType.HELLO, reqId, new Uint8Array(3)));
    else await hang(conn);
  }, false);
  const e = await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Unavailable"]);
  assert.match(e.message, /HELLO response: payload of 3 bytes is too short/);
});

Deno.test("a length prefix of 4 GiB is refused at once, nothing allocated for it", async () => {
  await using server = hostile(async (conn, _type, reqId) => {
    await conn.write(frame(MsgType.GET_HEAD, reqId, new Uint8Array(0), 0xffff_ffff));
    await hang(conn);
  });
  const before = Deno.memoryUsage().rss;
  // Our side ends the connection, so this is Protocol: not ConnectionDropped,
  // which the store would read as "the server does not know context 1".
  const e = await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Protocol"]);
  assert.match(e.message, /4294967295 bytes exceeds the 268435456-byte limit/);
  assert.ok(Deno.memoryUsage().rss - before < 64 * 1024 * 1024, "no large allocation");
});

Deno.test("random bytes instead of frames fail calls with a typed error", async () => {
  await using server = hostile(async (conn) => {
    await conn.write(crypto.getRandomValues(new Uint8Array(4096)));
    await hang(conn);
  });
  // Random bytes may happen to frame a short, unwanted answer: then nothing
  // answers the call and it times out; either way it ends, typed.
  await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Protocol", "Timeout"]);
});

Deno.test("a connection closed in the middle of an answer fails the call, typed", async () => {
  await using server = hostile(async (conn, _type, reqId) => {
    const whole = frame(MsgType.GET_HEAD, reqId, new Uint8Array(20));
    await conn.write(whole.subarray(0, 25));
    conn.close();
  });
  await assertFailsTyped(server.port, (c) => c.getHead("1"), ["ConnectionDropped"]);
});

Deno.test("an answer of another message type is not believed", async () => {
  // Before: a GET_BLOB-typed answer to GET_HEAD was decoded as a head.
  await using server = hostile(async (conn, _type, reqId) => {
    await conn.write(frame(MsgType.GET_BLOB, reqId, new Uint8Array(20)));
  });
  const e = await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Protocol"]);
  assert.match(e.message, /answered with message type 9, expected 4/);
});

Deno.test("answers with unknown message types or unknown req_ids are ignored until the timeout", async () => {
  await using server = hostile(async (conn, _type, reqId) => {
    await conn.write(frame(77, reqId + 1000n, new Uint8Array(10)));
    await conn.write(frame(MsgType.GET_HEAD, reqId + 1n, new Uint8Array(20)));
  });
  await assertFailsTyped(server.port, (c) => c.getHead("1"), ["Timeout"]);
});

Deno.test("short or lying answers are WireErrors naming the message, nothing allocated", async () => {
  const cases: [string, number, Uint8Array, (c: CxdbClient) => Promise<unknown>, RegExp][] = [
    ["short head", MsgType.GET_HEAD, new Uint8Array(4), (c) => c.getHead("1"), /GET_HEAD/],
    [
      "4 G turns claimed",
      MsgType.GET_LAST,
      u32s(0xffff_ffff),
      (c) => c.getLast("1", 10, true),
      /GET_LAST response/,
    ],
    [
      "a 4 GiB blob claimed",
      MsgType.GET_BLOB,
      u32s(0xffff_ffff),
      (c) => c.getBlob("a".repeat(64)),
      /GET_BLOB response/,
    ],
    [
      "short append answer",
      MsgType.APPEND_TURN,
      new Uint8Array(10),
      (c) =>
        c.appendTurn({ contextId: "1", typeId: "t", typeVersion: 1, payload: new Uint8Array(3) }),
      /APPEND_TURN response/,
    ],
    [
      "short put answer",
      MsgType.PUT_BLOB,
      new Uint8Array(5),
      (c) => c.putBlob(new Uint8Array([1, 2])),
      /PUT_BLOB response/,
    ],
  ];
  for (const [what, type, payload, call, names] of cases) {
    await using server = hostile(async (conn, _type, reqId) => {
      await conn.write(frame(type, reqId, payload));
    });
    const e = await assertFailsTyped(server.port, call, ["Protocol"]);
    assert.match(e.message, names, what);
  }
});

Deno.test("an ERROR frame whose detail length lies fails its request as Protocol, not the connection", async () => {
  let connections = 0;
  await using server = hostile(async (conn, _type, reqId) => {
    await conn.write(frame(MsgType.ERROR, reqId, u32s(1, 0xffff_fff0)));
  });
  const c = new CxdbClient({ port: server.port, timeoutMs: 500 });
  try {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(c.getHead("1"), (e: unknown) => {
        assert.ok(e instanceof WireError, `a WireError, got ${e}`);
        assert.equal(e.code, "Protocol");
        assert.match(e.message, /ERROR frame/);
        return true;
      });
    }
    connections = c.stats.connects;
  } finally {
    await c.close();
  }
  assert.equal(connections, 1, "the connection stayed up");
});

Deno.test("client options out of range are InvalidInput naming the option, at construction", () => {
  // Before: a NaN, negative or zero timeout meant no deadline at all (a call
  // to a silent server hung), maxInFlight 0 never sent, attempts NaN failed
  // "after NaN attempts".
  const cases: [Record<string, unknown>, string][] = [
    [{ timeoutMs: NaN }, "timeoutMs"],
    [{ timeoutMs: -5 }, "timeoutMs"],
    [{ timeoutMs: 0 }, "timeoutMs"],
    [{ timeoutMs: "100" }, "timeoutMs"],
    [{ port: 70000 }, "port"],
    [{ port: 0 }, "port"],
    [{ hostname: "" }, "hostname"],
    [{ maxInFlight: 0 }, "maxInFlight"],
    [{ maxInFlight: 1.5 }, "maxInFlight"],
    [{ maxQueued: -1 }, "maxQueued"],
    [{ compressThreshold: -1 }, "compressThreshold"],
    [{ clientTag: "x".repeat(70_000) }, "clientTag"],
    [{ reconnect: { attempts: 0 } }, "reconnect.attempts"],
    [{ reconnect: { attempts: NaN } }, "reconnect.attempts"],
    [{ reconnect: { maxDelayMs: Infinity } }, "reconnect.maxDelayMs"],
  ];
  for (const [options, name] of cases) {
    assert.throws(
      () => new CxdbClient(options),
      (e: unknown) => {
        assert.equal((e as { code?: string }).code, "InvalidInput", `${name}: ${e}`);
        assert.match(
          (e as Error).message,
          new RegExp(`option ${name.replace(".", "\\.")} must be`),
        );
        return true;
      },
      name,
    );
  }
});

Deno.test("a call's own timeout of NaN or 0 is refused, not taken as no deadline", async () => {
  await using server = hostile(() => never(), false);
  const c = client(server.port);
  try {
    for (const timeoutMs of [NaN, 0, -1]) {
      await assert.rejects(c.getHead("1", { timeoutMs }), (e: unknown) => {
        assert.equal((e as { code?: string }).code, "InvalidInput");
        assert.match((e as Error).message, /timeoutMs of the call must be/);
        return true;
      });
    }
  } finally {
    await c.close();
  }
});
