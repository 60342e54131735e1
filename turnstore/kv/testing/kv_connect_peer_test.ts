/**
 * The in-repo KV Connect peer, spoken to by Deno's own remote client
 * (`Deno.openKv(url)` with `DENO_KV_ACCESS_TOKEN`). Where the answer is
 * Deno KV's semantics, the same operations go to a `:memory:` KV and the
 * two must agree.
 */
import assert from "node:assert/strict";
import { DENOKV_LIMITS, type KvConnectPeer, startKvConnectPeer } from "./kv_connect_peer.ts";
import { KvConnectMessages } from "./kv_connect_schema.ts";

/** Opens Deno's remote client on `peer` with `token` (the peer's own by default). */
async function openClient(peer: KvConnectPeer, token = peer.token): Promise<Deno.Kv> {
  Deno.env.set("DENO_KV_ACCESS_TOKEN", token);
  return await Deno.openKv(peer.url);
}

/** Runs `fn` with a client on a fresh peer and a `:memory:` KV; closes all after. */
async function withBoth(
  fn: (remote: Deno.Kv, local: Deno.Kv, peer: KvConnectPeer) => Promise<void>,
): Promise<void> {
  await using peer = await startKvConnectPeer();
  const remote = await openClient(peer);
  const local = await Deno.openKv(":memory:");
  try {
    await fn(remote, local, peer);
  } finally {
    remote.close();
    local.close();
  }
}

/** Keys and values of a listing, without versionstamps (they differ by design). */
async function listed(kv: Deno.Kv, selector: Deno.KvListSelector, options?: Deno.KvListOptions) {
  const out: [Deno.KvKey, unknown][] = [];
  for await (const e of kv.list(selector, options)) out.push([e.key, e.value]);
  return out;
}

/** One key per key part type, and edge values within types, in no particular order. */
const MIXED_KEYS: Deno.KvKey[] = [
  ["k", "b"],
  ["k", ""],
  ["k", "a\u0000b"],
  ["k", "a"],
  ["k", "é"],
  ["k", "a", 1],
  ["k", 2],
  ["k", -1.5],
  ["k", 0],
  ["k", -Infinity],
  ["k", Infinity],
  ["k", 10n],
  ["k", -10n],
  ["k", 0n],
  ["k", true],
  ["k", false],
  ["k", new Uint8Array([])],
  ["k", new Uint8Array([0, 1])],
  ["k", new Uint8Array([255])],
  ["k"],
  ["j", "before"],
  ["l", "after"],
];

Deno.test("set, get and getMany round-trip every value kind; versionstamps rise per commit", async () => {
  await withBoth(async (kv) => {
    const values: [Deno.KvKey, unknown][] = [
      [["v", "string"], "hello"],
      [["v", "number"], 1.25],
      [["v", "bigint"], 12345678901234567890n],
      [["v", "object"], { a: [1, 2, { b: "c" }], d: null }],
      [["v", "bytes"], new Uint8Array([0, 1, 254, 255])],
      [["v", "u64"], new Deno.KvU64(42n)],
      [["v", "date"], new Date(0)],
    ];
    const stamps: string[] = [];
    for (const [key, value] of values) {
      const r = await kv.set(key, value);
      assert.ok(r.ok);
      stamps.push(r.versionstamp);
    }
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] > stamps[i - 1]);
    for (const [i, [key, value]] of values.entries()) {
      const e = await kv.get(key);
      assert.deepEqual(e.value, value);
      assert.equal(e.versionstamp, stamps[i]);
    }
    const many = await kv.getMany(values.map(([k]) => k).concat([["v", "missing"]]));
    assert.deepEqual(many.map((e) => e.value), values.map(([, v]) => v).concat([null]));
    assert.equal(many.at(-1)!.versionstamp, null);
  });
});

Deno.test("list orders keys across part types exactly as a :memory: KV does", async () => {
  await withBoth(async (remote, local) => {
    for (const kv of [remote, local]) {
      for (const [i, key] of MIXED_KEYS.entries()) await kv.set(key, i);
    }
    const selectors: [Deno.KvListSelector, Deno.KvListOptions?][] = [
      [{ prefix: ["k"] }],
      [{ prefix: ["k"] }, { reverse: true }],
      [{ prefix: ["k"] }, { limit: 5 }],
      [{ prefix: ["k"] }, { limit: 5, reverse: true }],
      [{ start: ["k", "a"], end: ["k", 2] }],
      [{ start: ["k", "a"], end: ["k", 2] }, { reverse: true }],
      [{ prefix: ["k"], start: ["k", "a"] }],
      [{ prefix: ["k"], end: ["k", 10n] }],
      [{ start: ["a"], end: ["z"] }],
    ];
    for (const [selector, options] of selectors) {
      assert.deepEqual(
        await listed(remote, selector, options),
        await listed(local, selector, options),
        JSON.stringify(selector, (_, v) => typeof v === "bigint" ? `${v}n` : v),
      );
    }
    // The prefix key itself is not part of its prefix listing.
    assert.ok(!(await listed(remote, { prefix: ["k"] })).some(([k]) => k.length === 1));
  });
});

Deno.test("cursor paging walks a range in small batches, both ways, as a :memory: KV does", async () => {
  await withBoth(async (remote, local) => {
    for (const kv of [remote, local]) {
      let op = kv.atomic();
      for (let i = 0; i < 250; i++) op = op.set(["page", i], `v${i}`);
      assert.ok((await op.commit()).ok);
    }
    for (const reverse of [false, true]) {
      const all = await listed(remote, { prefix: ["page"] }, { batchSize: 7, reverse });
      assert.equal(all.length, 250);
      assert.deepEqual(all, await listed(local, { prefix: ["page"] }, { batchSize: 7, reverse }));
      // Resume from a cursor taken mid-way.
      const it = remote.list({ prefix: ["page"] }, { limit: 100, batchSize: 30, reverse });
      for await (const _ of it) { /* drain */ }
      const rest = await listed(remote, { prefix: ["page"] }, { cursor: it.cursor, reverse });
      assert.deepEqual(rest, all.slice(100));
    }
  });
});

Deno.test("checks: a passing check commits, a failing one writes nothing", async () => {
  await withBoth(async (kv, _local, peer) => {
    const first = await kv.set(["c", "a"], 1);
    assert.ok(first.ok);
    // Absent key, and the current versionstamp: both pass.
    const ok = await kv.atomic()
      .check({ key: ["c", "a"], versionstamp: first.versionstamp })
      .check({ key: ["c", "new"], versionstamp: null })
      .set(["c", "a"], 2)
      .set(["c", "new"], 3)
      .commit();
    assert.ok(ok.ok);
    const commits = peer.stats.commits;
    // A stale versionstamp fails the whole commit, however many mutations it carries.
    const stale = await kv.atomic()
      .check({ key: ["c", "a"], versionstamp: first.versionstamp })
      .set(["c", "b"], 4)
      .delete(["c", "new"])
      .commit();
    assert.equal(stale.ok, false);
    const present = await kv.atomic().check({ key: ["c", "new"], versionstamp: null })
      .set(["c", "b"], 5).commit();
    assert.equal(present.ok, false);
    assert.equal(peer.stats.commits, commits);
    assert.equal(peer.stats.checkFailures, 2);
    assert.deepEqual(
      (await kv.getMany([["c", "a"], ["c", "b"], ["c", "new"]])).map((e) => e.value),
      [
        2,
        null,
        3,
      ],
    );
  });
});

Deno.test("sum, min and max on Deno.KvU64 (sum wraps at 2^64) agree with a :memory: KV", async () => {
  await withBoth(async (remote, local) => {
    const top = 0xffff_ffff_ffff_fff0n;
    for (const kv of [remote, local]) {
      await kv.atomic()
        .sum(["u", "sum"], 5n).sum(["u", "sum"], 7n)
        .sum(["u", "wrap"], top).sum(["u", "wrap"], 0x20n)
        .min(["u", "min"], 9n).min(["u", "min"], 3n).min(["u", "min"], 4n)
        .max(["u", "max"], 9n).max(["u", "max"], 30n).max(["u", "max"], 4n)
        .commit();
    }
    const keys = [["u", "sum"], ["u", "wrap"], ["u", "min"], ["u", "max"]];
    const values = (await remote.getMany(keys)).map((e) => (e.value as Deno.KvU64).value);
    assert.deepEqual(values, [12n, 0x10n, 3n, 30n]);
    assert.deepEqual(
      values,
      (await local.getMany(keys)).map((e) => (e.value as Deno.KvU64).value),
    );
  });
});

Deno.test("sum on a value that is not a u64 is refused, as a :memory: KV refuses it", async () => {
  await withBoth(async (remote, local) => {
    for (const kv of [remote, local]) await kv.set(["s"], "text");
    await assert.rejects(() => local.atomic().sum(["s"], 1n).commit());
    await assert.rejects(() => remote.atomic().sum(["s"], 1n).commit(), /non-U64/);
    assert.equal((await remote.get(["s"])).value, "text");
  });
});

Deno.test("delete removes a key from get and list; deleting a missing key is a no-op", async () => {
  await withBoth(async (kv) => {
    await kv.set(["d", 1], "one");
    await kv.set(["d", 2], "two");
    await kv.delete(["d", 1]);
    await kv.delete(["d", "never"]);
    assert.equal((await kv.get(["d", 1])).value, null);
    assert.deepEqual(await listed(kv, { prefix: ["d"] }), [[["d", 2], "two"]]);
  });
});

Deno.test("the data outlives a client: a new client on the same peer sees every commit", async () => {
  await using peer = await startKvConnectPeer();
  const first = await openClient(peer);
  await first.set(["kept"], "yes");
  first.close();
  const second = await openClient(peer);
  try {
    assert.equal((await second.get(["kept"])).value, "yes");
  } finally {
    second.close();
  }
});

Deno.test("a wrong access token is refused with a clear error, and nothing is written", async () => {
  await using peer = await startKvConnectPeer();
  // Deno's client does the metadata exchange while opening, so the open itself fails.
  await assert.rejects(() => openClient(peer, "not-the-token"), /401.*invalid access token/);
  assert.equal(peer.stats.commits, 0);
  assert.equal(peer.stats.refused, 1);
  // A request without any token gets the reason in plain text.
  const res = await fetch(peer.url, { method: "POST", body: "{}" });
  assert.equal(res.status, 401);
  assert.match(await res.text(), /Authorization: Bearer/);
  // The data path wants the token the exchange hands out, not the access token.
  const data = await fetch(`${peer.url}/v2/atomic_write`, {
    method: "POST",
    headers: { authorization: `Bearer ${peer.token}`, "x-denokv-version": "3" },
  });
  assert.equal(data.status, 401);
  assert.match(await data.text(), /invalid data path token/);
});

Deno.test("watch is refused with a 4xx and a message, not silently accepted", async () => {
  await withBoth(async (kv, _local, peer) => {
    const refused = peer.stats.refused;
    const stream = kv.watch([["w"]]);
    const reader = stream.getReader();
    await assert.rejects(() => reader.read(), /does not support watch/);
    assert.equal(peer.stats.refused, refused + 1);
  });
});

Deno.test("the peer refuses what a real denokv refuses: more than 10 checks in one commit", async () => {
  await withBoth(async (kv, local, peer) => {
    const withChecks = (db: Deno.Kv, n: number) => {
      let op = db.atomic();
      for (let i = 0; i < n; i++) op = op.check({ key: ["ck", i], versionstamp: null });
      return op.set(["ck", "done", n], true).commit();
    };
    assert.ok((await withChecks(kv, DENOKV_LIMITS.checks)).ok);
    // Deno's client and a local KV allow 100 checks; a denokv server allows 10.
    assert.ok((await withChecks(local, DENOKV_LIMITS.checks + 1)).ok);
    await assert.rejects(() => withChecks(kv, DENOKV_LIMITS.checks + 1), /TooManyChecks/);
    assert.equal((await kv.get(["ck", "done", DENOKV_LIMITS.checks + 1])).value, null);
    assert.equal(peer.stats.commits, 1);
  });
});

/**
 * The data path spoken directly, as a client other than Deno's might: a
 * metadata exchange, then `post(method, message)` of a protobuf message.
 */
async function dataPath(peer: KvConnectPeer) {
  const meta = await (await fetch(peer.url, {
    method: "POST",
    headers: { authorization: `Bearer ${peer.token}` },
    body: JSON.stringify({ supportedVersions: [3] }),
  })).json();
  return (method: "snapshot_read" | "atomic_write", message: object) => {
    const type = method === "snapshot_read"
      ? KvConnectMessages.SnapshotRead
      : KvConnectMessages.AtomicWrite;
    return fetch(`${peer.url}${meta.endpoints[0].url}/${method}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${meta.token}`,
        "x-denokv-version": "3",
        "x-denokv-database-id": meta.databaseId,
        "content-type": "application/x-protobuf",
      },
      body: type.encode(type.fromObject(message)).finish() as Uint8Array<ArrayBuffer>,
    });
  };
}

/** Asserts a plain-text 400 whose body matches `reason`. */
async function assertRefused(res: Response, reason: RegExp): Promise<void> {
  assert.equal(res.status, 400);
  assert.match(await res.text(), reason);
}

Deno.test("a snapshot read asking for more than 1000 entries or 10 ranges is refused", async () => {
  await using peer = await startKvConnectPeer();
  // Deno's client keeps getMany within 10 keys and list batches within 1000, so speak the
  // data path directly here: the limits hold whatever a client sends.
  const post = await dataPath(peer);
  const range = (limit: number) => ({ start: [1], end: [255], limit });
  const ok = await post("snapshot_read", { ranges: [range(500), range(500)] });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  await assertRefused(
    await post("snapshot_read", { ranges: [range(500), range(501)] }),
    /ReadRangeTooLarge/,
  );
  await assertRefused(
    await post("snapshot_read", { ranges: Array.from({ length: 11 }, () => range(1)) }),
    /TooManyReadRanges/,
  );
  await assertRefused(
    await post("snapshot_read", { ranges: [range(0)] }),
    /InvalidReadRangeLimit/,
  );
});

Deno.test("what the peer does not support, or denokv refuses, is a 400 naming it, and writes nothing", async () => {
  await using peer = await startKvConnectPeer();
  const post = await dataPath(peer);
  const set = (key: number[], data: Uint8Array, encoding = 3) => ({
    key,
    value: { data, encoding },
    kind: 1,
  });
  const cases: [object, RegExp][] = [
    // Deno's client refuses enqueues itself; another client's are refused here.
    [{ mutations: [set([2, 1], new Uint8Array([1]))], enqueues: [{ payload: [1] }] }, /queues/],
    [{ mutations: [{ ...set([2, 2], new Uint8Array([1])), kind: 9 }] }, /versionstamped key/],
    [{ mutations: [{ key: [2, 3], value: { data: [1], encoding: 1 }, kind: 3 }] }, /KvU64/],
    [
      { mutations: [{ key: [2, 4], kind: 7, value: { data: [1], encoding: 3 } }] },
      /InvalidMutationKind/,
    ],
    [{ mutations: [set([2, 5], new Uint8Array(3), 2)] }, /DecodeError/],
    [{ checks: [{ key: [2, 6], versionstamp: [1, 2] }] }, /InvalidVersionstamp/],
    [
      { mutations: Array.from({ length: 9 }, (_, i) => set([3, i], new Uint8Array(100_000))) },
      /AtomicWriteTooLarge/,
    ],
    [
      { mutations: Array.from({ length: 1001 }, (_, i) => set([4, i], new Uint8Array(1))) },
      /TooManyMutations/,
    ],
  ];
  for (const [write, reason] of cases) {
    await assertRefused(await post("atomic_write", write), reason);
  }
  assert.equal(peer.stats.commits, 0);
  const read = await post("snapshot_read", { ranges: [{ start: [0], end: [255], limit: 10 }] });
  const out = KvConnectMessages.SnapshotReadOutput.decode(new Uint8Array(await read.arrayBuffer()));
  assert.deepEqual((out.toJSON().ranges ?? [])[0]?.values ?? [], []);
});

Deno.test("an expired value reads as absent and passes an absence check", async () => {
  await withBoth(async (kv) => {
    await kv.set(["e"], "soon gone", { expireIn: 1 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await kv.get(["e"])).value, null);
    assert.ok(
      (await kv.atomic().check({ key: ["e"], versionstamp: null }).set(["e"], 2).commit()).ok,
    );
  });
});
