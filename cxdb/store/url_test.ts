import assert from "node:assert/strict";
import { isTurnStoreError, openTurnStore } from "@forge/turnstore";
import { parseCxdbUrl } from "./url.ts";
import { cxdbScheme } from "../mod.ts";
import { startPeer } from "../testing/peer.ts";

Deno.test("a cxdb URL names host, port, HTTP API, TLS and options", () => {
  assert.deepEqual(parseCxdbUrl("cxdb://127.0.0.1:9009?http=http://127.0.0.1:9010"), {
    hostname: "127.0.0.1",
    port: 9009,
    httpUrl: "http://127.0.0.1:9010",
    tls: false,
    caFile: undefined,
    clientTag: undefined,
    timeoutMs: undefined,
    attempts: undefined,
  });
  const tls = parseCxdbUrl("cxdbs://db.example:7000?ca=/etc/ca.pem&tag=forge&timeoutMs=500");
  assert.equal(tls.tls, true);
  assert.equal(tls.port, 7000);
  assert.equal(tls.caFile, "/etc/ca.pem");
  assert.equal(tls.clientTag, "forge");
  assert.equal(tls.timeoutMs, 500);
  assert.equal(parseCxdbUrl("cxdb://h").port, 9009, "the default port");
  assert.equal(parseCxdbUrl("cxdb://h?tls=1").tls, true);
});

Deno.test("a bad cxdb URL is InvalidInput naming the problem", () => {
  for (
    const [url, mention] of [
      ["cxdb://h?bogus=1", "bogus"],
      ["cxdb://h?http=ftp://x", "http"],
      ["cxdb://h?timeoutMs=-4", "timeoutMs"],
      ["memory:", "cxdb://"],
      // Once silently dropped or taken as given:
      ["cxdb://user:pw@h", "credentials"],
      ["cxdb://h/some/path", "/some/path"],
      ["cxdb://h?tls=yes", "tls"],
      ["cxdb://h?attempts=1000000000", "attempts"],
      ["cxdb://h?attempts=1.5", "attempts"],
      ["cxdb://h?timeoutMs=NaN", "timeoutMs"],
      ["cxdb://h:99999", "cxdb URL"],
    ]
  ) {
    assert.throws(
      () => parseCxdbUrl(url),
      (e: unknown) => isTurnStoreError(e, "InvalidInput") && e.message.includes(mention),
      url,
    );
  }
});

Deno.test("openTurnStore opens a cxdb: URL through cxdbScheme", async () => {
  await using peer = await startPeer();
  await using store = await openTurnStore(peer.url, { schemes: { "cxdb:": cxdbScheme } });
  assert.equal(store.backend, "cxdb");
  const ctx = await store.createContext();
  assert.equal((await store.getHead(ctx.contextId)).headDepth, 0);
});

Deno.test("opening a store on an address nothing listens on is a Backend error naming it", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await assert.rejects(
    openTurnStore(`cxdb://127.0.0.1:${port}?attempts=2`, { schemes: { "cxdb:": cxdbScheme } }),
    (e: unknown) => isTurnStoreError(e, "Backend") && e.message.includes(`127.0.0.1:${port}`),
  );
});

Deno.test("a CA file that cannot be read is a BackendError naming it, not a raw OS error", async () => {
  await assert.rejects(
    openTurnStore("cxdbs://127.0.0.1:1?ca=/nonexistent/ca.pem&attempts=1", {
      schemes: { "cxdbs:": cxdbScheme },
    }),
    (e: unknown) => {
      assert.ok(isTurnStoreError(e, "Backend"), `a Backend error, got ${e}`);
      assert.match((e as Error).message, /CA file \/nonexistent\/ca\.pem/);
      return true;
    },
  );
});
