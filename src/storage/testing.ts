import type { HALock, StorageBackend, StorageEntry, TxOp } from './storage.js';

/**
 * A storage backend for tests that fails on demand, the way a disk or a database connection
 * fails: a write either happens entirely or (failing) not at all, and a transaction is one
 * write. `failWritesAfter(n)` lets n more writes through and fails every one after them;
 * `failWritesTo(test)` fails the writes that touch a key the test accepts.
 */
export class FaultyStorage implements StorageBackend {
  readonly #inner: StorageBackend;
  #budget = Infinity;
  #failKey: ((key: string) => boolean) | null = null;
  /** Writes that went through since the last failWritesAfter. */
  writes = 0;

  constructor(inner: StorageBackend) {
    this.#inner = inner;
  }

  failWritesAfter(n: number): void {
    this.#budget = n;
    this.writes = 0;
  }

  failWritesTo(test: ((key: string) => boolean) | null): void {
    this.#failKey = test;
  }

  heal(): void {
    this.#budget = Infinity;
    this.#failKey = null;
  }

  #admit(keys: readonly string[]): void {
    if (this.writes >= this.#budget || (this.#failKey && keys.some(this.#failKey))) throw new Error('storage failure (injected)');
    this.writes++;
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.#inner.get(key);
  }
  async put(key: string, value: Uint8Array): Promise<void> {
    this.#admit([key]);
    await this.#inner.put(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#admit([key]);
    await this.#inner.delete(key);
  }
  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }
  async transaction(ops: readonly TxOp[]): Promise<void> {
    this.#admit(ops.map((o) => o.key));
    await this.#inner.transaction(ops);
  }
  snapshot(): AsyncIterable<StorageEntry> {
    return this.#inner.snapshot();
  }
  async replaceAll(entries: readonly StorageEntry[]): Promise<void> {
    this.#admit(entries.map(([k]) => k));
    await this.#inner.replaceAll(entries);
  }
  lock(key: string, holder: string): HALock {
    return this.#inner.lock(key, holder);
  }
  leader(key: string): Promise<string | null> {
    return this.#inner.leader(key);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
