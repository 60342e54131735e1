import assert from "node:assert/strict";
import {
  buildBundle,
  defineEnum,
  defineRecord,
  defineStruct,
  f,
  isTurnStoreError,
} from "@forge/turnstore";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "../store/store.ts";
import { publishBundles } from "../store/bundles.ts";
import { CxdbHttpClient } from "./client.ts";
import { HttpError } from "../client/errors.ts";

const Phase = defineEnum("test.http.Phase", { started: 1, done: 2 });
const Tool = defineStruct({
  typeId: "test.http.Tool",
  fields: { name: f.string(1), calls: f.u32(2) },
});
const Note = defineRecord({
  typeId: "test.http.note",
  version: 1,
  fields: {
    text: f.string(1),
    at: f.unixMs(2),
    tokens: f.u64(3),
    phase: f.enum(4, Phase),
    tools: f.structs(5, Tool),
  },
});
const Unregistered = defineRecord({
  typeId: "test.http.unregistered",
  version: 1,
  fields: { x: f.string(1) },
});

Deno.test("published bundles make the typed view show each record with named fields", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const bundle = buildBundle("test.http.bundle.v1", [Note]);
  assert.deepEqual(await publishBundles(store, [bundle]), [{
    bundleId: "test.http.bundle.v1",
    created: true,
  }]);
  assert.deepEqual(await publishBundles(store, [bundle]), [{
    bundleId: "test.http.bundle.v1",
    created: false,
  }]);
  const ctx = await store.createContext();
  await store.appendTurn({
    contextId: ctx.contextId,
    typeId: Note.typeId,
    typeVersion: 1,
    payload: Note.encode({
      text: "hello",
      at: Date.UTC(2026, 0, 2),
      tokens: 42,
      phase: "done",
      tools: [{ name: "read_file", calls: 3 }],
    }),
  });
  const page = await store.http!.turns(ctx.contextId);
  assert.equal(page.meta.registry_bundle_id, "test.http.bundle.v1");
  assert.deepEqual(page.turns[0].data, {
    text: "hello",
    at: "2026-01-02T00:00:00.000Z",
    tokens: "42",
    phase: "done",
    tools: [{ name: "read_file", calls: 3 }],
  });
  assert.equal(page.turns[0].depth, 0, "the HTTP API shows CXDB's own depths");
});

Deno.test("a typed page with an unregistered type fails with 424; the raw view still reads it", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const payload = Unregistered.encode({ x: "y" });
  await store.appendTurn({
    contextId: ctx.contextId,
    typeId: Unregistered.typeId,
    typeVersion: 1,
    payload,
  });
  await assert.rejects(
    store.http!.turns(ctx.contextId),
    (e: unknown) => e instanceof HttpError && e.status === 424,
  );
  const raw = await store.http!.turns(ctx.contextId, { view: "raw", bytesRender: "hex" });
  assert.equal(
    raw.turns[0].bytes_hex,
    Array.from(payload, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
});

Deno.test("turn pages follow next_before_turn_id to the root", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ctx = await store.createContext();
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    ids.push(
      (await store.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: Uint8Array.of(0x90),
      }))
        .turnId,
    );
  }
  const seen: string[] = [];
  for await (const page of store.http!.pages(ctx.contextId, { limit: 3, view: "raw" })) {
    seen.unshift(...page.turns.map((t) => t.turn_id));
  }
  assert.deepEqual(seen, ids);
  const contexts = await store.http!.contexts({ limit: 5 });
  assert.ok(contexts.some((c) => c.context_id === ctx.contextId && c.head_turn_id === ids[6]));
});

Deno.test("registry bundles: 201 then 204, a broken rule is 422 (Conflict in the store), GET revalidates with ETag", async () => {
  await using peer = await startPeer();
  const http = new CxdbHttpClient(peer.httpUrl);
  const bundle = buildBundle("test.http.etag", [Note]);
  assert.deepEqual(await http.putBundle(bundle), { status: 201 });
  assert.deepEqual(await http.putBundle(bundle), { status: 204 });
  const got = await http.getBundle("test.http.etag");
  assert.equal(got.status, 200);
  if (got.status !== 200) return;
  assert.deepEqual(got.bundle.types, bundle.types);
  assert.match(got.etag ?? "", /^"[0-9a-f]{64}"$/);
  assert.deepEqual(await http.getBundle("test.http.etag", got.etag!), { status: 304 });
  assert.deepEqual(await http.getBundle("absent"), { status: 404 });
  const retyped = structuredClone(bundle);
  retyped.bundle_id = "test.http.etag2";
  retyped.types[Note.typeId].versions["2"] = { fields: { "1": { name: "text", type: "u64" } } };
  await assert.rejects(
    http.putBundle(retyped),
    (e: unknown) => e instanceof HttpError && e.status === 422,
  );
  // A second process (a fresh store) meets the same rule as Conflict.
  await using store = await openCxdbStore(peer.url);
  await assert.rejects(
    store.publishRegistryBundle(retyped),
    (e: unknown) => isTurnStoreError(e, "Conflict") && e.message.includes("test.http.etag2"),
  );
  assert.deepEqual((await store.getRegistryBundle("test.http.etag"))?.types, bundle.types);
  assert.deepEqual(
    (await store.getRegistryBundle("test.http.etag"))?.types,
    bundle.types,
    "served from the ETag cache",
  );
});

Deno.test("the event stream is an async iterable of parsed server-sent events", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  const ac = new AbortController();
  const events: { event: string; json: unknown }[] = [];
  const iterator = store.http!.events(ac.signal)[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.value?.event, "connected");
  const ctx = await store.createContext();
  await store.appendTurn({
    contextId: ctx.contextId,
    typeId: "t",
    typeVersion: 1,
    payload: Uint8Array.of(0x90),
  });
  for (let i = 0; i < 2; i++) {
    const next = await iterator.next();
    events.push({ event: next.value!.event, json: next.value!.json });
  }
  ac.abort();
  await iterator.return?.();
  assert.equal(events[0].event, "context_created");
  assert.equal(String((events[0].json as { context_id: number }).context_id), ctx.contextId);
  assert.equal(events[1].event, "turn_appended");
  assert.equal((events[1].json as { depth: number }).depth, 0);
});

Deno.test("a store without the HTTP URL says registry bundles are Unsupported", async () => {
  await using peer = await startPeer();
  await using store = await openCxdbStore(`cxdb://127.0.0.1:${peer.port}`);
  await assert.rejects(
    store.getRegistryBundle("x"),
    (e: unknown) => isTurnStoreError(e, "Unsupported") && e.message.includes("?http="),
  );
  // Paging before a turn still works, through a fork.
  const ctx = await store.createContext();
  const turns = [];
  for (let i = 0; i < 4; i++) {
    turns.push(
      await store.appendTurn({
        contextId: ctx.contextId,
        typeId: "t",
        typeVersion: 1,
        payload: Uint8Array.of(i),
      }),
    );
  }
  const page = await store.listTurns(ctx.contextId, { beforeTurnId: turns[3].turnId, limit: 2 });
  assert.deepEqual(page.map((t) => t.turnId), [turns[1].turnId, turns[2].turnId]);
  assert.deepEqual(page.map((t) => t.depth), [2, 3]);
});
