import { LRU_ENTRY_BYTES, LruMap } from '../util/index.js';
import type { HALock, StorageBackend, StorageEntry, TxOp } from './storage.js';

const weigh = (key: string, value: Uint8Array | null): number => LRU_ENTRY_BYTES + key.length + (value?.byteLength ?? 0);

/**
 * An LRU cache of storage entries in front of a backend, like Vault's physical cache. It holds
 * exactly what the backend holds — ciphertext — so it adds no plaintext to memory. Writes go
 * through to the backend first and update the cache only once they are durable. Bounded both in
 * entries and in bytes, so that large values cannot make it outgrow the memory meant for it.
 * Correct for one process owning the storage; HA backends will need invalidation from the
 * active node.
 */
export class CachedStorage implements StorageBackend {
  readonly #inner: StorageBackend;
  readonly #entries: LruMap<string, Uint8Array | null>;
  /** Bumped by every write, so a read that overlapped a write does not cache what it saw. */
  #writes = 0;
  readonly #uncached: readonly string[];

  /**
   * `uncached`: key prefixes written once and read about once (the lease store), whose entries
   * would only push out the ones worth keeping; they are passed through, never kept.
   */
  constructor(inner: StorageBackend, maxEntries: number, maxBytes = Infinity, uncached: readonly string[] = []) {
    this.#uncached = uncached;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new Error(`cache size must be a positive integer, got ${maxEntries}`);
    if (!(maxBytes > 0)) throw new Error(`cache byte budget must be positive, got ${maxBytes}`);
    this.#inner = inner;
    this.#entries = new LruMap({ maxEntries, maxWeight: maxBytes, weigh });
  }

  /** Bytes the cached entries are reckoned to take (keys, values and per-entry overhead). */
  get bytes(): number {
    return this.#entries.weight;
  }

  #keeps(key: string): boolean {
    return !this.#uncached.some((p) => key.startsWith(p));
  }

  async get(key: string): Promise<Uint8Array | null> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const before = this.#writes;
    const value = await this.#inner.get(key);
    if (this.#writes === before && this.#keeps(key)) this.#entries.set(key, value);
    return value;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#writes++;
    this.#entries.delete(key);
    await this.#inner.put(key, value);
    if (this.#keeps(key)) this.#entries.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.#writes++;
    this.#entries.delete(key);
    await this.#inner.delete(key);
    if (this.#keeps(key)) this.#entries.set(key, null);
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }

  async transaction(ops: readonly TxOp[]): Promise<void> {
    this.#writes++;
    for (const op of ops) this.#entries.delete(op.key);
    await this.#inner.transaction(ops);
    for (const op of ops) if (this.#keeps(op.key)) this.#entries.set(op.key, op.op === 'put' ? op.value : null);
  }

  snapshot(): AsyncIterable<StorageEntry> {
    return this.#inner.snapshot();
  }

  async replaceAll(entries: readonly StorageEntry[]): Promise<void> {
    this.#writes++;
    this.#entries.clear();
    try {
      await this.#inner.replaceAll(entries);
    } finally {
      // Whatever the outcome, nothing cached from before may be served again.
      this.#writes++;
      this.#entries.clear();
    }
  }

  lock(key: string, holder: string): HALock {
    return this.#inner.lock(key, holder);
  }

  leader(key: string): Promise<string | null> {
    return this.#inner.leader(key);
  }

  close(): Promise<void> {
    this.#entries.clear();
    return this.#inner.close();
  }
}
