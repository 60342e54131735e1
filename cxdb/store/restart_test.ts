/**
 * A CXDB server that goes down and comes back: binary calls reconnect and HTTP
 * reads retry, with one retry policy; a server that stays down fails them
 * clearly once the policy is used up.
 */
import assert from "node:assert/strict";
import { isTurnStoreError } from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "./store.ts";
import { CxdbHttpClient } from "../http/client.ts";
import { HttpError } from "../client/errors.ts";

const te = new TextEncoder();
const td = new TextDecoder();

async function appendAll(store: Awaited<ReturnType<typeof openCxdbStore>>, ctx: string, n: number) {
  for (let i = 0; i < n; i++) {
    await store.appendTurn({
      contextId: ctx,
      typeId: "t",
      typeVersion: 1,
      payload: te.encode(`${i}`),
    });
  }
}

Deno.test("HTTP reads and binary calls issued while the server restarts wait for it and answer", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = (await store.createContext()).contextId;
  await appendAll(store, ctx, 3);
  const newest = await store.listTurns(ctx, { limit: 1 });
  await peer.stop();
  const listing = store.listTurns(ctx); // binary GET_LAST
  const older = store.listTurns(ctx, { beforeTurnId: newest[0].turnId }); // HTTP page
  const head = store.getHead(ctx); // binary
  const pages = store.http!.turns(ctx, { view: "raw" }); // HTTP
  await new Promise((r) => setTimeout(r, 300));
  peer.start();
  assert.deepEqual((await listing).map((t) => td.decode(t.payload)), ["0", "1", "2"]);
  assert.deepEqual((await older).map((t) => td.decode(t.payload)), ["0", "1"]);
  assert.equal((await head).headDepth, 3);
  assert.equal((await pages).turns.length, 3);
  await appendAll(store, ctx, 1);
  assert.equal(peer.counts.appends, 4, "nothing sent twice");
});

Deno.test("a server that stays down fails HTTP reads and binary calls with a clear error after the policy's attempts", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(`${peer.url}&attempts=3`);
  const ctx = (await store.createContext()).contextId;
  await appendAll(store, ctx, 1);
  await peer.stop();
  const started = performance.now();
  await assert.rejects(store.http!.turns(ctx, { view: "raw" }), (e: Error) => {
    assert.ok(e instanceof HttpError, String(e));
    assert.match(e.message, /GET turns of context .*attempt 3.*failed/);
    return true;
  });
  await assert.rejects(store.getHead(ctx), (e: Error) => {
    assert.ok(isTurnStoreError(e, "Backend"), String(e));
    assert.match(e.message, /after 3 attempts/);
    return true;
  });
  assert.ok(performance.now() - started < 5_000, "the policy bounds the wait");
  peer.start();
});

Deno.test("the HTTP client retries a 503 from a restarting server and gives up on a 404 at once", async () => {
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    calls++;
    if (new URL(req.url).pathname === "/v1/contexts" && calls < 3) {
      return new Response("starting", { status: 503 });
    }
    if (new URL(req.url).pathname === "/v1/contexts") {
      return Response.json({ contexts: [{ context_id: "1", head_turn_id: "0", head_depth: 0 }] });
    }
    return new Response("no", { status: 404 });
  });
  try {
    const http = new CxdbHttpClient(`http://127.0.0.1:${server.addr.port}`);
    assert.equal((await http.contexts()).length, 1);
    assert.equal(calls, 3, "two 503s, then the answer");
    calls = 0;
    await assert.rejects(http.turns("1"), (e: Error & { status?: number }) => e.status === 404);
    assert.equal(calls, 1, "a 404 is an answer, not an outage");
  } finally {
    await server.shutdown();
  }
});
