/**
 * A bounded least-recently-used map. Caches in the KV backend hold only what
 * can be re-read, and never grow without bound.
 *
 * @module
 */

/** A map that forgets its least recently used entry beyond `capacity`. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #capacity: number;

  /** Creates an empty map holding at most `capacity` entries. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The value of `key`, marking it recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The value of `key`, leaving its place in the order alone. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key`, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#capacity) {
      this.#map.delete(this.#map.keys().next().value as K);
    }
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#map.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#map.clear();
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }
}
