import type { HALock } from './storage.js';

/**
 * An HA lock for backends that only one process can open (inmem, a SQLite file): holders are
 * the lock objects of this process, queued in order of asking.
 */
export class LocalLockTable {
  readonly #holders = new Map<string, { holder: string; lost: AbortController }>();
  readonly #waiters = new Map<string, (() => void)[]>();

  lock(key: string, holder: string): HALock {
    let mine: AbortController | null = null;
    const acquire = async (signal?: AbortSignal): Promise<AbortSignal> => {
      while (this.#holders.has(key)) {
        await new Promise<void>((resolve, reject) => {
          const queue = this.#waiters.get(key) ?? [];
          queue.push(resolve);
          this.#waiters.set(key, queue);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      mine = new AbortController();
      this.#holders.set(key, { holder, lost: mine });
      return mine.signal;
    };
    const release = async (): Promise<void> => {
      const current = this.#holders.get(key);
      if (!mine || current?.lost !== mine) return;
      this.#holders.delete(key);
      mine = null;
      this.#waiters.get(key)?.shift()?.();
    };
    return { acquire, release };
  }

  leader(key: string): string | null {
    return this.#holders.get(key)?.holder ?? null;
  }

  /** Every holder loses its lock (the backend is closing). */
  abortAll(): void {
    for (const { lost } of this.#holders.values()) lost.abort(new Error('storage closed'));
    this.#holders.clear();
  }
}
