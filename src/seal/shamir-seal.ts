import { createSecretKey, randomBytes } from 'node:crypto';
import { openWithKey, sealWithKey } from '../barrier/index.js';
import { badRequest } from '../logical/index.js';
import type { StorageBackend, TxOp } from '../storage/index.js';
import { splitKey } from './shamir.js';

/** How the root key is protected. Stored unencrypted: it holds no secret. */
export interface SealConfig {
  readonly type: 'shamir';
  readonly secretShares: number;
  readonly secretThreshold: number;
}

/** Check a share count and threshold (init's and rekey's secret_shares and secret_threshold). */
export function validateSealConfig(n: number, t: number): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > 255) throw badRequest('secret_shares must be between 1 and 255');
  if (!Number.isSafeInteger(t) || t < 1 || t > n) throw badRequest('secret_threshold must be between 1 and secret_shares');
  if (n > 1 && t < 2) throw badRequest('threshold must be greater than one for multiple shares');
}

/**
 * A new unseal key, its shares, and the writes that make it the one that unseals: they go in one
 * storage transaction, so the old key set works until it commits and only the new one after.
 */
export interface PreparedSeal {
  readonly config: SealConfig;
  readonly shares: Uint8Array[];
  /** The new unseal key (a rekey's verification compares the shares against it). Wiped by discard. */
  readonly unsealKey: Uint8Array;
  /** The records to write in the commit's transaction (the caller may add its own). */
  readonly ops: readonly TxOp[];
  /** Call once the transaction holding `ops` has committed. */
  committed(): void;
  discard(): void;
}

const CONFIG_PATH = 'core/seal-config';
/** The root key, AES-GCM encrypted under the unseal key (the key the shares reconstruct). */
const ROOT_KEY_PATH = 'core/root-key';
/** The seal's own records, outside the barrier: a snapshot without them cannot be unsealed. */
export const SEAL_RECORDS: readonly string[] = [CONFIG_PATH, ROOT_KEY_PATH];

/**
 * The Shamir seal: a random unseal key is split into shares; it encrypts the root key, which
 * in turn protects the barrier's keyring. Shares are shown once, at initialisation or rekey.
 */
export class ShamirSeal {
  readonly #physical: StorageBackend;
  #config: SealConfig | null = null;

  constructor(physical: StorageBackend) {
    this.#physical = physical;
  }

  async config(): Promise<SealConfig | null> {
    if (this.#config) return this.#config;
    const raw = await this.#physical.get(CONFIG_PATH);
    this.#config = raw ? (JSON.parse(new TextDecoder().decode(raw)) as SealConfig) : null;
    return this.#config;
  }

  /**
   * Create the unseal key and root key, and store the root key under the unseal key. The server
   * is not initialised until `commit` stores the seal configuration: the caller does that last,
   * once everything else is written, so a crash part-way never leaves a server that claims to be
   * initialised but cannot unseal.
   */
  async initialize(config: SealConfig): Promise<{ shares: Uint8Array[]; rootKey: Uint8Array; commit: () => Promise<void> }> {
    const unsealKey = randomBytes(32);
    const rootKey = randomBytes(32);
    const shares = await splitKey(unsealKey, config.secretShares, config.secretThreshold);
    await this.#physical.put(ROOT_KEY_PATH, sealWithKey(createSecretKey(unsealKey), 0, ROOT_KEY_PATH, rootKey));
    unsealKey.fill(0);
    const commit = async () => {
      await this.#physical.put(CONFIG_PATH, new TextEncoder().encode(JSON.stringify(config)));
      this.#config = config;
    };
    return { shares, rootKey, commit };
  }

  /** Read the configuration from storage again (it was replaced by a restored snapshot). */
  forget(): void {
    this.#config = null;
  }

  /** The root key, given the reconstructed unseal key. Throws if the key is wrong. */
  async rootKey(unsealKey: Uint8Array): Promise<Uint8Array> {
    const blob = await this.#physical.get(ROOT_KEY_PATH);
    if (!blob) throw new Error('seal is not initialised');
    return openWithKey(createSecretKey(unsealKey), ROOT_KEY_PATH, blob);
  }

  /** A new unseal key for this root key, split as config says; nothing is written yet. */
  async prepareRekey(rootKey: Uint8Array, config: SealConfig): Promise<PreparedSeal> {
    const unsealKey = randomBytes(32);
    const shares = await splitKey(unsealKey, config.secretShares, config.secretThreshold);
    const ops: TxOp[] = [
      { op: 'put', key: ROOT_KEY_PATH, value: sealWithKey(createSecretKey(unsealKey), 0, ROOT_KEY_PATH, rootKey) },
      { op: 'put', key: CONFIG_PATH, value: new TextEncoder().encode(JSON.stringify(config)) },
    ];
    return {
      config,
      shares,
      unsealKey,
      ops,
      committed: () => {
        this.#config = config;
      },
      discard: () => {
        unsealKey.fill(0);
        for (const s of shares) s.fill(0);
      },
    };
  }
}
