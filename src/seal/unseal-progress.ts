import { randomUUID, timingSafeEqual } from 'node:crypto';

/** Key shares submitted so far towards a threshold (unseal, generate-root, rekey). */
export class KeyShares {
  #shares: Uint8Array[] = [];

  get count(): number {
    return this.#shares.length;
  }

  /** Add a share; false if an identical share was already submitted. */
  add(share: Uint8Array): boolean {
    const dup = this.#shares.some((s) => s.length === share.length && timingSafeEqual(s, share));
    if (dup) return false;
    this.#shares.push(Uint8Array.from(share));
    return true;
  }

  /** Hand over the collected shares (the caller wipes them) and start again from none. */
  take(): Uint8Array[] {
    const shares = this.#shares;
    this.#shares = [];
    return shares;
  }

  reset(): void {
    for (const s of this.#shares) s.fill(0);
    this.#shares = [];
  }
}

/** The unseal attempt's shares. A duplicate share does not advance progress. */
export class UnsealProgress extends KeyShares {
  #nonce = '';

  /** Changes with each new unseal attempt, so operators can tell attempts apart. */
  get nonce(): string {
    return this.#nonce;
  }

  override add(share: Uint8Array): boolean {
    if (this.count === 0) this.#nonce = randomUUID();
    return super.add(share);
  }

  override take(): Uint8Array[] {
    this.#nonce = '';
    return super.take();
  }

  override reset(): void {
    super.reset();
    this.#nonce = '';
  }
}
