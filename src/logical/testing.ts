import { childrenOf } from './children.js';
import type { StorageOp, StorageView } from './storage.js';

/** A StorageView over a Map, for tests of code that sees only a view (no barrier, no encryption). */
export class MemoryView implements StorageView {
  readonly entries = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | null> {
    return this.entries.get(key) ?? null;
  }
  async put(key: string, value: Uint8Array): Promise<void> {
    this.entries.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async list(prefix: string): Promise<string[]> {
    return childrenOf(prefix, this.entries.keys());
  }
  async transaction(ops: readonly StorageOp[]): Promise<void> {
    for (const o of ops) {
      if (o.op === 'put') this.entries.set(o.key, o.value);
      else this.entries.delete(o.key);
    }
  }
}
