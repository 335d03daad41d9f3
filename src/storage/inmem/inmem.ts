import { LocalLockTable } from '../local-lock.js';
import { childrenOf, type HALock, type StorageBackend, type StorageEntry, type TxOp } from '../storage.js';

/**
 * Storage in a Map: for tests and `server -dev`. Nothing survives the process. Values are
 * copied in and out with Uint8Array.from (Buffer#slice would share memory with the caller).
 */
export class InmemStorage implements StorageBackend {
  readonly #data = new Map<string, Uint8Array>();
  readonly #locks = new LocalLockTable();

  async get(key: string): Promise<Uint8Array | null> {
    const v = this.#data.get(key);
    return v === undefined ? null : Uint8Array.from(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#data.set(key, Uint8Array.from(value));
  }

  async delete(key: string): Promise<void> {
    this.#data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return childrenOf(prefix, this.#data.keys());
  }

  async transaction(ops: readonly TxOp[]): Promise<void> {
    for (const op of ops) {
      if (op.op === 'put') this.#data.set(op.key, Uint8Array.from(op.value));
      else this.#data.delete(op.key);
    }
  }

  async *snapshot(): AsyncIterable<StorageEntry> {
    // Copied in one step: the moment is the call's, whatever is written while the caller reads.
    const entries = [...this.#data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, v] of entries) yield [k, Uint8Array.from(v)];
  }

  async replaceAll(entries: readonly StorageEntry[]): Promise<void> {
    this.#data.clear();
    for (const [k, v] of entries) this.#data.set(k, Uint8Array.from(v));
  }

  lock(key: string, holder: string): HALock {
    return this.#locks.lock(key, holder);
  }

  async leader(key: string): Promise<string | null> {
    return this.#locks.leader(key);
  }

  async close(): Promise<void> {
    this.#locks.abortAll();
  }
}
