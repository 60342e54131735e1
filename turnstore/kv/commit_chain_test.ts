import assert from "node:assert/strict";
import { CommitChain, REFILL_TOKENS, TOKEN_TTL_MS, TOKEN_USE_MS } from "./commit_chain.ts";
import { KvStore } from "./store.ts";
import { KV_CONNECT_LIMITS, LOCAL_KV_LIMITS } from "./limits.ts";
import { PEER_TARGET } from "./test_util.ts";
import { tokenKey } from "./keys.ts";
import {
  type KvConnectPeer,
  type KvConnectPeerOptions,
  startKvConnectPeer,
} from "./testing/kv_connect_peer.ts";
import type { CommitStats } from "./budget.ts";
import type { AppendedTurn, StoredTurn } from "../core/types.ts";
import { BackendError, NotFoundError } from "../core/errors.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** Waits until `chain` holds tokens (its first take starts a refill). */
async function stocked(chain: CommitChain): Promise<void> {
  for (let i = 0; i < 200 && chain.stock === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(chain.stock > 0, "a refill landed");
}

async function tokensIn(kv: Deno.Kv): Promise<number> {
  return (await Array.fromAsync(kv.list({ prefix: ["tok"] }))).length;
}

/** A fresh in-repo KV Connect peer whose token Deno's client will present. */
async function startPeer(options?: KvConnectPeerOptions): Promise<KvConnectPeer> {
  const peer = await startKvConnectPeer(options);
  Deno.env.set("DENO_KV_ACCESS_TOKEN", peer.token);
  return peer;
}

/**
 * Appends from `writers` writers at once, `each` turns apiece, one after another, writer w's
 * i-th being `text(w, i)`; returns the texts in call order.
 */
async function appendFromWriters(
  store: KvStore,
  contextId: string,
  writers: number,
  each: number,
  text: (w: number, i: number) => string,
): Promise<string[]> {
  const order: string[] = [];
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < each; i++) {
      const t = text(w, i);
      order.push(t);
      await store.appendTurn({ contextId, typeId: "t", typeVersion: 1, payload: te.encode(t) });
    }
  }));
  return order;
}

/** 300-byte texts, large enough that rounds of them are cut into quick commits. */
const padded = (w: number, i: number) => `w${w}-${i}`.padEnd(300, ".");

/** Asserts that `turns` are one chain: each the child of the one before it, one deeper. */
function assertOneChain(turns: readonly StoredTurn[]): void {
  for (let i = 1; i < turns.length; i++) {
    assert.equal(turns[i].parentTurnId, turns[i - 1].turnId, `turn at depth ${turns[i].depth}`);
    assert.equal(turns[i].depth, turns[i - 1].depth + 1);
  }
}

Deno.test("commit chain: a commit that checks the token of one that failed cannot land", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const chain = new CommitChain(kv, 4, LOCAL_KV_LIMITS);
    assert.equal(chain.take(), undefined, "no token before the first refill lands");
    await stocked(chain);
    assert.equal(chain.stock, REFILL_TOKENS);
    assert.equal(await tokensIn(kv), REFILL_TOKENS);

    // Commit A takes a token and fails its own check (another writer filled its slot).
    await kv.set(["slot"], "taken");
    const a = chain.take()!;
    const failedA = await kv.atomic().check({ key: ["slot"], versionstamp: null })
      .delete(tokenKey(a.id)).set(["a"], 1).commit();
    assert.equal(failedA.ok, false);
    // Commit B, sent while A was in flight, checks A's token is gone: it is not.
    const b = chain.take()!;
    const failedB = await kv.atomic().check({ key: tokenKey(a.id), versionstamp: null })
      .delete(tokenKey(b.id)).set(["b"], 1).commit();
    assert.equal(failedB.ok, false, "B cannot land after A failed");
    assert.equal((await kv.get(["b"])).value, null);

    // The same pair when A lands: B lands after it.
    chain.giveBack(b);
    chain.giveBack(a);
    const a2 = chain.take()!;
    assert.equal(a2.id, a.id, "a token given back is taken first");
    const b2 = chain.take()!;
    assert.ok((await kv.atomic().delete(tokenKey(a2.id)).set(["a"], 2).commit()).ok);
    assert.ok(
      (await kv.atomic().check({ key: tokenKey(a2.id), versionstamp: null })
        .delete(tokenKey(b2.id)).set(["b"], 2).commit()).ok,
    );
    await chain.close();
    assert.equal(await tokensIn(kv), 0, "close deletes the tokens it did not use");
  } finally {
    kv.close();
  }
});

Deno.test("commit chain: a token is not taken near the end of its life, and refills stop after close", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const clock = { now: 0 };
    const chain = new CommitChain(kv, 2, LOCAL_KV_LIMITS, undefined, () => clock.now);
    chain.take();
    await stocked(chain);
    assert.ok(
      TOKEN_USE_MS < TOKEN_TTL_MS / 2,
      "a token is used only in the first part of its life",
    );
    clock.now = TOKEN_USE_MS + 1;
    // Every token of the first refill is too old now; a new refill starts.
    assert.equal(chain.take(), undefined);
    await stocked(chain);
    assert.ok(chain.take() !== undefined, "a token of the new refill");
    await chain.close();
    assert.equal(chain.take(), undefined);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(chain.stock, 0, "no refill after close");
  } finally {
    kv.close();
  }
});

Deno.test("commit chain: a token is too old by the wall clock too, which keeps counting while the machine sleeps", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // performance.now() stands still while the machine is suspended; the store's expiry does not.
    const clock = { mono: 0, wall: 1_000_000 };
    const chain = new CommitChain(
      kv,
      2,
      LOCAL_KV_LIMITS,
      undefined,
      () => clock.mono,
      () => clock.wall,
    );
    chain.take();
    await stocked(chain);
    clock.wall += TOKEN_TTL_MS; // a day asleep: every token has expired in the store
    assert.equal(chain.take(), undefined, "an expired token is not taken");
    await chain.close();
  } finally {
    kv.close();
  }
});

Deno.test("commit chain: close while a refill is in flight leaves no token behind", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const chain = new CommitChain(kv, 2, LOCAL_KV_LIMITS);
    assert.equal(chain.take(), undefined); // starts a refill
    await chain.close(); // before it landed
    assert.equal(await tokensIn(kv), 0);
    assert.equal(chain.stock, 0);
  } finally {
    kv.close();
  }
});

/** A database that several clients open. */
interface Database {
  /** A new client of it. */
  open(): Promise<Deno.Kv>;
  /** Checks that failed, as far as the server counts them (the peer does). */
  checkFailures(): number | undefined;
  /** Drops it. */
  done(): Promise<void>;
}

/** Two clients of one database: a KV file opened twice, or the in-repo peer. */
const TWO_CLIENTS: [string, () => Promise<Database>][] = [
  ["file", async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-kv-chain-" });
    return {
      open: () => Deno.openKv(`${dir}/forge.kv`),
      checkFailures: () => undefined,
      done: () => Deno.remove(dir, { recursive: true }),
    };
  }],
  ["KV Connect peer", async () => {
    const peer = await startPeer();
    return {
      open: () => Deno.openKv(peer.url),
      checkFailures: () => peer.stats.checkFailures,
      done: () => peer.close(),
    };
  }],
];

for (const target of [PEER_TARGET]) {
  Deno.test(`commit chain (${target.name}): appends to one context overlap and keep call order`, async () => {
    const { kv, cleanup } = await target.open();
    const commits: CommitStats[] = [];
    const store = new KvStore(kv, { limits: KV_CONNECT_LIMITS, onCommit: (s) => commits.push(s) });
    try {
      const { contextId } = await store.createContext();
      // Sequential appends first, so the chain has tokens, then 32 in flight for a while.
      const order = await appendFromWriters(store, contextId, 1, 3, (_, i) => `warm ${i}`);
      // Rounds overlap when they are cut into quick commits (once larger commits are seen to
      // stall on Deno's remote client).
      order.push(...await appendFromWriters(store, contextId, 32, 30, padded));
      const overlapped = commits.filter((s) => s.checks === 2).length;
      assert.ok(overlapped > 0, "some commits were sent while another was in flight");
      const turns = await store.listTurns(contextId, { limit: 2000 });
      assert.deepEqual(turns.map((t) => td.decode(t.payload)), order);
      assertOneChain(turns);
    } finally {
      await store.close();
      await cleanup();
    }
  });
}

for (const [name, make] of TWO_CLIENTS) {
  Deno.test(`commit chain (${name}): tokens are set only where rounds are cut, and a closed store leaves none behind`, async () => {
    const db = await make();
    const reader = await db.open();
    try {
      const store = new KvStore(await db.open(), { limits: KV_CONNECT_LIMITS });
      const { contextId } = await store.createContext();
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from(
            { length: 64 },
            (_, i) =>
              store.appendTurn({
                contextId,
                typeId: "t",
                typeVersion: 1,
                payload: te.encode(`${i}`),
              }),
          ),
        );
      }
      if (name === "file") {
        // A local commit never stalls, so rounds are never cut and nothing overlaps.
        assert.equal(await tokensIn(reader), 0);
      } else assert.ok(await tokensIn(reader) > 0, "the chain set tokens");
      await store.close();
      assert.equal(await tokensIn(reader), 0);
      assert.equal((await Array.fromAsync(reader.list({ prefix: ["turn"] }))).length > 0, true);
    } finally {
      reader.close();
      await db.done();
    }
  });
}

for (const [name, make] of TWO_CLIENTS) {
  Deno.test(`commit chain (${name}): two clients racing on one context lose nothing and orphan nothing`, async () => {
    const db = await make();
    const a = new KvStore(await db.open(), { limits: KV_CONNECT_LIMITS });
    // A second client of the same database (another process, say): its own heads, ids, tokens.
    const b = new KvStore(await db.open(), { limits: KV_CONNECT_LIMITS });
    try {
      const { contextId } = await a.createContext();
      const run = (store: KvStore, name: string) =>
        appendFromWriters(store, contextId, 16, 25, (w, i) => `${name}${w}-${i}`);
      const [sentA, sentB] = await Promise.all([run(a, "a"), run(b, "b")]);
      const sent = new Map([["a", sentA], ["b", sentB]]);
      const turns = await a.listTurns(contextId, { limit: 2000 });
      assert.equal(turns.length, 800, "every append landed once");
      assertOneChain(turns);
      // Each handle's appends are in its call order.
      for (const [name, texts] of sent) {
        const stored = turns.map((t) => td.decode(t.payload)).filter((t) => t.startsWith(name));
        assert.deepEqual(stored, texts);
      }
      // Every turn reads back by id, with the parent the listing shows.
      for (const t of turns.slice(-50)) {
        assert.equal((await b.getTurn(t.turnId)).parentTurnId, t.parentTurnId);
      }
      const failures = db.checkFailures();
      if (failures !== undefined) assert.ok(failures > 0, "the clients did conflict");
    } finally {
      await b.close();
      await a.close();
      await db.done();
    }
  });
}

type CommitAnswer = Deno.KvCommitResult | Deno.KvCommitError;

/**
 * A client whose atomic commits go through `commit`, which is given the chain tokens the commit
 * deletes (the tokens it takes) and `send`, which commits it, and answers in its place.
 */
function interceptCommits(
  kv: Deno.Kv,
  commit: (tokens: bigint[], send: () => Promise<CommitAnswer>) => Promise<CommitAnswer>,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop !== "atomic") {
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return () => {
        const op = target.atomic();
        const tokens: bigint[] = [];
        const wrapped: Deno.AtomicOperation = new Proxy(op, {
          get(o, p) {
            if (p === "delete") {
              return (key: Deno.KvKey) => {
                if (key[0] === "tok") tokens.push(key[1] as bigint);
                o.delete(key);
                return wrapped;
              };
            }
            if (p === "commit") return () => commit(tokens, () => o.commit());
            const value = Reflect.get(o, p, o);
            return typeof value === "function"
              ? (...args: unknown[]) => {
                const out = value.apply(o, args);
                return out === o ? wrapped : out;
              }
              : value;
          },
        });
        return wrapped;
      };
    },
  });
}

/**
 * A client whose first commit that takes a chain token is held until `before` ran: another
 * writer lands first, so that commit fails, while the store goes on sending commits after it.
 */
function holdFirstChainedCommit(kv: Deno.Kv, before: () => Promise<void>): Deno.Kv {
  let held = false;
  return interceptCommits(kv, async (tokens, send) => {
    if (tokens.length > 0 && !held) {
      held = true;
      await before();
    }
    return send();
  });
}

Deno.test("commit chain (KV Connect peer): commits sent after one that fails do not land, and are planned again", async () => {
  const peer = await startPeer();
  const other = new KvStore(await Deno.openKv(peer.url), { limits: KV_CONNECT_LIMITS });
  let contextId = "";
  let foreign = "";
  const store = new KvStore(
    holdFirstChainedCommit(await Deno.openKv(peer.url), async () => {
      foreign = (await other.appendTurn({
        contextId,
        typeId: "t",
        typeVersion: 1,
        payload: te.encode("foreign"),
      })).turnId;
    }),
    { limits: KV_CONNECT_LIMITS },
  );
  try {
    contextId = (await store.createContext()).contextId;
    const failuresBefore = peer.stats.checkFailures;
    const order = await appendFromWriters(store, contextId, 32, 20, padded);
    assert.ok(foreign !== "", "the held commit was reached");
    const turns = await store.listTurns(contextId, { limit: 2000 });
    assert.equal(turns.length, 32 * 20 + 1);
    assertOneChain(turns);
    const texts = turns.map((t) => td.decode(t.payload));
    assert.deepEqual(
      texts.filter((t) => t !== "foreign"),
      order,
      "the store's appends in call order",
    );
    assert.ok(
      peer.stats.checkFailures - failuresBefore >= 2,
      "the held commit and one after it failed",
    );
  } finally {
    await store.close();
    await other.close();
    await peer.close();
  }
});

Deno.test("commit chain (KV Connect peer): a chained quick commit of two 256 B turns goes out in one write", async () => {
  const bodies: number[] = [];
  const peer = await startPeer({ onAtomicWrite: (n) => bodies.push(n) });
  const commits: CommitStats[] = [];
  const store = new KvStore(await Deno.openKv(peer.url), {
    limits: KV_CONNECT_LIMITS,
    onCommit: (s) => commits.push(s),
  });
  try {
    const { contextId } = await store.createContext();
    const payload = new Uint8Array(256).fill(7);
    const append = () =>
      store.appendTurn({ contextId, typeId: "bench.turn", typeVersion: 1, payload });
    // Until a larger commit has stalled, rounds go whole; after it, they are cut.
    await Promise.all(Array.from({ length: 32 }, append));
    bodies.length = 0;
    commits.length = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = 0; i < 20; i++) await append();
    }));
    const chained = commits.filter((s) => s.checks === 2);
    assert.ok(chained.length > 0, "commits overlapped");
    const appendCommits = commits.filter((s) => s.checks > 0).length;
    assert.ok(appendCommits <= 32 * 20 / 2 + 5, `${appendCommits} commits: two turns in most`);
    // Deno's client sends up to 1,024 bytes at once; the rest would wait ~40 ms.
    const over = bodies.filter((n) => n > 1024).length;
    assert.ok(over <= 2, `${over} of ${bodies.length} commits over 1,024 bytes`);
  } finally {
    await store.close();
    await peer.close();
  }
});

/**
 * A client whose first commit that takes a chain token lands but whose answer is lost. Deno's
 * remote client then sends it again, and the second attempt fails the checks the first one
 * passed: it answers "checks failed" (`answer` "failed"); or the client gives up and the commit
 * throws (`answer` "error"). A later commit that takes that same token again is held until
 * `before` ran (another writer lands first, so it fails), and the commits sent after it wait
 * for it. `lost` tells whether an answer was lost, `reused` whether its token was taken again.
 */
function loseFirstChainedAnswer(
  kv: Deno.Kv,
  answer: "failed" | "error",
  before: () => Promise<void>,
): { kv: Deno.Kv; lost: () => boolean; reused: () => boolean } {
  let lost: bigint | undefined;
  let reused = false;
  let held: Promise<CommitAnswer> | undefined;
  const client = interceptCommits(kv, async (tokens, send) => {
    if (lost === undefined && tokens.length === 1) {
      lost = tokens[0];
      await send(); // it lands; its answer is lost
      if (answer === "error") throw new Error("connection reset");
      return { ok: false }; // the resend's
    }
    if (!reused && lost !== undefined && tokens.includes(lost)) {
      reused = true;
      held = before().then(send);
      return held;
    }
    if (held) await held.catch(() => {}); // sent after the held one: applied after it
    return send();
  });
  return { kv: client, lost: () => lost !== undefined, reused: () => reused };
}

for (const answer of ["failed", "error"] as const) {
  Deno.test(
    `commit chain (KV Connect peer): a token whose commit landed although it answered ${
      answer === "failed" ? "'checks failed'" : "with an error"
    } is settled as landed: its appends resolve once, its token is not taken again`,
    async () => {
      const peer = await startPeer();
      const other = new KvStore(await Deno.openKv(peer.url), { limits: KV_CONNECT_LIMITS });
      let contextId = "";
      const client = loseFirstChainedAnswer(await Deno.openKv(peer.url), answer, async () => {
        await other.appendTurn({
          contextId,
          typeId: "t",
          typeVersion: 1,
          payload: te.encode("foreign"),
        });
      });
      const store = new KvStore(client.kv, { limits: KV_CONNECT_LIMITS });
      try {
        contextId = (await store.createContext()).contextId;
        const landed: string[] = [];
        let failed = 0;
        await Promise.all(Array.from({ length: 32 }, async (_, w) => {
          for (let i = 0; i < 20; i++) {
            const text = `w${w}-${i}`.padEnd(300, ".");
            try {
              await store.appendTurn({
                contextId,
                typeId: "t",
                typeVersion: 1,
                payload: te.encode(text),
              });
              landed.push(text);
            } catch (error) {
              assert.ok(error instanceof BackendError, String(error));
              failed++;
            }
          }
        }));
        // Its token is gone, so the store knows the commit landed: its appends resolve.
        assert.equal(failed, 0);
        // Reused, the token is absent: the commit sent after its new taker checks it is gone, and
        // lands although the taker failed — a turn whose parent was never written.
        const turns = await store.listTurns(contextId, { limit: 2000 });
        assertOneChain(turns);
        assert.ok(client.lost(), "a chained commit's answer was lost");
        assert.equal(client.reused(), false, "the token its commit deleted was taken again");
        // Every append is stored once: the landed commit's appends were not planned again.
        const stored = turns.map((t) => td.decode(t.payload)).filter((t) => t !== "foreign");
        assert.equal(stored.length, 32 * 20);
        assert.deepEqual(new Set(stored), new Set(landed));
      } finally {
        await store.close();
        await other.close();
        await peer.close();
      }
    },
  );
}

/**
 * A client that, once `armed()`, holds the next commit that takes a chain token until `hold()`
 * resolved, and applies every commit sent after it in send order, after it (as a server across
 * a network would). `held` tells whether one was held.
 */
function holdNextChainedCommit(
  kv: Deno.Kv,
  armed: () => boolean,
  hold: () => Promise<void>,
): { kv: Deno.Kv; held: () => boolean } {
  let held = false;
  let last: Promise<CommitAnswer> | undefined;
  const client = interceptCommits(kv, (tokens, send) => {
    if (!held && tokens.length > 0 && armed()) {
      held = true;
      last = hold().then(send);
      return last;
    }
    if (!last) return send();
    const after = last.catch(() => {}).then(send);
    last = after;
    return after;
  });
  return { kv: client, held: () => held };
}

Deno.test("commit chain (KV Connect peer): an append whose idempotency key is in a commit in flight waits for it, and replays its turn", async () => {
  const peer = await startPeer();
  let armed = false;
  let contextId = "";
  const payload = te.encode("keyed".padEnd(300, "."));
  const keyed = () =>
    store.appendTurn({ contextId, typeId: "t", typeVersion: 1, payload, idempotencyKey: "k" });
  let again: Promise<AppendedTurn> | undefined;
  const client = holdNextChainedCommit(await Deno.openKv(peer.url), () => armed, async () => {
    again = keyed(); // the same key, while the first one's commit is in flight
    await new Promise((r) => setTimeout(r, 50));
  });
  const store = new KvStore(client.kv, { limits: KV_CONNECT_LIMITS });
  try {
    contextId = (await store.createContext()).contextId;
    // Appends from 32 writers at once, so that rounds are cut and the chain has tokens.
    await appendFromWriters(store, contextId, 32, 20, (w, i) => `warm ${padded(w, i)}`);
    armed = true;
    // A round of the keyed append and one whose fs root is missing: large enough to be cut
    // (its commit takes a token), though only the keyed append is written.
    const first = keyed();
    const missingRoot = store.appendTurn({
      contextId,
      typeId: "t",
      typeVersion: 1,
      payload: new Uint8Array(900),
      fsRootHash: "0".repeat(64),
    });
    await assert.rejects(missingRoot, NotFoundError);
    const a = await first;
    assert.ok(client.held() && again, "the keyed append's commit was held in flight");
    const b = await again;
    assert.equal(b.turnId, a.turnId, "the key names one turn");
    assert.equal(b.deduplicated, true);
    const turns = await store.listTurns(contextId, { limit: 2000 });
    assert.equal(turns.filter((t) => t.contentHash === a.contentHash).length, 1);
  } finally {
    await store.close();
    await peer.close();
  }
});

Deno.test("commit chain (KV Connect peer): a commit sent while another is in flight keeps to the check limit, one check being the chain's", async () => {
  const peer = await startPeer();
  const commits: CommitStats[] = [];
  // Three checks a commit, so that a quick commit can reach the limit.
  const limits = { ...KV_CONNECT_LIMITS, checks: 3 };
  const store = new KvStore(await Deno.openKv(peer.url), {
    limits,
    onCommit: (s) => commits.push(s),
  });
  try {
    // One busy context, whose whole rounds stall (so rounds are cut), and small appends to
    // others, several of which fit in one quick commit.
    const busy = (await store.createContext()).contextId;
    const small = await Promise.all(Array.from({ length: 5 }, () => store.createContext()));
    const sent = new Map<string, string[]>(
      [busy, ...small.map((c) => c.contextId)].map((id) => [id, []]),
    );
    const writer = (contextId: string, pad: number) => async () => {
      for (let i = 0; i < 40; i++) {
        const text = `${i}`.padEnd(pad, ".");
        sent.get(contextId)!.push(text);
        await store.appendTurn({
          contextId,
          typeId: "t",
          typeVersion: 1,
          payload: te.encode(text),
        });
      }
    };
    await Promise.all([
      ...Array.from({ length: 16 }, () => writer(busy, 200)()),
      ...small.map(({ contextId }) => writer(contextId, 1)()),
    ]);
    assert.ok(commits.some((s) => s.checks === 3), "some commits reached the limit");
    for (const s of commits) assert.ok(s.checks <= 3, `checks ${s.checks}`);
    for (const [contextId, texts] of sent) {
      const turns = await store.listTurns(contextId, { limit: 2000 });
      assert.deepEqual(turns.map((t) => td.decode(t.payload)), texts);
    }
  } finally {
    await store.close();
    await peer.close();
  }
});

Deno.test("commit chain (KV Connect peer): a read of the context while commits to it are in flight does not make them fail", async () => {
  const peer = await startPeer();
  let commits = 0;
  const store = new KvStore(await Deno.openKv(peer.url), {
    limits: KV_CONNECT_LIMITS,
    onCommit: () => commits++,
  });
  try {
    const { contextId } = await store.createContext();
    let done = false;
    let reads = 0;
    // A reader of the context (a UI, say) sees heads older than those of the commits in flight.
    const reader = (async () => {
      while (!done) await store.getHead(contextId), reads++;
    })();
    const order = await appendFromWriters(store, contextId, 32, 20, padded);
    done = true;
    await reader;
    assert.ok(reads > 10, `${reads} reads`);
    // Planned on a read head, a commit fails behind ours in flight, and every one sent after it.
    const failures = peer.stats.checkFailures;
    assert.ok(failures * 20 <= commits, `${failures} of ${commits} commits failed their checks`);
    const turns = await store.listTurns(contextId, { limit: 2000 });
    assert.deepEqual(turns.map((t) => td.decode(t.payload)), order);
  } finally {
    await store.close();
    await peer.close();
  }
});
