/**
 * Crash and concurrency tests: a child process appending keyed turns (every
 * fourth one 9,000 bytes: a kv body row) is SIGKILLed at a random point, 20
 * rounds in a row on the same store, for each durable backend and durability
 * policy; after each kill the store is reopened and must hold every
 * acknowledged turn with its bytes, and re-sending every key the child used
 * (acknowledged or in flight) must give each key exactly one turn. Then
 * several processes append to one kv context at once, with overlapping keys.
 *
 * Rounds are seeded (FORGE_CRASH_SEED, else the clock); a failure names its
 * seed and round so it can be replayed.
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { ForgeStore, StoredTurn } from "../turnstore/core/types.ts";
import { openTurnStore } from "../turnstore/open.ts";
import { crashPayload } from "./testdata/crash_payload.ts";

const CONFIG = fromFileUrl(new URL("../deno.json", import.meta.url));
const CHILD = fromFileUrl(new URL("./testdata/crash_child.ts", import.meta.url));
const ROUNDS = 20;
const seed = Number(Deno.env.get("FORGE_CRASH_SEED") ?? Date.now() % 1_000_000_007);

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function spawnChild(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      CHILD,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads "turnId i" lines until `stop` returns true or the child ends. */
async function readAcks(
  child: Deno.ChildProcess,
  stop: (acked: number) => boolean,
): Promise<Map<number, string>> {
  const acked = new Map<number, string>();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!stop(acked.size)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const [turnId, i] = line.split(" ");
      acked.set(Number(i), turnId);
    }
  }
  await reader.cancel().catch(() => {});
  return acked;
}

async function allTurns(store: ForgeStore, contextId: string): Promise<StoredTurn[]> {
  const out: StoredTurn[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.listTurns(contextId, { limit: 1000, beforeTurnId: before });
    out.unshift(...page);
    if (page.length < 1000) return out;
    before = page[0].turnId;
  }
}

const td = new TextDecoder();
const textOf = (t: StoredTurn) => td.decode(t.payload).replace(/\.+$/, "");

const configs = [
  { name: "fs durability=fsync", url: (dir: string) => `fs:${dir}/s?durability=fsync` },
  { name: "fs durability=group", url: (dir: string) => `fs:${dir}/s?durability=group` },
  // `none` promises that a process crash loses nothing acknowledged (the
  // write reached the kernel); only a power loss may.
  { name: "fs durability=none", url: (dir: string) => `fs:${dir}/s?durability=none` },
  { name: "kv (file)", url: (dir: string) => `kv:${dir}/s.kv` },
];

for (const config of configs) {
  Deno.test(`${config.name}: ${ROUNDS} rounds of SIGKILL at a random point lose no acknowledged turn and duplicate none`, async () => {
    const next = random(seed ^ config.name.length * 7919);
    const dir = await Deno.makeTempDir({ prefix: "forge-crash-" });
    const url = config.url(dir);
    try {
      const setup = await openTurnStore(url);
      const ctx = (await setup.createContext()).contextId;
      await setup.close();
      const everAcked = new Map<string, string>(); // key → turn id
      for (let round = 0; round < ROUNDS; round++) {
        const where = `seed ${seed}, round ${round}`;
        const writers = 1 + Math.floor(next() * 8);
        const killAfter = 1 + Math.floor(next() * 120);
        const prefix = `r${round}-`;
        const child = spawnChild([url, ctx, String(writers), prefix]);
        const acked = await readAcks(child, (n) => n >= killAfter);
        // A little more time at random, so the kill also lands mid-write.
        await new Promise((r) => setTimeout(r, Math.floor(next() * 4)));
        child.kill("SIGKILL");
        const status = await child.status;
        assert.ok(
          acked.size >= killAfter || status.success === false,
          `${where}: the child stopped early: ${
            td.decode(await new Response(child.stderr).arrayBuffer())
          }`,
        );
        await child.stderr.cancel().catch(() => {});

        const store = await openTurnStore(url);
        try {
          // Every acknowledged turn is there with its bytes.
          for (const [i, turnId] of acked) {
            const turn = await store.getTurn(turnId);
            assert.equal(textOf(turn), `${prefix}${i}`, `${where}: turn ${turnId}`);
            everAcked.set(`${prefix}${i}`, turnId);
          }
          // Re-sending every key the child may have used: acknowledged ones
          // come back deduplicated as the same turn; in-flight ones land once.
          const maxTried = Math.max(-1, ...acked.keys()) + writers;
          for (let i = 0; i <= maxTried; i++) {
            const key = `${prefix}${i}`;
            const again = await store.appendTurn({
              contextId: ctx,
              typeId: "test.crash",
              typeVersion: 1,
              payload: crashPayload(key, i),
              idempotencyKey: key,
            });
            if (acked.has(i)) {
              assert.equal(again.deduplicated, true, `${where}: ${key} replays`);
              assert.equal(again.turnId, acked.get(i), `${where}: ${key} is the same turn`);
            }
            everAcked.set(key, again.turnId);
          }
        } finally {
          await store.close();
        }
      }
      // The whole history: one turn per key, every acknowledged one included.
      const store = await openTurnStore(url);
      try {
        const turns = await allTurns(store, ctx);
        const texts = turns.map(textOf);
        assert.equal(new Set(texts).size, texts.length, `seed ${seed}: no key has two turns`);
        for (const [key, turnId] of everAcked) {
          assert.ok(turns.some((t) => t.turnId === turnId && textOf(t) === key), `${key}`);
        }
        turns.forEach((t, i) => assert.equal(t.depth, i + 1, "an unbroken chain"));
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("four processes append 200 keyed turns each to one kv context, half their keys shared: each key once, nothing lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-procs-" });
  const url = `kv:${dir}/shared.kv`;
  try {
    const setup = await openTurnStore(url);
    const ctx = (await setup.createContext()).contextId;
    await setup.close();
    // Processes 0/1 use keys a0…a199, processes 2/3 use b0…b199: each key is
    // sent by two processes at about the same time.
    const children = [0, 1, 2, 3].map((p) => spawnChild([url, ctx, "4", p < 2 ? "a" : "b", "200"]));
    const acks = await Promise.all(children.map((c) => readAcks(c, () => false)));
    const statuses = await Promise.all(children.map(async (c) => {
      const stderr = td.decode(await new Response(c.stderr).arrayBuffer());
      return { status: await c.status, stderr };
    }));
    for (const { status, stderr } of statuses) assert.equal(status.code, 0, stderr);
    for (const acked of acks) assert.equal(acked.size, 200);
    // Both senders of a key got the same turn.
    for (const [i, turnId] of acks[0]) assert.equal(acks[1].get(i), turnId, `a${i}`);
    for (const [i, turnId] of acks[2]) assert.equal(acks[3].get(i), turnId, `b${i}`);
    const store = await openTurnStore(url);
    try {
      const turns = await allTurns(store, ctx);
      assert.equal(turns.length, 400, "200 a-keys and 200 b-keys, each once");
      const texts = new Set(turns.map(textOf));
      for (let i = 0; i < 200; i++) assert.ok(texts.has(`a${i}`) && texts.has(`b${i}`), `${i}`);
      turns.forEach((t, i) => assert.equal(t.depth, i + 1, "an unbroken chain"));
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
