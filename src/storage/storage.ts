/**
 * The physical storage contract. Everything stored through it is treated as untrusted and
 * readable by an attacker: only the barrier above writes to it, and only ciphertext.
 * Backends: inmem (tests, -dev) and sqlite (the embedded default); PostgreSQL and etcd later.
 */
export type TxOp =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly op: 'delete'; readonly key: string };

/** One stored key and its value, as snapshots carry them. */
export type StorageEntry = readonly [key: string, value: Uint8Array];

export interface StorageBackend {
  /** The value at key, or null. */
  get(key: string): Promise<Uint8Array | null>;
  /** Write durably: resolves only once the value would survive a crash. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Remove key; absent keys are not an error. */
  delete(key: string): Promise<void>;
  /** Immediate children under prefix: leaves, and folders with a trailing "/". Sorted, unique. */
  list(prefix: string): Promise<string[]>;
  /** Apply all ops atomically and durably, or none. */
  transaction(ops: readonly TxOp[]): Promise<void>;
  /**
   * Every entry as it stood at one moment, in key order, while writes go on (a snapshot). Writes
   * acknowledged before the call are in it; writes that start after it returns are not.
   */
  snapshot(): AsyncIterable<StorageEntry>;
  /** Replace every entry with these, atomically and durably: afterwards nothing else is stored. */
  replaceAll(entries: readonly StorageEntry[]): Promise<void>;
  /** An HA lock on key; `holder` identifies this node to other nodes reading the leader. */
  lock(key: string, holder: string): HALock;
  /** The holder of the lock on key, or null when nobody holds it. */
  leader(key: string): Promise<string | null>;
  /** Flush pending writes and release resources. */
  close(): Promise<void>;
}

export interface HALock {
  /**
   * Wait until the lock is held (or `signal` aborts, which rejects). The returned signal aborts
   * if the lock is later lost, so an active node can step down.
   */
  acquire(signal?: AbortSignal): Promise<AbortSignal>;
  /** Give the lock up; a no-op when not held. */
  release(): Promise<void>;
}

export { childrenOf } from '../logical/index.js';
