import assert from "node:assert/strict";
import {
  LATENCY_SAMPLES,
  NO_STALL_RECHECK_ROUNDS,
  QUICK_RECHECK_ROUNDS,
  QuickCommits,
  RECHECK_MS,
  STALL_MS,
} from "./quick_commits.ts";
import { BudgetedAtomic } from "./budget.ts";
import { KV_CONNECT_LIMITS } from "./limits.ts";

const QUICK = 960;

/** A tracker on a clock the test moves by hand. */
function tracker(): { quick: QuickCommits; clock: { now: number } } {
  const clock = { now: 0 };
  return { quick: new QuickCommits(QUICK, () => clock.now), clock };
}

Deno.test("quick commits: nothing is cut before a larger commit is seen to stall", () => {
  const { quick } = tracker();
  assert.equal(quick.capFor(5_000), undefined);
  quick.record(500, 0.3);
  assert.equal(quick.capFor(5_000), undefined, "quick commits alone say nothing");
  quick.record(5_000, STALL_MS - 1);
  assert.equal(quick.capFor(5_000), undefined, "a larger commit under STALL_MS is no stall");
});

Deno.test("quick commits: after a stall one round is cut to measure a quick commit", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  assert.equal(quick.capFor(5_000), QUICK);
  assert.equal(quick.quickMs, undefined);
  assert.equal(quick.slowMs, 44);
});

Deno.test("quick commits: a round is cut when its quick commits finish before one slow commit", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  quick.record(900, 2);
  assert.equal(quick.capFor(QUICK * 21), QUICK, "22 quick commits × 2 ms < 44 ms");
  assert.equal(quick.capFor(QUICK * 22), undefined, "22 quick commits × 2 ms = 44 ms: not faster");
  assert.equal(quick.capFor(100), QUICK, "a small round needs one quick commit");
});

Deno.test("quick commits: a cut round's commits overlap, so it costs a quick commit per wave", () => {
  const clock = { now: 0 };
  const quick = new QuickCommits(QUICK, () => clock.now, 4);
  quick.record(5_000, 44);
  quick.record(900, 5); // quick commits slowed by a pause, say
  assert.equal(quick.capFor(QUICK * 32), QUICK, "8 waves × 5 ms < 44 ms");
  assert.equal(quick.capFor(QUICK * 36), undefined, "9 waves × 5 ms ≥ 44 ms");
  const serial = new QuickCommits(QUICK, () => clock.now);
  serial.record(5_000, 44);
  serial.record(900, 5);
  assert.equal(serial.capFor(QUICK * 9), undefined, "one at a time: 9 × 5 ms ≥ 44 ms");
});

Deno.test("quick commits: no cut when larger commits are barely slower than quick ones", () => {
  const { quick } = tracker();
  // A distant server: 30 ms a round trip, a larger commit 38 ms (no delayed-ACK stall).
  quick.record(5_000, 38);
  quick.record(900, 30);
  const cuts = Array.from({ length: 2 * NO_STALL_RECHECK_ROUNDS }, () => quick.capFor(QUICK))
    .filter((cap) => cap !== undefined).length;
  assert.equal(cuts, 2, "whole rounds, but for one in NO_STALL_RECHECK_ROUNDS that re-measures");
});

Deno.test("quick commits: quick commits measured during a busy spell do not keep rounds whole for good", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  for (let i = 0; i < LATENCY_SAMPLES; i++) quick.record(900, 40); // the server was busy
  let probes = 0;
  for (let round = 0; round < 5 * NO_STALL_RECHECK_ROUNDS && probes < 5; round++) {
    if (quick.capFor(QUICK * 16) !== undefined) {
      probes++;
      quick.record(900, 0.3); // the probe is quick again
    }
  }
  assert.equal(probes, 5, "one probe per NO_STALL_RECHECK_ROUNDS rounds");
  assert.equal(quick.capFor(QUICK * 16), QUICK, "most recent quick commits are quick: cut again");
});

Deno.test("quick commits: the decision follows the typical latency, so it follows the target", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  quick.record(900, 1);
  assert.equal(quick.capFor(QUICK * 4), QUICK);
  // Quick commits turn slow (a busy server): once most recent ones are, cutting stops paying.
  for (let i = 0; i < 8; i++) quick.record(900, 20);
  assert.equal(quick.quickMs, 20);
  for (let i = 1; i < QUICK_RECHECK_ROUNDS; i++) assert.equal(quick.capFor(QUICK * 4), undefined);
  // A failed or nonsensical timing is ignored.
  quick.record(900, Number.NaN);
  quick.record(900, -1);
  assert.equal(quick.quickMs, 20);
});

Deno.test("quick commits: one slow quick commit (a pause) does not stop the cutting", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  quick.record(900, 0.1);
  quick.record(900, 16.5); // a collection pause, say: seen in a bench run, it kept 7 rounds whole
  assert.equal(
    quick.quickMs,
    0.1,
    "the median of recent quick commits, the lower of an even count",
  );
  assert.equal(quick.capFor(QUICK * 13), QUICK);
  for (let i = 0; i < 3; i++) quick.record(900, 0.1 + i / 100);
  quick.record(900, 30);
  assert.ok(quick.quickMs! < 1, "a pause among nine is an outlier");
  assert.equal(quick.capFor(QUICK * 13), QUICK);
});

Deno.test("quick commits: quick commits slow for a while keep rounds whole, with a cut round now and then", () => {
  const { quick } = tracker();
  quick.record(5_000, 44);
  for (let i = 0; i < LATENCY_SAMPLES; i++) quick.record(900, 0.3);
  for (let i = 0; i < (LATENCY_SAMPLES + 1) / 2; i++) quick.record(900, 30);
  assert.equal(quick.quickMs, 30, "most recent quick commits were slow");
  assert.equal(quick.capFor(QUICK * 16), undefined, "16 quick commits now look slower than one");
  let cut = 0;
  for (let i = 1; i < 3 * QUICK_RECHECK_ROUNDS; i++) {
    if (quick.capFor(QUICK * 16) !== undefined) cut++;
  }
  assert.equal(
    cut,
    3,
    "one round in QUICK_RECHECK_ROUNDS is cut to measure again, even unmeasured",
  );
  // The probes come back quick: once they are most of the recent ones, rounds are cut again.
  for (let i = 0; i < (LATENCY_SAMPLES + 1) / 2; i++) quick.record(900, 0.3);
  assert.equal(quick.capFor(QUICK * 16), QUICK);
});

Deno.test("quick commits: while rounds are cut, one goes whole every RECHECK_MS to see if the stall is gone", () => {
  const { quick, clock } = tracker();
  quick.record(5_000, 44);
  quick.record(900, 0.5);
  clock.now = RECHECK_MS - 1;
  assert.equal(quick.capFor(QUICK * 4), QUICK);
  clock.now = RECHECK_MS;
  assert.equal(quick.capFor(QUICK * 4), undefined, "time to measure a larger commit again");
  // It no longer stalls (say, the client now sets TCP_NODELAY): once most recent larger commits
  // are fast, their median is below STALL_MS and rounds stay whole.
  for (let i = 0; i < 6; i++) quick.record(5_000, 0.8);
  assert.ok(quick.slowMs! < STALL_MS);
  clock.now = RECHECK_MS + 1;
  assert.equal(quick.capFor(QUICK * 4), undefined);
});

Deno.test("a capped budget: the first mutations always fit, crossing the cap does not, a commit already over it fills up", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const capped = new BudgetedAtomic(kv, KV_CONNECT_LIMITS, 1_000);
    assert.ok(capped.fits(1, 4_000), "an empty commit takes anything within the limits");
    capped.reserve(1, 600, 20);
    assert.ok(capped.fits(1, 400), "up to the cap");
    assert.ok(!capped.fits(1, 401), "across the cap");

    const over = new BudgetedAtomic(kv, KV_CONNECT_LIMITS, 1_000);
    over.reserve(1, 4_000, 20);
    assert.ok(over.fits(1, 4_000), "already slow: it carries as much as the limits allow");
    assert.ok(!over.fits(1, KV_CONNECT_LIMITS.bytes), "the commit limits still hold");

    const uncapped = new BudgetedAtomic(kv, KV_CONNECT_LIMITS);
    uncapped.reserve(1, 600, 20);
    assert.ok(uncapped.fits(1, 4_000));
  } finally {
    kv.close();
  }
});

Deno.test("a reserved check counts once: planned with reserve, added with checkReserved", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const op = new BudgetedAtomic(kv, KV_CONNECT_LIMITS);
    op.reserve(0, 40, 40);
    op.checkReserved(["t", 1n], null);
    assert.deepEqual(
      { checks: op.stats().checks, bytes: op.stats().bytes, keyBytes: op.stats().keyBytes },
      { checks: 1, bytes: 40, keyBytes: 40 },
    );
    for (let i = 1; i < KV_CONNECT_LIMITS.checks; i++) op.checkReserved(["t", BigInt(i + 1)], null);
    assert.throws(() => op.checkReserved(["t", 99n], null), /more than 10 checks/);
  } finally {
    kv.close();
  }
});
