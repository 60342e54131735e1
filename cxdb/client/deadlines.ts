/**
 * The deadlines of the transport's requests, for its timeout sweep, at a
 * constant cost per request.
 *
 * Nearly every request has the transport's own timeout, so their deadlines
 * (clock at submission + that timeout) arrive in the order the requests do:
 * they go in a ring, and a settled one only clears its slot. The sweep walks
 * from the oldest and stops at the first deadline still ahead. This replaced
 * a `Set` of every request under way, whose insert and delete (and the
 * rehashing as it grew and shrank) cost each pipelined append more than the
 * rest of its bookkeeping (cxdb README, issue 12, fourth pass). A request with
 * a timeout of its own, whose deadline may fall anywhere, goes in a set.
 *
 * @module
 */

/** What a deadline belongs to: the transport's `Pending` (its slot is kept on it). */
export interface Timed {
  /** performance.now() after which the request times out. */
  readonly deadline: number;
  /** Where it is in the ordered list (an absolute position), or -1. */
  slot: number;
}

/** First capacity of the ordered ring (a power of two; it doubles when full). */
const FIRST_CAPACITY = 256;

/** Deadlines of requests under way; see the module notes. */
export class Deadlines<T extends Timed> {
  /** The ordered deadlines: a ring indexed by absolute position & mask. */
  #ring: (T | undefined)[] = new Array(FIRST_CAPACITY).fill(undefined);
  #mask = FIRST_CAPACITY - 1;
  /** Absolute position of the oldest slot the sweep has not passed. */
  #head = 0;
  /** Absolute position of the next slot. */
  #tail = 0;
  #live = 0;
  #unordered = new Set<T>();

  /** Requests whose deadline is being watched. */
  get size(): number {
    return this.#live + this.#unordered.size;
  }

  /**
   * Watches `item`'s deadline. `inOrder`: its deadline is no earlier than
   * that of any item added in order before it (the transport's own timeout).
   */
  add(item: T, inOrder: boolean): void {
    if (!inOrder) {
      this.#unordered.add(item);
      return;
    }
    if (this.#tail - this.#head > this.#mask) this.#grow();
    item.slot = this.#tail;
    this.#ring[this.#tail & this.#mask] = item;
    this.#tail++;
    this.#live++;
  }

  /** Stops watching `item` (settled); releases it at once. */
  delete(item: T): void {
    const slot = item.slot;
    if (slot < 0) {
      this.#unordered.delete(item);
      return;
    }
    item.slot = -1;
    const i = slot & this.#mask;
    if (slot < this.#head || this.#ring[i] !== item) return;
    this.#ring[i] = undefined;
    this.#live--;
    if (slot === this.#head) this.#skipCleared();
  }

  /**
   * Removes and returns every item whose deadline is at or before `now`
   * (the caller fails them).
   */
  expired(now: number): T[] {
    const out: T[] = [];
    const ring = this.#ring;
    for (; this.#head < this.#tail; this.#head++) {
      const i = this.#head & this.#mask;
      const item = ring[i];
      if (item === undefined) continue;
      if (item.deadline > now) break;
      item.slot = -1;
      ring[i] = undefined;
      this.#live--;
      out.push(item);
    }
    for (const item of this.#unordered) {
      if (item.deadline > now) continue;
      this.#unordered.delete(item);
      out.push(item);
    }
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    for (; this.#head < this.#tail; this.#head++) {
      const i = this.#head & this.#mask;
      const item = this.#ring[i];
      if (item) item.slot = -1;
      this.#ring[i] = undefined;
    }
    this.#live = 0;
    for (const item of this.#unordered) item.slot = -1;
    this.#unordered.clear();
  }

  #skipCleared(): void {
    while (this.#head < this.#tail && this.#ring[this.#head & this.#mask] === undefined) {
      this.#head++;
    }
  }

  /** Doubles the ring; absolute positions stay, so the items keep their slots. */
  #grow(): void {
    const mask = this.#mask * 2 + 1;
    const ring: (T | undefined)[] = new Array(mask + 1).fill(undefined);
    for (let s = this.#head; s < this.#tail; s++) ring[s & mask] = this.#ring[s & this.#mask];
    this.#ring = ring;
    this.#mask = mask;
  }
}
