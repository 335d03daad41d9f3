import { LocalLockTable } from '../local-lock.js';
import { childrenOf, type HALock, type StorageBackend, type TxOp } from '../storage.js';

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
