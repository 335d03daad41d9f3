import { randomUUID, timingSafeEqual } from 'node:crypto';

/** Key shares submitted so far. A duplicate share does not advance progress. */
export class UnsealProgress {
  #shares: Uint8Array[] = [];
  #nonce = '';

  get count(): number {
    return this.#shares.length;
  }

  /** Changes with each new unseal attempt, so operators can tell attempts apart. */
  get nonce(): string {
    return this.#nonce;
  }

  /** Add a share; false if an identical share was already submitted. */
  add(share: Uint8Array): boolean {
    if (this.#shares.length === 0) this.#nonce = randomUUID();
    const dup = this.#shares.some((s) => s.length === share.length && timingSafeEqual(s, share));
    if (dup) return false;
    this.#shares.push(Uint8Array.from(share));
    return true;
  }

  /** Hand over the collected shares (the caller wipes them) and start a new attempt. */
  take(): Uint8Array[] {
    const shares = this.#shares;
    this.#shares = [];
    this.#nonce = '';
    return shares;
  }

  reset(): void {
    for (const s of this.#shares) s.fill(0);
    this.#shares = [];
    this.#nonce = '';
  }
}
