import assert from "node:assert/strict";
import { KvStore } from "./store.ts";
import { FILE_TARGET, KV_CONNECT_TARGETS, type KvConnectTarget } from "./test_util.ts";
import type { CommitStats } from "./budget.ts";
import {
  KV_CONNECT_LIMITS,
  type KvLimits,
  LOCAL_KV_LIMITS,
  MAX_COMMIT_BYTES,
  MAX_COMMIT_KEY_BYTES,
  MAX_MUTATIONS,
  QUICK_COMMIT_BYTES,
} from "./limits.ts";

const te = new TextEncoder();

/** Runs `fn` with a store on a fresh database of `target`, counting its commits. */
async function withStore(
  target: KvConnectTarget,
  limits: KvLimits,
  fn: (store: KvStore, commits: CommitStats[]) => Promise<void>,
): Promise<void> {
  const { kv, cleanup } = await target.open();
  const commits: CommitStats[] = [];
  const store = new KvStore(kv, { limits, onCommit: (s) => commits.push(s) });
  try {
    await fn(store, commits);
  } finally {
    await store.close();
    await cleanup();
  }
}

/** Local limits on a file; KV Connect limits on a file and over KV Connect to the in-repo peer. */
const CASES: readonly [string, KvConnectTarget, KvLimits][] = [
  ["local limits", FILE_TARGET, LOCAL_KV_LIMITS],
  ...KV_CONNECT_TARGETS.map((t) =>
    [`KV Connect limits (${t.name})`, t, KV_CONNECT_LIMITS] as [string, KvConnectTarget, KvLimits]
  ),
];

/** `workers` loops, each appending `perWorker` turns one after another (await each). */
async function inFlight(
  workers: number,
  perWorker: number,
  append: (worker: number, i: number) => Promise<unknown>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) await append(w, i);
    }),
  );
}

for (const [name, target, limits] of CASES) {
  Deno.test(`${name}: 32 appends in flight on one context chain into few commits, in call order`, async () => {
    await withStore(target, limits, async (store, commits) => {
      const { contextId } = await store.createContext();
      commits.length = 0;
      const order: string[] = [];
      await inFlight(32, 20, async (w, i) => {
        const text = `w${w}-${i}`;
        order.push(text); // the order of the calls
        await store.appendTurn({
          contextId,
          typeId: "test.item",
          typeVersion: 1,
          payload: te.encode(text),
        });
      });
      const perAppend = commits.length / (32 * 20);
      const large = commits.filter((s) => s.bytes > QUICK_COMMIT_BYTES).length;
      if (target.remote && perAppend > 0.15) {
        // Deno's remote client stalled on the larger commits (quick_commits.ts): rounds were
        // then cut into quick commits, each still chaining several appends. Only the commits
        // that measured the stall are larger.
        assert.ok(large <= 3, `${large} of ${commits.length} commits over the quick size`);
        assert.ok(perAppend <= 0.25, `${commits.length} commits for ${32 * 20} appends`);
      } else {
        assert.ok(perAppend <= 0.15, `${commits.length} commits for ${32 * 20} appends`);
      }
      // Every commit checks one slot, however many turns it chains; one sent while another is
      // in flight (KV Connect limits) also checks that one's token (commit_chain.ts).
      const most = (limits.commitsInFlight ?? 1) > 1 ? 2 : 1;
      for (const s of commits) assert.ok(s.checks <= most, `checks ${s.checks}`);
      const turns = await store.listTurns(contextId, { limit: 1000 });
      assert.deepEqual(turns.map((t) => new TextDecoder().decode(t.payload)), order);
      for (let i = 1; i < turns.length; i++) {
        assert.equal(turns[i].parentTurnId, turns[i - 1].turnId);
        assert.equal(turns[i].depth, turns[i - 1].depth + 1);
      }
    });
  });
}

for (const [name, target, limits] of CASES) {
  Deno.test(`${name}: 64 writers on their own contexts share commits up to the target's check limit`, async () => {
    const payload = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    await withStore(target, limits, async (store, commits) => {
      const contexts = await Promise.all(Array.from({ length: 64 }, () => store.createContext()));
      commits.length = 0;
      await inFlight(64, 5, (w) =>
        store.appendTurn({
          contextId: contexts[w].contextId,
          typeId: "test.item",
          typeVersion: 1,
          payload,
        }));
      const most = Math.max(...commits.map((s) => s.checks));
      for (const s of commits) {
        assert.ok(s.checks <= limits.checks, `checks ${s.checks} > ${limits.checks}`);
        assert.ok(s.mutations <= MAX_MUTATIONS, `mutations ${s.mutations}`);
        assert.ok(s.bytes <= MAX_COMMIT_BYTES, `bytes ${s.bytes}`);
        assert.ok(s.keyBytes <= MAX_COMMIT_KEY_BYTES, `key bytes ${s.keyBytes}`);
      }
      if (limits === LOCAL_KV_LIMITS) {
        // Locally one commit covers far more than KV Connect's 10 contexts.
        assert.ok(most > KV_CONNECT_LIMITS.checks, `at most ${most} contexts per commit`);
        assert.ok(commits.length <= 64 * 5 / 20, `${commits.length} commits for 320 appends`);
      } else {
        assert.equal(most, KV_CONNECT_LIMITS.checks);
      }
      for (const ctx of contexts) {
        const turns = await store.listTurns(ctx.contextId);
        assert.equal(turns.length, 5);
        for (const t of turns) assert.deepEqual(t.payload, payload);
      }
    });
  });
}

/** `kv` with every atomic commit delayed by `ms`, as a round trip to a remote server would. */
function withCommitLatency(kv: Deno.Kv, ms: number): Deno.Kv {
  const bind = (target: object, prop: PropertyKey) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop !== "atomic") return bind(target, prop);
      return () => {
        const op = target.atomic();
        return new Proxy(op, {
          get(o, q) {
            if (q !== "commit") return bind(o, q);
            return async () => {
              await new Promise((resolve) => setTimeout(resolve, ms));
              return await o.commit();
            };
          },
        });
      };
    },
  });
}

Deno.test("with a remote-like 5 ms per commit, 32 appends in flight on one context still share commits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forge-kv-latency-" });
  const commits: CommitStats[] = [];
  const store = new KvStore(withCommitLatency(await Deno.openKv(`${dir}/forge.kv`), 5), {
    limits: KV_CONNECT_LIMITS,
    onCommit: (s) => commits.push(s),
  });
  try {
    const { contextId } = await store.createContext();
    commits.length = 0;
    await inFlight(
      32,
      10,
      () =>
        store.appendTurn({
          contextId,
          typeId: "test.item",
          typeVersion: 1,
          payload: te.encode("x"),
        }),
    );
    assert.ok(commits.length / 320 <= 0.15, `${commits.length} commits for 320 appends`);
    assert.equal((await store.getHead(contextId)).headDepth, 320);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
