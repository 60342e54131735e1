/**
 * Which turns this client has seen and accounted for. The highest turn id
 * seen is the watermark a request carries: a turn the server created after
 * it can only be a later request's. A claimed turn is one an answer or a
 * lost-append recovery has already attributed, so no second recovery takes
 * it for its own.
 *
 * @module
 */

/** Claims kept before the oldest are dropped (bounded memory on long runs). */
const CLAIMED_LIMIT = 200_000;
/**
 * How far past the limit the set may grow before the oldest are dropped, all
 * at once: deleting one entry per claim would walk the deleted entries at the
 * front of the set's table every time (a Set keeps them until it rehashes).
 */
const CLAIMED_SLACK = 50_000;

/** The watermark and the claimed turns of one transport. */
export class TurnClaims {
  #max = "0";
  #claimed = new Set<string>();

  /** The highest turn id seen ("0" before any). */
  get max(): string {
    return this.#max;
  }

  /** True when turn `turnId` is accounted for. */
  has(turnId: string): boolean {
    return this.#claimed.has(turnId);
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
    this.#claimed.add(turnId);
    if (this.#claimed.size > CLAIMED_LIMIT + CLAIMED_SLACK) {
      // Sets iterate in insertion order: drop the oldest claims.
      let n = this.#claimed.size - CLAIMED_LIMIT;
      for (const id of this.#claimed) {
        if (n-- <= 0) break;
        this.#claimed.delete(id);
      }
    }
  }
}
