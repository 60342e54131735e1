/**
 * Client tests that hold against the protocol peer and a real CXDB server
 * alike (set CXDB_TEST_ADDR and CXDB_TEST_HTTP for the latter). They assume
 * nothing about ids or an empty server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { blake3Hex } from "@forge/turnstore";
import { CxdbClient } from "../client/client.ts";
import { CxdbError, ServerError } from "../client/errors.ts";
import { CxdbHttpClient } from "../http/client.ts";
import { MsgType } from "../protocol/wire.ts";
import { encodeTree } from "../fstree/tree.ts";

/** Where the server under test listens. */
export interface ClientTarget {
  /** Binary host. */
  readonly hostname: string;
  /** Binary port. */
  readonly port: number;
  /** HTTP base URL. */
  readonly httpUrl: string;
  /** Stops whatever was started for the test. */
  readonly close?: () => Promise<void>;
}

const te = new TextEncoder();

/** Registers the shared client tests; `open` is called once per test (undefined = ignore). */
export function defineClientSuite(
  name: string,
  open: (() => Promise<ClientTarget>) | undefined,
): void {
  const test = (title: string, fn: (client: CxdbClient, http: CxdbHttpClient) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: open === undefined,
      fn: async () => {
        const target = await open!();
        const client = new CxdbClient({ hostname: target.hostname, port: target.port });
        try {
          await fn(client, new CxdbHttpClient(target.httpUrl));
        } finally {
          await client.close();
          await target.close?.();
        }
      },
    });

  test("a first turn has CXDB depth 0, pipelined appends chain, GET_LAST returns them oldest first", async (client) => {
    const ctx = await client.createContext();
    assert.equal(ctx.headTurnId, "0");
    assert.equal(ctx.headDepth, 0);
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.appendTurn({
          contextId: ctx.contextId,
          typeId: "forge.test.client",
          typeVersion: 1,
          payload: te.encode(`item ${i}`),
        })),
    );
    assert.deepEqual(appended.map((a) => a.depth), Array.from({ length: 20 }, (_, i) => i));
    const last = await client.getLast(ctx.contextId, 20, true);
    assert.deepEqual(last.map((t) => t.turnId), appended.map((a) => a.turnId));
    assert.equal(last[0].parentTurnId, "0");
    for (let i = 1; i < last.length; i++) assert.equal(last[i].parentTurnId, last[i - 1].turnId);
    assert.equal(last[3].contentHash, blake3Hex(te.encode("item 3")));
    const fork = await client.forkContext(appended[9].turnId);
    assert.equal(fork.headDepth, 9);
  });

  test("codes 7 and 8 are answered with ERROR 422; the connection stays up", async (client) => {
    const ctx = await client.createContext();
    await assert.rejects(
      client.request(MsgType.GET_BEFORE, 0, new Uint8Array(20), "GET_BEFORE (test)"),
      (e: unknown) => e instanceof ServerError && e.serverCode === 422,
    );
    assert.equal((await client.getHead(ctx.contextId)).contextId, ctx.contextId);
  });

  test("an unknown context drops the connection: a clear error for it, the others go through", async (client) => {
    const ctx = await client.createContext();
    const [ok, bad] = await Promise.allSettled([
      client.getHead(ctx.contextId),
      client.getHead("18446744073709551000"),
    ]);
    assert.equal(ok.status, "fulfilled");
    assert.ok(
      bad.status === "rejected" && bad.reason instanceof CxdbError &&
        bad.reason.code === "ConnectionDropped" &&
        bad.reason.message.includes("18446744073709551000"),
    );
    assert.equal((await client.getHead(ctx.contextId)).contextId, ctx.contextId);
  });

  test(
    "blobs and an attached tree: PUT_BLOB dedups, ATTACH_FS, browse over HTTP",
    async (client, http) => {
      const content = te.encode(`hello ${crypto.randomUUID()}`);
      const put = await client.putBlob(content);
      assert.equal(put.wasNew, true);
      assert.equal((await client.putBlob(content)).wasNew, false);
      assert.deepEqual(await client.getBlob(put.hash), content);
      const tree = encodeTree([{
        name: "a.txt",
        kind: 0,
        mode: 0o644,
        size: content.length,
        hash: put.hash,
      }]);
      const root = await client.putBlob(tree);
      const ctx = await client.createContext();
      const t = await client.appendTurn({
        contextId: ctx.contextId,
        typeId: "forge.test.client",
        typeVersion: 1,
        payload: te.encode("fs"),
        fsRootHash: root.hash,
      });
      const child = await client.appendTurn({
        contextId: ctx.contextId,
        typeId: "forge.test.client",
        typeVersion: 1,
        payload: te.encode("child"),
      });
      const listing = await http.listFs(child.turnId);
      assert.equal(listing?.fs_root_hash, root.hash, "a turn inherits its ancestor's tree");
      assert.deepEqual(listing?.entries.map((e) => e.name), ["a.txt"]);
      assert.deepEqual(await http.readFsFile(t.turnId, "a.txt"), content);
      await client.attachFs(child.turnId, root.hash);
    },
  );

  test(
    "the HTTP turns page shows the raw bytes and pages with next_before_turn_id",
    async (client, http) => {
      const ctx = await client.createContext();
      for (let i = 0; i < 5; i++) {
        await client.appendTurn({
          contextId: ctx.contextId,
          typeId: "forge.test.client",
          typeVersion: 1,
          payload: Uint8Array.of(0x91, i),
        });
      }
      const page = await http.turns(ctx.contextId, { view: "raw", limit: 2, bytesRender: "hex" });
      assert.deepEqual(page.turns.map((t) => t.bytes_hex), ["9103", "9104"]);
      const older = await http.turns(ctx.contextId, {
        view: "raw",
        limit: 10,
        beforeTurnId: page.next_before_turn_id!,
        bytesRender: "hex",
      });
      assert.deepEqual(older.turns.map((t) => t.bytes_hex), ["9100", "9101", "9102"]);
      assert.equal(await http.health(), true);
    },
  );
}
