/**
 * What one entry holding a Uint8Array costs in memory beyond its key and value bytes: the map
 * slot, the entry record, the Uint8Array and ArrayBuffer objects, the value's separately
 * allocated backing store, and the garbage-collected heap's slack around them. Measured in
 * Node 20: a server's RSS with a full storage cache of 65,536 entries (key 65 bytes, value 426)
 * and of about 97,000 differed by about 1.5 KB an entry. For weighing caches of byte values, so
 * that a cache's byte budget is near the memory it takes.
 */
export const LRU_ENTRY_BYTES = 600;

/**
 * A string key as a string of its own. A key cut from a longer string (a request path sliced
 * from the request's header block), or joined from such a piece, is in V8 a view that keeps
 * the whole of that string alive for as long as the key is held. Measured in Node 20: 100,000
 * such keys, each cut from a 350-byte header block, held 46–49 MB; their own copies, 7.6 MB.
 * A JSON round trip gives the same key (lone surrogates included) in a string of its own, one
 * byte a character where it can be; string tricks such as slicing a concatenation do not, as
 * V8 sees through them. Paid once per new entry, never on a hit.
 */
function ownKey<K>(key: K): K {
  return typeof key === 'string' ? (JSON.parse(JSON.stringify(key)) as K) : key;
}

/** How much of a budget an entry uses (for example its size in bytes). */
export type Weigh<K, V> = (key: K, value: V) => number;

export interface LruLimits<K, V> {
  /** Most entries held. */
  readonly maxEntries: number;
  /** Most total weight held, with weigh; an entry heavier than this on its own is not kept. */
  readonly maxWeight?: number;
  readonly weigh?: Weigh<K, V>;
}

interface Entry<V> {
  value: V;
  used: boolean;
  weight: number;
}

/**
 * A Map bounded in entries (and, optionally, in total weight) that forgets a long-unused entry
 * first: the CLOCK approximation of least-recently-used (second chance). A hit only marks its
 * entry, so reads cost one Map lookup; an eviction passes over marked entries once, unmarking
 * them, and drops the first one left unmarked.
 *
 * The clock hand is one live iterator over the Map, kept between evictions. Starting a fresh
 * iteration at each eviction would walk, every time, past the holes the earlier deletions left
 * at the front of V8's hash table until it is next rebuilt: eviction cost then grows with the
 * cache, and a full cache of 100,000 entries slowed every insert (a quarter fewer logins/s after
 * a few hundred thousand tokens).
 */
export class LruMap<K, V> {
  readonly #max: number;
  readonly #maxWeight: number;
  readonly #weigh: Weigh<K, V> | undefined;
  readonly #entries = new Map<K, Entry<V>>();
  #hand: Iterator<[K, Entry<V>]> | null = null;
  #weight = 0;

  constructor(limits: number | LruLimits<K, V>) {
    const l = typeof limits === 'number' ? { maxEntries: limits } : limits;
    this.#max = l.maxEntries;
    this.#maxWeight = l.maxWeight ?? Infinity;
    this.#weigh = l.weigh;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Total weight of the entries held (0 without a weigh function). */
  get weight(): number {
    return this.#weight;
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
    const weight = this.#weigh === undefined ? 0 : this.#weigh(key, value);
    if (weight > this.#maxWeight) {
      this.delete(key);
      return;
    }
    const e = this.#entries.get(key);
    if (e !== undefined) {
      this.#weight += weight - e.weight;
      e.value = value;
      e.used = true;
      e.weight = weight;
    } else {
      if (this.#entries.size >= this.#max) this.#evict();
      this.#entries.set(ownKey(key), { value, used: false, weight });
      this.#weight += weight;
    }
    while (this.#weight > this.#maxWeight) this.#evict();
  }

  delete(key: K): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#weight -= e.weight;
  }

  clear(): void {
    this.#entries.clear();
    this.#weight = 0;
  }

  #evict(): void {
    if (this.#entries.size === 0) return;
    for (;;) {
      let step = this.#hand?.next();
      if (step === undefined || step.done) {
        // Round the clock: the hand starts again at the oldest entry.
        this.#hand = this.#entries.entries();
        step = this.#hand.next();
        if (step.done) return;
      }
      const [k, e] = step.value;
      this.#entries.delete(k);
      if (!e.used) {
        this.#weight -= e.weight;
        return;
      }
      e.used = false;
      this.#entries.set(k, e); // a second chance, at the back, where the hand comes later
    }
  }
}
