/** Quantiles are of the current window's observations and the last window's: the last 10 to 20 s. */
const WINDOW_MS = 10_000;
/** Observations kept per window for the quantiles; beyond it each one replaces a random kept one (a uniform sample). */
const RESERVOIR = 1024;
export const QUANTILES = [0.5, 0.9, 0.99] as const;

/**
 * A Prometheus summary in milliseconds, as Vault's timers are: quantiles over the observations of
 * the last 10 to 20 seconds, and a count and a sum since start. prom-client's own summary costs about 3 µs an
 * observation with a sliding window; this one costs a few nanoseconds (a slot in a typed array),
 * which matters on the request path, and sorts its sample only when it is scraped. It renders
 * itself in Prometheus' text format, beside what prom-client's registry renders.
 */
export class WindowSummary {
  /** Vault's name, dotted ("vault.core.handle_request"), and the Prometheus one ("vault_core_handle_request"). */
  readonly name: string;
  readonly promName: string;
  readonly #help: string;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;
  #windowStart = 0;
  #seen = 0;
  #sample = new Float64Array(RESERVOIR);
  /** The last window's sample, so that a scrape just after a window turns still has quantiles. */
  #previous: Float64Array = new Float64Array(0);

  constructor(name: string, help: string) {
    this.name = name;
    this.promName = promName(name);
    this.#help = help;
  }

  observe(value: number): void {
    // The clock is read every 64th observation (and at every scrape), not at each one.
    if ((this.#count & 63) === 0) {
      const now = Date.now();
      if (now - this.#windowStart >= WINDOW_MS) this.#turn(now);
    }
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    const i = this.#seen++;
    if (i < RESERVOIR) this.#sample[i] = value;
    else {
      const j = Math.floor(Math.random() * this.#seen);
      if (j < RESERVOIR) this.#sample[j] = value;
    }
  }

  /** Time fn and observe how long it took, in milliseconds. */
  time<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    return fn().finally(() => this.observe(performance.now() - t0));
  }

  /** Count, sum, min, max and mean since start, for the JSON format. */
  stats(): { count: number; sum: number; min: number; max: number; mean: number } {
    const n = this.#count;
    return { count: n, sum: this.#sum, min: n ? this.#min : 0, max: n ? this.#max : 0, mean: n ? this.#sum / n : 0 };
  }

  /** The quantiles of the last 10 to 20 seconds' observations; NaN with none (as Vault answers). */
  quantiles(): number[] {
    const now = Date.now();
    if (now - this.#windowStart >= WINDOW_MS) this.#turn(now);
    const current = this.#sample.subarray(0, Math.min(this.#seen, RESERVOIR));
    const all = new Float64Array(current.length + this.#previous.length);
    all.set(current);
    all.set(this.#previous, current.length);
    all.sort();
    return QUANTILES.map((q) => (all.length === 0 ? NaN : all[Math.min(all.length - 1, Math.floor(q * all.length))]!));
  }

  /** The summary in Prometheus' text exposition format. */
  render(): string {
    const n = this.promName;
    const q = this.quantiles();
    return (
      `# HELP ${n} ${this.#help}\n# TYPE ${n} summary\n` +
      QUANTILES.map((quantile, i) => `${n}{quantile="${quantile}"} ${promNumber(q[i]!)}\n`).join('') +
      `${n}_sum ${promNumber(this.#sum)}\n${n}_count ${this.#count}\n`
    );
  }

  #turn(now: number): void {
    // A window that ended more than a window ago is too old to count.
    this.#previous = now - this.#windowStart < WINDOW_MS * 2 ? this.#sample.slice(0, Math.min(this.#seen, RESERVOIR)) : new Float64Array(0);
    this.#windowStart = now;
    this.#seen = 0;
  }
}

/** A dotted (or dashed) metric name as Prometheus spells it: "vault.route.read.secret-" is "vault_route_read_secret_". */
export function promName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

/** A number in the exposition format: NaN, +Inf and -Inf as Prometheus writes them. */
export function promNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
