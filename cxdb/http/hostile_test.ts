/**
 * A broken or hostile HTTP API: bodies that are not JSON, JSON of another
 * shape, ids that are not ids, turn pages whose bytes or order are wrong. The
 * HTTP client fails such an answer with a `CxdbError` of code "Protocol"
 * naming the request and the first bad field; the store turns it into a
 * `BackendError`, and never hands back bytes other than a turn's own.
 */
import assert from "node:assert/strict";
import { BackendError, type ForgeStore } from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "../store/store.ts";
import { CxdbError, HttpError } from "../client/errors.ts";
import { CxdbHttpClient } from "./client.ts";

/** An HTTP server on 127.0.0.1 that answers every request with `answer()`. */
function fakeHttp(answer: (path: string) => Response) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => answer(new URL(req.url).pathname),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const json = (body: unknown) => () => Response.json(body);

async function assertProtocol(call: Promise<unknown>, names: RegExp): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof CxdbError, `a CxdbError, got ${e}`);
    assert.equal(e.code, "Protocol");
    assert.match(e.message, names);
    return true;
  });
}

Deno.test("HTTP answers that are not JSON, or of another shape, are Protocol errors naming the field", async () => {
  const cases: [string, () => Response, (h: CxdbHttpClient) => Promise<unknown>, RegExp][] = [
    ["not JSON", () => new Response("{oops"), (h) => h.contexts(), /GET \/v1\/contexts.*not JSON/],
    ["null", json(null), (h) => h.contexts(), /no contexts array/],
    [
      "an id that is not an id",
      json({ contexts: [{ context_id: "abc", head_turn_id: "0", head_depth: 0 }] }),
      (h) => h.contexts(),
      /contexts\[0\]\.context_id must be a decimal u64 string, got "abc"/,
    ],
    [
      "a depth that is not a number",
      json({ contexts: [{ context_id: "1", head_turn_id: "0", head_depth: "0" }] }),
      (h) => h.contexts(),
      /contexts\[0\]\.head_depth/,
    ],
    ["a page without turns", json({ meta: {} }), (h) => h.turns("1"), /no turns array/],
    [
      "a turn without its type",
      json({ turns: [{ turn_id: "2", parent_turn_id: "1", depth: 1, declared_type: null }] }),
      (h) => h.turns("1"),
      /turns\[0\]\.declared_type\.type_id/,
    ],
    [
      "a hash that is not a hash",
      json({
        turns: [{
          turn_id: "2",
          parent_turn_id: "1",
          depth: 1,
          declared_type: { type_id: "t", type_version: 1 },
          content_hash_b3: "xyz",
        }],
      }),
      (h) => h.turns("1"),
      /turns\[0\]\.content_hash_b3/,
    ],
    [
      "a bundle that is not one",
      json({}),
      (h) => h.getBundle("b"),
      /GET registry bundle b.*registry_version/,
    ],
    ["a listing without a root", json({ entries: [] }), (h) => h.listFs("2"), /fs_root_hash/],
  ];
  for (const [what, answer, call, names] of cases) {
    await using server = fakeHttp(answer);
    const http = new CxdbHttpClient(server.url, { timeoutMs: 2000 });
    await assertProtocol(call(http), names).catch((e) => {
      throw new Error(`${what}: ${e.message}`, { cause: e });
    });
  }
});

/** A store on the in-repo peer whose HTTP API is `answer` instead of the peer's. */
async function storeWithHttp(
  answer: (path: string, real: { ctx: string; turns: string[] }) => Response,
  run: (store: ForgeStore, real: { ctx: string; turns: string[] }) => Promise<void>,
): Promise<void> {
  await using peer = await startPeer();
  const real = { ctx: "", turns: [] as string[] };
  {
    await using writer = await openCxdbStore(peer.url);
    real.ctx = (await writer.createContext()).contextId;
    for (const text of ["one", "two", "three"]) {
      const turn = await writer.appendTurn({
        contextId: real.ctx,
        typeId: "test.item",
        typeVersion: 1,
        payload: new TextEncoder().encode(text),
      });
      real.turns.push(turn.turnId);
    }
  }
  await using server = fakeHttp((path) => answer(path, real));
  await using store = await openCxdbStore(
    `cxdb://127.0.0.1:${peer.port}?http=${server.url}&timeoutMs=2000&attempts=2`,
  );
  await run(store, real);
}

function rawTurn(turnId: string, parent: string, depth: number, bytes: string) {
  return {
    turn_id: turnId,
    parent_turn_id: parent,
    depth,
    declared_type: { type_id: "test.item", type_version: 1 },
    bytes_b64: btoa(bytes),
  };
}

const backendError = (names: RegExp) => (e: unknown) => {
  assert.ok(e instanceof BackendError, `a BackendError, got ${e}`);
  assert.match(e.message, names);
  return true;
};

Deno.test("a page of other bytes than the turn's is refused, never returned", async () => {
  await storeWithHttp(
    (_path, real) =>
      Response.json({
        turns: [rawTurn(real.turns[1], real.turns[0], 1, "EVIL")],
        next_before_turn_id: null,
      }),
    async (store, real) => {
      // The store has read the turns over the binary protocol, so it knows their hashes.
      await store.listTurns(real.ctx);
      await assert.rejects(
        store.listTurns(real.ctx, { beforeTurnId: real.turns[2], limit: 1 }),
        backendError(new RegExp(`turn ${real.turns[1]} read over HTTP has bytes of hash`)),
      );
    },
  );
});

Deno.test("a page whose hash disagrees with its own bytes is refused", async () => {
  await storeWithHttp(
    (_path, real) =>
      Response.json({
        turns: [{
          ...rawTurn(real.turns[1], real.turns[0], 1, "EVIL"),
          content_hash_b3: "a".repeat(64),
        }],
      }),
    async (store, real) => {
      await assert.rejects(
        store.listTurns(real.ctx, { beforeTurnId: real.turns[2], limit: 1 }),
        backendError(/has bytes of hash [0-9a-f]{64}, expected a{64}/),
      );
    },
  );
});

Deno.test("a page that is not the history below the cursor is refused", async () => {
  await storeWithHttp(
    // Turn 1 where turn 2 belongs: right bytes, wrong place.
    (_path, real) => Response.json({ turns: [rawTurn(real.turns[0], "0", 0, "one")] }),
    async (store, real) => {
      await assert.rejects(
        store.listTurns(real.ctx, { beforeTurnId: real.turns[2], limit: 1 }),
        backendError(/is not that turn's history/),
      );
    },
  );
});

Deno.test("a garbled HTTP API fails store reads with BackendErrors, not TypeErrors", async () => {
  for (const body of ["{oops", "null", "{}", '{"contexts": 5, "turns": "x"}']) {
    await storeWithHttp(() => new Response(body), async (store, real) => {
      await assert.rejects(store.listContexts(), backendError(/malformed answer/));
      await assert.rejects(
        store.listTurns(real.ctx, { beforeTurnId: real.turns[2] }),
        backendError(/malformed answer/),
      );
      await assert.rejects(store.getRegistryBundle("b"), backendError(/malformed answer/));
      // The binary side is untouched: the history is all there.
      const turns = await store.listTurns(real.ctx);
      assert.deepEqual(turns.map((t) => new TextDecoder().decode(t.payload)), [
        "one",
        "two",
        "three",
      ]);
    });
  }
});

Deno.test("a body that never ends fails at the timeout as an HttpError, not a DOMException", async () => {
  await using server = fakeHttp(() =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"contexts": ['));
        },
      }),
    )
  );
  const http = new CxdbHttpClient(server.url, { timeoutMs: 300, retry: { attempts: 1 } });
  const started = performance.now();
  await assert.rejects(http.contexts(), (e: unknown) => {
    assert.ok(e instanceof HttpError, `an HttpError, got ${e}`);
    assert.equal(e.code, "Http");
    assert.match(e.message, /GET \/v1\/contexts.*reading the answer \(HTTP 200\) failed/);
    return true;
  });
  assert.ok(performance.now() - started < 3000, "within the timeout");
});

Deno.test("a timeout past a timer's range is no timeout, not an instant one; a bad one is InvalidInput", async () => {
  // Before: 3e9 ms overflowed the timer and every request aborted at once;
  // 2^53 and Infinity made AbortSignal.timeout throw a TypeError.
  for (const timeoutMs of [3e9, 2 ** 53, Infinity]) {
    await using server = fakeHttp(() => Response.json({ contexts: [] }));
    const http = new CxdbHttpClient(server.url, { timeoutMs });
    assert.deepEqual(await http.contexts(), [], String(timeoutMs));
  }
  for (const timeoutMs of [0, -1, NaN]) {
    assert.throws(
      () => new CxdbHttpClient("http://127.0.0.1:1", { timeoutMs }),
      (e: unknown) => (e as { code?: string }).code === "InvalidInput",
      String(timeoutMs),
    );
  }
});

Deno.test("an event stream cut mid-way is an HttpError after the events that arrived", async () => {
  await using server = fakeHttp(() =>
    new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(new TextEncoder().encode('event: turn_appended\ndata: {"turn_id":"1"}\n\n'));
          await new Promise((r) => setTimeout(r, 50));
          c.error(new Error("cut")); // the server drops the connection mid-stream
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  const http = new CxdbHttpClient(server.url);
  const seen: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of http.events()) seen.push(e.json);
    })(),
    (e: unknown) => {
      assert.ok(e instanceof HttpError, `an HttpError, got ${e}`);
      assert.match(e.message, /GET \/v1\/events.*the event stream broke/);
      return true;
    },
  );
  assert.deepEqual(seen, [{ turn_id: "1" }]);
});
