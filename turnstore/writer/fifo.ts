/**
 * A first-in, first-out queue whose `shift` is O(1) at any length.
 * `Array.prototype.shift` copies the whole array once it is large (V8 trims
 * small arrays in place, not ones in large-object space), which made a
 * write-behind backlog of 20,000 records cost more to drain than to store.
 *
 * @module
 */

/** A FIFO queue: push at the back, shift from the front. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item` at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The front item, without removing it. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the front item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // let it be collected
    // Compact once the consumed prefix is most of the array: amortized O(1).
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every queued item, front first. */
  takeAll(): T[] {
    const all = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return all;
  }
}
