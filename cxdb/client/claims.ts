/**
 * Which turns this client has seen and accounted for. The highest turn id
 * seen is the watermark a request carries: a turn the server created after
 * it can only be a later request's. A claimed turn is one an answer or a
 * lost-append recovery has already attributed, so no second recovery takes
 * it for its own.
 *
 * Every answered append claims a turn, and only a recovery after a dropped
 * connection asks, so claims are kept as numbers in a ring (no hashing, no
 * object per claim, nothing for the collector to trace) and a question scans
 * it, newest first: a few hundred microseconds at the limit, beside the round
 * trips a recovery makes anyway.
 *
 * @module
 */

/** Claims kept: the latest this many; older ones are forgotten. */
export const CLAIMED_LIMIT = 200_000;
/** Turn ids below this are exact as numbers; the rare larger ones go to a set. */
const EXACT = 2 ** 53;

/** The watermark and the claimed turns of one transport. */
export class TurnClaims {
  #max = "0";
  /** Claimed ids, oldest overwritten first once the ring is full; grows to the limit. */
  #ring = new Float64Array(1024);
  /** Claims made so far (the next one goes to `#count % CLAIMED_LIMIT`). */
  #count = 0;
  /** Claimed ids of 2^53 and above, oldest first. */
  #large = new Set<string>();
  readonly #limit: number;

  /** Keeps the latest `limit` claims (default {@link CLAIMED_LIMIT}). */
  constructor(limit = CLAIMED_LIMIT) {
    this.#limit = limit;
  }

  /** The highest turn id seen ("0" before any). */
  get max(): string {
    return this.#max;
  }

  /** True when turn `turnId` is accounted for. */
  has(turnId: string): boolean {
    const id = Number(turnId);
    if (!(id < EXACT)) return this.#large.has(turnId);
    const ring = this.#ring;
    const kept = Math.min(this.#count, this.#limit);
    for (let k = 1; k <= kept; k++) {
      if (ring[(this.#count - k) % this.#limit] === id) return true;
    }
    return false;
  }

  /** Notes a turn id an answer showed (the watermark of later requests). */
  see(turnId: string): void {
    // Canonical decimal strings compare by length, then text: no BigInt on the hot path.
    const max = this.#max;
    if (turnId.length > max.length || (turnId.length === max.length && turnId > max)) {
      this.#max = turnId;
    }
  }

  /** Marks turn `turnId` as accounted for by an answer or a recovery. */
  claim(turnId: string): void {
    this.see(turnId);
    const id = Number(turnId);
    if (!(id < EXACT)) {
      this.#large.add(turnId);
      if (this.#large.size > this.#limit) {
        this.#large.delete(this.#large.values().next().value!); // the oldest
      }
      return;
    }
    const at = this.#count % this.#limit;
    if (at >= this.#ring.length) {
      const grown = new Float64Array(Math.min(this.#ring.length * 2, this.#limit));
      grown.set(this.#ring);
      this.#ring = grown;
    }
    this.#ring[at] = id;
    this.#count++;
  }
}
