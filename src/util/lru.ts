/**
 * A Map bounded to `max` entries that forgets a long-unused one first: the CLOCK approximation
 * of least-recently-used (second chance). A hit only marks its entry, so reads cost one Map
 * lookup; an eviction passes over marked entries once, unmarking them, and drops the first one
 * left unmarked.
 */
export class LruMap<K, V> {
  readonly #max: number;
  readonly #entries = new Map<K, { value: V; used: boolean }>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, marked as used; undefined when absent. */
  get(key: K): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  set(key: K, value: V): void {
    if (this.#max <= 0) return;
    const e = this.#entries.get(key);
    if (e !== undefined) {
      e.value = value;
      e.used = true;
      return;
    }
    if (this.#entries.size >= this.#max) this.#evict();
    this.#entries.set(key, { value, used: false });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  #evict(): void {
    for (const [k, e] of this.#entries) {
      this.#entries.delete(k);
      if (!e.used) return;
      e.used = false;
      this.#entries.set(k, e); // a second chance, at the back
    }
  }
}
