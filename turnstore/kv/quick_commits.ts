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

/** Weight of a new latency sample in the running averages. */
const WEIGHT = 0.25;

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
 * to measure, and without it a single slow sample (a pause of the process)
 * would keep the average up and rounds whole for good.
 */
export const QUICK_RECHECK_ROUNDS = 8;

/** Running commit latencies of one store handle, by size class. */
export class QuickCommits {
  /** Estimated commit bytes up to which the client sends the request at once. */
  readonly quickBytes: number;
  readonly #now: () => number;
  #quickMs: number | undefined;
  #slowMs: number | undefined;
  #slowAt = 0;
  #wholeRounds = 0;

  /**
   * Tracks commits against `quickBytes` (KvLimits.quickCommitBytes); `now`
   * is the clock in milliseconds (performance.now unless a test sets it).
   */
  constructor(quickBytes: number, now: () => number = () => performance.now()) {
    this.quickBytes = quickBytes;
    this.#now = now;
  }

  /** Average latency of quick commits, once one was measured. */
  get quickMs(): number | undefined {
    return this.#quickMs;
  }

  /** Average latency of larger commits, once one was measured. */
  get slowMs(): number | undefined {
    return this.#slowMs;
  }

  /** Records a commit of `bytes` (the budget's estimate, checks included) that took `ms`. */
  record(bytes: number, ms: number): void {
    if (!(ms >= 0)) return;
    if (bytes <= this.quickBytes) {
      this.#quickMs = average(this.#quickMs, ms);
      this.#wholeRounds = 0; // measured: count whole rounds from here
    } else {
      this.#slowMs = average(this.#slowMs, ms);
      this.#slowAt = this.#now();
    }
  }

  /**
   * The byte cap for a round that would carry about `bytes`, or undefined
   * to let it grow to the commit limits. Until larger commits take at least
   * {@link STALL_MS} nothing is capped (on a local file they never do);
   * then a round is capped once to measure a quick commit, and from then on
   * when larger commits stall and the quick commits the round needs would
   * finish before one of them, except for one round whole every
   * {@link RECHECK_MS} to measure a larger commit again; when stalls are
   * seen but quick commits look too slow, one round in
   * {@link QUICK_RECHECK_ROUNDS} is cut to measure a quick commit again.
   */
  capFor(bytes: number): number | undefined {
    const slow = this.#slowMs;
    if (slow === undefined || slow < STALL_MS) return undefined;
    const quick = this.#quickMs;
    if (quick === undefined) return this.quickBytes;
    if (slow - quick < STALL_MS) return undefined;
    const commits = Math.max(1, Math.ceil(bytes / this.quickBytes));
    if (commits * quick >= slow) {
      if (++this.#wholeRounds < QUICK_RECHECK_ROUNDS) return undefined;
      // One cut round, then count again, whether or not it yields a quick sample (a round
      // that plans nothing commits nothing) — never every round from here on.
      this.#wholeRounds = 0;
      return this.quickBytes;
    }
    return this.#now() - this.#slowAt >= RECHECK_MS ? undefined : this.quickBytes;
  }
}

function average(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + WEIGHT * (sample - previous);
}
