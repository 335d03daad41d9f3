/** Injected time, so TTL and expiry logic is testable without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #ms: number;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#ms = startMs;
  }
  now(): number {
    return this.#ms;
  }
  advance(seconds: number): void {
    this.#ms += seconds * 1000;
  }
}
