import type { StorageView } from '../../logical/index.js';
import { MinHeap } from '../tokens/min-heap.js';
import { parseDueLeaf } from './lease-entry.js';

/**
 * The next leases due, in memory; the rest stay in the expiry index in storage. Invariant:
 * every index row due before `end` is in the heap (or already acted on), so the heap's head is
 * the next lease due anywhere. The heap holds at most about twice `size` entries however many
 * leases exist (vault#6417: holding every lease in memory hung servers at 600k).
 *
 * Heap entries may be stale (the lease was renewed or revoked since); whoever pops one checks
 * the stored lease before acting.
 */
export class DueWindow {
  readonly #view: StorageView;
  readonly #size: number;
  readonly #heap = new MinHeap();
  #end = 0;
  /** Rows written while a refill runs: its scan may have passed them. */
  #late: { due: number; id: string }[] | null = null;

  constructor(view: StorageView, size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`DueWindow size must be a positive integer, got ${size}`);
    this.#view = view;
    this.#size = size;
  }

  get size(): number {
    return this.#heap.size;
  }

  /** Forget everything (at seal); the next refill starts from the earliest row. */
  reset(): void {
    this.#heap.clear();
    this.#end = 0;
    this.#late = null;
  }

  peek(): { due: number; key: string } | undefined {
    return this.#heap.peek();
  }

  pop(): { due: number; key: string } | undefined {
    return this.#heap.pop();
  }

  /** A row of the expiry index was written, after its write committed. */
  indexed(id: string, due: number): void {
    this.#late?.push({ due, id });
    if (due >= this.#end) return;
    this.#heap.push(due, id);
    if (this.#heap.size > 2 * this.#size && this.#late === null) this.#trim();
  }

  /** Keep the earliest `size` entries; the rest are in storage, and `end` moves back to say so. */
  #trim(): void {
    const all: { due: number; key: string }[] = [];
    for (let e = this.#heap.pop(); e; e = this.#heap.pop()) all.push(e);
    const cut = all[this.#size]!.due;
    for (const e of all) {
      if (e.due >= cut) break;
      this.#heap.push(e.due, e.key);
    }
    this.#end = cut;
  }

  /** Load the next rows from storage when the heap runs low. */
  async refill(): Promise<void> {
    if (this.#end === Infinity || this.#late !== null || this.#heap.size >= this.#size / 4) return;
    const from = this.#end;
    this.#late = [];
    try {
      let end = Infinity;
      scan: for (const hour of await this.#view.list('due/')) {
        if ((Number(hour.slice(0, -1)) + 1) * 3_600_000 <= from) continue;
        for (const second of await this.#view.list(`due/${hour}`)) {
          const s = Number(second.slice(0, -1));
          if ((s + 1) * 1000 <= from) continue;
          for (const leaf of await this.#view.list(`due/${hour}${second}`)) {
            const { due, id } = parseDueLeaf(leaf);
            if (due >= from) this.#heap.push(due, id);
          }
          // Whole seconds are loaded, so the window ends at a second's end.
          if (this.#heap.size >= this.#size) {
            end = (s + 1) * 1000;
            break scan;
          }
        }
      }
      this.#end = end;
      for (const row of this.#late) if (row.due >= from && row.due < end) this.#heap.push(row.due, row.id);
    } finally {
      this.#late = null;
    }
  }
}
