/**
 * All backends give the same results and the same errors for the same calls.
 * One script of operations — successes and failures — runs against each
 * backend; ids are renamed in order of first appearance so that stores with
 * different id counters still compare equal, and every outcome (value or
 * error code and message) must match the memory backend's exactly.
 */
import assert from "node:assert/strict";
import { type ForgeStore, isTurnStoreError } from "../turnstore/mod.ts";
import { openStore } from "../stores/mod.ts";
import { startPeer } from "../cxdb/testing/peer.ts";

const te = new TextEncoder();
type Outcome = { ok: unknown } | { error: string; message: string };

async function script(store: ForgeStore): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const run = async (fn: () => Promise<unknown>) => {
    try {
      out.push({ ok: await fn() });
    } catch (error) {
      if (!isTurnStoreError(error)) throw error;
      out.push({ error: error.code, message: error.message });
    }
  };
  const item = (contextId: string, text: string, extra: Record<string, unknown> = {}) =>
    store.appendTurn({
      contextId,
      typeId: "parity.item",
      typeVersion: 1,
      payload: te.encode(text),
      ...extra,
    });

  const a = await store.createContext();
  await run(async () => a);
  const t1 = await item(a.contextId, "one");
  const t2 = await item(a.contextId, "two", { idempotencyKey: "k2" });
  await run(async () => [t1, t2]);
  await run(() => item(a.contextId, "two", { idempotencyKey: "k2" }));
  await run(() => item(a.contextId, "TWO", { idempotencyKey: "k2" }));
  await run(() => item(a.contextId, "stale", { parentTurnId: t1.turnId }));
  await run(() => item(a.contextId, "cas", { parentTurnId: t2.turnId }));
  const fork = await store.forkContext(t1.turnId);
  await run(async () => fork);
  await run(() => item(fork.contextId, "foreign", { parentTurnId: t2.turnId }));
  await run(() => item(fork.contextId, "in fork"));
  await run(() => store.listTurns(fork.contextId));
  await run(() => store.listTurns(a.contextId, { limit: 2 }));
  await run(() => store.listTurns(a.contextId, { beforeTurnId: t2.turnId }));
  await run(() => store.listTurns(fork.contextId, { beforeTurnId: t2.turnId }));
  await run(() => store.listTurns(a.contextId, { limit: 0 }));
  await run(() => store.getHead("424242424242"));
  await run(() => store.getTurn("0"));
  await run(() => store.getTurn("x"));
  await run(() => store.forkContext("424242424242"));
  await run(() =>
    store.appendTurn({
      contextId: a.contextId,
      typeId: "",
      typeVersion: 1,
      payload: new Uint8Array(),
    })
  );
  await run(() =>
    store.appendTurn({
      contextId: a.contextId,
      typeId: "t",
      typeVersion: 0,
      payload: new Uint8Array(),
    })
  );
  const blob = await store.putBlob(te.encode("tree"));
  await run(async () => blob);
  await run(() => store.putBlob(te.encode("tree")));
  await run(() => store.attachFs(t2.turnId, blob.hash));
  await run(() => store.getFsRoot(t2.turnId));
  await run(() => store.getFsRoot(t1.turnId));
  await run(() => store.attachFs(t2.turnId, "a".repeat(64)));
  await run(() => store.getBlob("b".repeat(64)));
  const bundle = {
    registry_version: 1,
    bundle_id: "parity.v1",
    types: {
      "parity.item": { versions: { "1": { fields: { "1": { name: "text", type: "string" } } } } },
    },
  };
  await run(() => store.publishRegistryBundle(bundle));
  await run(() => store.publishRegistryBundle(bundle));
  await run(() => store.publishRegistryBundle({ ...bundle, types: {} }));
  await run(() => store.getRegistryBundle("absent"));
  await run(() => store.getHead(a.contextId));
  // Creation times differ by backend and CXDB keeps no base turn: compare the heads.
  const heads = async (options: Parameters<ForgeStore["listContexts"]>[0]) =>
    (await store.listContexts(options)).map(({ contextId, headTurnId, headDepth }) => ({
      contextId,
      headTurnId,
      headDepth,
    }));
  await run(() => heads({ limit: 2 }));
  await run(() => heads({ limit: 1, beforeContextId: fork.contextId }));
  await run(() => heads({ limit: 0 }));
  await run(() => heads({ beforeContextId: "x" }));
  return out;
}

/**
 * Whether an outcome matches the reference: values equal; errors with the same
 * code and a message that starts with the reference's words (a backend may
 * add, after them, how it found out — e.g. the operation a server dropped).
 */
function same(actual: Outcome | undefined, expected: Outcome): boolean {
  if (actual && "error" in actual && "error" in expected) {
    return actual.error === expected.error &&
      (actual.message === expected.message || actual.message.startsWith(`${expected.message}; `) ||
        actual.message.startsWith(`${expected.message}: `));
  }
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/**
 * Renames ids in order of first appearance, context ids and turn ids in
 * separate namespaces (`c1`, `t1`), so backends that number them differently
 * still compare equal while every id keeps its identity across calls.
 */
function normalize(outcomes: Outcome[]): string {
  const names = { c: new Map<string, string>(), t: new Map<string, string>() };
  const name = (space: "c" | "t", id: string) => {
    const map = names[space];
    if (!map.has(id)) map.set(id, `${space}${map.size + 1}`);
    return map.get(id)!;
  };
  const renameText = (text: string) =>
    text.replace(
      /\b(context |)([1-9][0-9]{0,19})\b/g,
      (_m, word: string, id: string) => word ? `${word}${name("c", id)}` : name("t", id),
    );
  const walk = (value: unknown, key = ""): unknown => {
    if (value instanceof Uint8Array) return `bytes:${[...value].join(",")}`;
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    if (typeof value !== "string") return value;
    if (key === "contextId") return name("c", value);
    if (/TurnId$|^turnId$/.test(key) && value !== "0") return name("t", value);
    return key === "message" ? renameText(value) : value;
  };
  return JSON.stringify(walk(outcomes));
}

const dir = await Deno.makeTempDir({ prefix: "forge-parity-" });
// A store and whatever must be shut down with it (the CXDB protocol peer).
type Opened = { store: ForgeStore; close?: () => Promise<void> };
const backends: Record<string, () => Promise<Opened>> = {
  "kv (file)": async () => ({ store: await openStore(`kv:${dir}/parity.kv`) }),
  "kv (:memory:)": async () => ({ store: await openStore("kv::memory:") }),
  "fs (fsync)": async () => ({ store: await openStore(`fs:${dir}/fs-fsync?durability=fsync`) }),
  "fs (group)": async () => ({ store: await openStore(`fs:${dir}/fs-group?durability=group`) }),
  "fs (none)": async () => ({ store: await openStore(`fs:${dir}/fs-none?durability=none`) }),
  "cxdb (protocol peer)": async () => {
    const peer = await startPeer();
    return { store: await openStore(peer.url), close: () => peer.close() };
  },
};

const reference = await (async () => {
  await using memory = await openStore("memory:");
  return normalize(await script(memory));
})();

for (const [name, open] of Object.entries(backends)) {
  Deno.test(`${name} gives the memory backend's results and errors, call for call`, async () => {
    const { store, close } = await open();
    let got: string;
    try {
      got = normalize(await script(store));
    } finally {
      await store.close();
      await close?.();
    }
    const expected = JSON.parse(reference) as Outcome[];
    const actual = JSON.parse(got) as Outcome[];
    const differences = expected.flatMap((e, i) =>
      same(actual[i], e) ? [] : [
        `call ${i + 1}:\n  ${name}: ${JSON.stringify(actual[i])}\n  memory: ${JSON.stringify(e)}`,
      ]
    );
    assert.deepEqual(differences, [], differences.join("\n"));
    assert.equal(actual.length, expected.length);
  });
}

Deno.test("the parity script exercises both successes and every error code it names", () => {
  const outcomes = JSON.parse(reference) as Outcome[];
  const codes = new Set(outcomes.flatMap((o) => ("error" in o ? [o.error] : [])));
  assert.deepEqual([...codes].sort(), ["Conflict", "InvalidInput", "NotFound"]);
  assert.ok(outcomes.filter((o) => "ok" in o).length >= 15);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
