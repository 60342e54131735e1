/**
 * Whether a group-commit round over KV Connect should be cut into quick
 * commits. Deno's remote KV client leaves Nagle's algorithm on (hyper's
 * connector does not set `TCP_NODELAY`; denoland/deno#35581) and sends a
 * request body of more than ~1 KiB in two writes, so the second write waits
 * for the server's delayed ACK: ~40 ms on Linux, whatever the network's
 * round trip. Measured against the in-repo peer on loopback: a commit of
 * 980 bytes of value 0.2–0.5 ms, of 1,000 bytes 43–45 ms, of 60 KB 44–51 ms.
 *
 * So chaining many small appends into one commit, which saves round trips
 * everywhere else, can cost ~40 ms here; a few quick commits in a row cost a
 * round trip each. Which is cheaper depends on the round trip, so it is
 * measured, not assumed: the appender reports every commit's estimated size
 * and latency, and a round is capped at the quick size only when larger
 * commits are seen to stall (at least {@link STALL_MS} slower than quick
 * ones, which a local file's fsync or a busy server does not explain) and
 * the quick commits the round would take are expected to finish before one
 * slow commit. A round whose first append is already over the quick size is
 * never cut: it pays the wait anyway, and the more it carries the better.
 *
 * @module
 */

/**
 * How many recent latencies of each size class the decision looks at. It
 * takes their median (the lower one of an even count), so one commit that
 * waited out a collection pause or a busy event loop does not flip the
 * decision: with a running average one 16 ms quick commit among 0.1 ms ones
 * made rounds look cheaper whole, and seven whole rounds paid the 44 ms
 * stall each before one was cut again (measured 2026-12-02 against the
 * in-repo peer).
 */
export const LATENCY_SAMPLES = 9;

/**
 * How much slower than quick commits larger ones must be before rounds are
 * cut: a quarter of the delayed-ACK wait, well above what a few more KiB
 * cost to send, write and fsync.
 */
export const STALL_MS = 10;

/**
 * While rounds are cut, one is let through whole this often, so that a
 * stall that went away (a client that sets `TCP_NODELAY`, say) is noticed:
 * at most one slow commit per five seconds of cut rounds.
 */
export const RECHECK_MS = 5_000;

/**
 * While larger commits stall but quick ones look too slow to be worth it,
 * every this many whole rounds one is cut again: one quick commit is cheap
 * to measure, and without it quick commits that were slow for a while (a
 * busy server) would keep rounds whole for good.
 */
export const QUICK_RECHECK_ROUNDS = 8;

/**
 * While quick commits look no faster than larger ones, every this many
 * whole rounds one is cut to measure them again: rarely, since then a whole
 * round is probably right (a distant server), and a cut round costs one more
 * round trip.
 */
export const NO_STALL_RECHECK_ROUNDS = 32;

/** Recent commit latencies of one store handle, by size class. */
export class QuickCommits {
  /** Estimated commit bytes up to which the client sends the request at once. */
  readonly quickBytes: number;
  readonly #now: () => number;
  readonly #quick = new LatencyWindow();
  readonly #slow = new LatencyWindow();
  readonly #overlap: number;
  #slowAt = 0;
  #wholeRounds = 0;

  /**
   * Tracks commits against `quickBytes` (KvLimits.quickCommitBytes); `now`
   * is the clock in milliseconds (performance.now unless a test sets it);
   * `overlap` is how many quick commits are in flight at once
   * (KvLimits.commitsInFlight), so a cut round costs one quick commit per
   * that many.
   */
  constructor(
    quickBytes: number,
    now: () => number = () => performance.now(),
    overlap = 1,
  ) {
    this.quickBytes = quickBytes;
    this.#now = now;
    this.#overlap = Math.max(1, overlap);
  }

  /** Typical latency of quick commits (median of the recent ones), once one was measured. */
  get quickMs(): number | undefined {
    return this.#quick.median();
  }

  /** Typical latency of larger commits (median of the recent ones), once one was measured. */
  get slowMs(): number | undefined {
    return this.#slow.median();
  }

  /** Records a commit of `bytes` (the budget's estimate, checks included) that took `ms`. */
  record(bytes: number, ms: number): void {
    if (!(ms >= 0)) return;
    if (bytes <= this.quickBytes) {
      this.#quick.add(ms);
      this.#wholeRounds = 0; // measured: count whole rounds from here
    } else {
      this.#slow.add(ms);
      this.#slowAt = this.#now();
    }
  }

  /**
   * The byte cap for a round that would carry about `bytes`, or undefined
   * to let it grow to the commit limits. Until larger commits take at least
   * {@link STALL_MS} nothing is capped (on a local file they never do);
   * then a round is capped once to measure a quick commit, and from then on
   * when larger commits stall and the quick commits the round needs (in
   * waves of `overlap`) would finish before one of them, except for one round whole every
   * {@link RECHECK_MS} to measure a larger commit again; when stalls are
   * seen but quick commits look too slow, one round in
   * {@link QUICK_RECHECK_ROUNDS} (in {@link NO_STALL_RECHECK_ROUNDS} when
   * they look no faster than larger ones) is cut to measure a quick commit
   * again.
   */
  capFor(bytes: number): number | undefined {
    const slow = this.#slow.median();
    if (slow === undefined || slow < STALL_MS) return undefined;
    const quick = this.#quick.median();
    if (quick === undefined) return this.quickBytes;
    // Quick commits no faster than larger ones: a distant server, or quick ones measured while
    // the server was busy. Re-measured rarely, so a busy spell cannot keep rounds whole for good.
    if (slow - quick < STALL_MS) return this.#wholeRound(NO_STALL_RECHECK_ROUNDS);
    // The quick commits of a cut round, in waves of `overlap` (commit_chain.ts).
    const waves = Math.ceil(Math.max(1, Math.ceil(bytes / this.quickBytes)) / this.#overlap);
    if (waves * quick >= slow) return this.#wholeRound(QUICK_RECHECK_ROUNDS);
    return this.#now() - this.#slowAt >= RECHECK_MS ? undefined : this.quickBytes;
  }

  /** Undefined (a whole round), except every `period`-th call in a row: then a cut round. */
  #wholeRound(period: number): number | undefined {
    if (++this.#wholeRounds < period) return undefined;
    // One cut round, then count again, whether or not it yields a quick sample (a round
    // that plans nothing commits nothing) — never every round from here on.
    this.#wholeRounds = 0;
    return this.quickBytes;
  }
}

/** The last {@link LATENCY_SAMPLES} latencies of one size class, and their median. */
class LatencyWindow {
  readonly #samples = new Float64Array(LATENCY_SAMPLES);
  readonly #sorted = new Float64Array(LATENCY_SAMPLES);
  #count = 0;
  #next = 0;
  #median: number | undefined;

  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % LATENCY_SAMPLES;
    if (this.#count < LATENCY_SAMPLES) this.#count++;
    this.#median = undefined;
  }

  median(): number | undefined {
    if (this.#count === 0) return undefined;
    if (this.#median === undefined) {
      const sorted = this.#sorted.subarray(0, this.#count);
      sorted.set(this.#samples.subarray(0, this.#count));
      sorted.sort();
      this.#median = sorted[(this.#count - 1) >> 1];
    }
    return this.#median;
  }
}
