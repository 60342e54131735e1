/**
 * The transport's requests in flight, found by request id.
 *
 * Ids count up from 1 and the requests in flight are nearly always a run of
 * recent ids, so each goes in a ring slot by its id's low bits; one whose slot
 * is taken (by a much older request still unanswered, or when more than the
 * ring's size are in flight) goes in a map. This replaced a `Map` of every
 * request in flight: its set and delete per request, and the rehashing as
 * entries came and went, were a measurable part of a pipelined append's
 * allocations (cxdb README, issue 12, fourth pass).
 *
 * @module
 */

/** What is kept: the transport's `Pending` (its id, and the order it was sent in). */
export interface Flying {
  /** The request id. */
  readonly id: number;
  /** Increases with every send, replays included: {@link InFlight.values} keeps this order. */
  sentSeq: number;
}

/** Slots in the ring (a power of two, above the transport's default in-flight limit of 512). */
const SLOTS = 1024;

/** Requests in flight by id; see the module notes. */
export class InFlight<T extends Flying> {
  #ring: (T | undefined)[] = new Array(SLOTS).fill(undefined);
  #overflow = new Map<number, T>();
  #size = 0;

  /** Requests in flight. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item` (its id is not in flight). */
  set(item: T): void {
    const i = item.id & (SLOTS - 1);
    if (this.#ring[i] === undefined) this.#ring[i] = item;
    else this.#overflow.set(item.id, item);
    this.#size++;
  }

  /** The request in flight with id `id`, or undefined. */
  get(id: number): T | undefined {
    const item = this.#ring[id & (SLOTS - 1)];
    if (item !== undefined && item.id === id) return item;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(id);
  }

  /** Removes the request with id `id`; false when it was not in flight. */
  delete(id: number): boolean {
    const i = id & (SLOTS - 1);
    const item = this.#ring[i];
    if (item !== undefined && item.id === id) {
      this.#ring[i] = undefined;
    } else if (this.#overflow.size === 0 || !this.#overflow.delete(id)) {
      return false;
    }
    this.#size--;
    return true;
  }

  /** Every request in flight, in the order they were sent (oldest first). */
  values(): T[] {
    const out: T[] = [];
    if (this.#size === 0) return out;
    for (const item of this.#ring) if (item !== undefined) out.push(item);
    for (const item of this.#overflow.values()) out.push(item);
    return out.sort((a, b) => a.sentSeq - b.sentSeq);
  }

  /** Forgets every request. */
  clear(): void {
    if (this.#size === 0) return;
    this.#ring.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
  }
}
