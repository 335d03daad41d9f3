import type { Barrier } from '../barrier/index.js';
import { badRequest, getJSON, putJSON } from '../logical/index.js';
import type { Clock, Logger } from '../util/index.js';

/** NIST SP 800-38D's bound for AES-GCM with random nonces, as Vault applies it: rotate before 2^32 encryptions. */
export const MAX_OPERATIONS = 3_865_470_566;
const MIN_OPERATIONS = 1_000_000;
const MIN_INTERVAL = 24 * 3600;

const CONFIG_KEY = 'core/rotate-config';
const USAGE_KEY = 'core/key-usage';

export interface RotateConfig {
  readonly max_operations: number;
  /** Seconds; 0 for no time-based rotation. */
  readonly interval: number;
  readonly enabled: boolean;
}

const DEFAULT_CONFIG: RotateConfig = { max_operations: MAX_OPERATIONS, interval: 0, enabled: true };

export interface KeyStatus {
  readonly term: number;
  readonly install_time: string;
  readonly encryptions: number;
}

/**
 * The barrier's key rotation: on demand (sys/rotate) and automatic, after max_operations
 * encryptions under the active term or once it is interval old (sys/rotate/config). The count
 * of encryptions is the barrier's since unseal plus what earlier unseals counted, saved with
 * the periodic work; a crash forgets at most that interval's count.
 */
export class KeyRotation {
  readonly #barrier: Barrier;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #config: RotateConfig = DEFAULT_CONFIG;
  /** Encryptions under the active term counted before this unseal. */
  #base = 0;
  #saved = -1;
  /** Rotations run one after another, each a term of its own. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { barrier: Barrier; clock: Clock; logger: Logger }) {
    this.#barrier = opts.barrier;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
  }

  async load(): Promise<void> {
    this.#config = { ...DEFAULT_CONFIG, ...((await getJSON<RotateConfig>(this.#barrier, CONFIG_KEY)) ?? {}) };
    const usage = await getJSON<{ term: number; encryptions: number }>(this.#barrier, USAGE_KEY);
    this.#base = usage && usage.term === this.#barrier.keyStatus().term ? usage.encryptions : 0;
    this.#saved = this.#base;
  }

  status(): KeyStatus {
    const s = this.#barrier.keyStatus();
    return { term: s.term, install_time: s.installTime, encryptions: this.#base + s.encryptionsSinceUnseal };
  }

  /** A new key term for every write from now on. Rotations run one at a time, each adding a term. */
  rotate(): Promise<KeyStatus> {
    const run = this.#queue.then(async () => {
      await this.#barrier.rotate(new Date(this.#clock.now()));
      this.#base = 0;
      await this.#save();
      return this.status();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  config(): RotateConfig {
    return this.#config;
  }

  async setConfig(change: Partial<RotateConfig>): Promise<void> {
    const next = { ...this.#config, ...change };
    if (!Number.isSafeInteger(next.max_operations) || next.max_operations < MIN_OPERATIONS || next.max_operations > MAX_OPERATIONS) {
      throw badRequest(`max_operations must be between ${MIN_OPERATIONS} and ${MAX_OPERATIONS}`);
    }
    if (next.interval !== 0 && next.interval < MIN_INTERVAL) throw badRequest('interval must be at least 24h, or 0 for none');
    await putJSON(this.#barrier, CONFIG_KEY, next);
    this.#config = next;
  }

  /** Whether the configuration asks for a rotation now. */
  due(): boolean {
    const { enabled, max_operations, interval } = this.#config;
    if (!enabled) return false;
    const s = this.status();
    const age = (this.#clock.now() - Date.parse(s.install_time)) / 1000;
    return s.encryptions >= max_operations || (interval > 0 && age >= interval);
  }

  /** The periodic work: save the count, and rotate when due. */
  async tick(): Promise<void> {
    if (this.due()) {
      const s = await this.rotate();
      this.#logger.info('rotated the barrier key automatically', { term: s.term });
      return;
    }
    await this.#save();
  }

  async #save(): Promise<void> {
    const s = this.status();
    if (s.encryptions === this.#saved) return;
    // The write is itself an encryption: count it in what is saved.
    this.#saved = s.encryptions + 1;
    await putJSON(this.#barrier, USAGE_KEY, { term: s.term, encryptions: this.#saved });
  }
}
