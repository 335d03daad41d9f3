import type { StorageOp, StorageView } from '../logical/index.js';

/**
 * A storage view confined to one prefix. Keys are concatenated, never interpreted, so no key a
 * backend passes ("../x" included) can address anything outside the prefix.
 */
export class BarrierView implements StorageView {
  readonly #inner: StorageView;
  readonly #prefix: string;

  constructor(inner: StorageView, prefix: string) {
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`view prefix must end in "/": ${prefix}`);
    this.#inner = inner;
    this.#prefix = prefix;
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.#inner.get(this.#prefix + key);
  }
  put(key: string, value: Uint8Array): Promise<void> {
    return this.#inner.put(this.#prefix + key, value);
  }
  delete(key: string): Promise<void> {
    return this.#inner.delete(this.#prefix + key);
  }
  list(prefix: string): Promise<string[]> {
    return this.#inner.list(this.#prefix + prefix);
  }
  peek(key: string): Uint8Array | undefined {
    return this.#inner.peek?.(this.#prefix + key);
  }
  transaction(ops: readonly StorageOp[]): Promise<void> {
    return this.#inner.transaction(ops.map((o) => ({ ...o, key: this.#prefix + o.key })));
  }
  /** A narrower view inside this one. */
  sub(prefix: string): BarrierView {
    return new BarrierView(this.#inner, this.#prefix + prefix);
  }
}
