import { createSecretKey, type KeyObject } from 'node:crypto';
import { CofferError, MSG, type StorageOp, type StorageView } from '../logical/index.js';
import type { StorageBackend, TxOp } from '../storage/index.js';
import { open, seal, termOf } from './aead.js';
import { Keyring } from './keyring.js';
import { LRU_ENTRY_BYTES, LruMap } from '../util/index.js';
import { BarrierView } from './view.js';

/** Where the keyring lives, encrypted under the root key. Nothing else uses term 0. */
export const KEYRING_PATH = 'core/keyring';
const ROOT_KEY_TERM = 0;

/**
 * The security barrier: every value that passes through it is encrypted before it reaches the
 * (untrusted) physical storage. Sealed, it holds no key and refuses every operation.
 */
export interface BarrierOptions {
  /**
   * Recently read values kept decrypted (0 turns it off). The keyring that decrypts every value
   * lives in the same memory, so this adds little exposure; it is dropped on seal.
   */
  readonly plaintextCacheSize?: number;
  /** And at most this many bytes of them, reckoned with the parsed form kept beside each. */
  readonly plaintextCacheBytes?: number | undefined;
  /** Told how long each operation took, in milliseconds (telemetry's vault.barrier.*). */
  readonly timings?: BarrierTimings;
}

export interface BarrierTimings {
  get(ms: number): void;
  put(ms: number): void;
  delete(ms: number): void;
  list(ms: number): void;
}

const NO_TIMINGS: BarrierTimings = { get: () => {}, put: () => {}, delete: () => {}, list: () => {} };

/**
 * What a decrypted value costs in the cache: its bytes, the parsed form the storage view keeps
 * beside them (JSON parsed into V8 objects takes roughly three times its text), and the entry.
 */
const weighPlaintext = (key: string, value: Uint8Array): number => LRU_ENTRY_BYTES + key.length + 4 * value.byteLength;

export class Barrier implements StorageView {
  readonly #physical: StorageBackend;
  /** Path → plaintext. Values handed out from it must not be mutated. */
  readonly #plain: LruMap<string, Uint8Array>;
  /** Bumped by every write, so a read that overlapped a write does not cache what it saw. */
  #writes = 0;
  #keyring: Keyring | null = null;
  /** The root key while unsealed: the keyring is written under it again at each rotation. */
  #rootKey: KeyObject | null = null;
  /** Values encrypted under the active term since unseal (or since the last rotation). */
  #encryptions = 0;
  readonly #timings: BarrierTimings;

  constructor(physical: StorageBackend, opts: BarrierOptions = {}) {
    this.#physical = physical;
    this.#timings = opts.timings ?? NO_TIMINGS;
    this.#plain = new LruMap({ maxEntries: opts.plaintextCacheSize ?? 0, maxWeight: opts.plaintextCacheBytes ?? Infinity, weigh: weighPlaintext });
  }

  get sealed(): boolean {
    return this.#keyring === null;
  }

  /**
   * Create the first keyring and store it under rootKey, replacing any keyring left by an
   * initialisation that never completed (the seal decides whether the server is initialised).
   * Leaves the barrier sealed.
   */
  async initialize(rootKey: Uint8Array, now: Date): Promise<void> {
    const ring = Keyring.create(now);
    await this.#physical.put(KEYRING_PATH, seal(createSecretKey(rootKey), ROOT_KEY_TERM, KEYRING_PATH, ring.serialize()));
  }

  /** Load the keyring with rootKey; throws if the key is wrong. */
  async unseal(rootKey: Uint8Array): Promise<void> {
    const blob = await this.#physical.get(KEYRING_PATH);
    if (blob === null) throw new CofferError('uninitialized', 'Vault is not initialized');
    const key = createSecretKey(rootKey);
    this.#keyring = Keyring.deserialize(open(key, KEYRING_PATH, blob));
    this.#rootKey = key;
    this.#encryptions = 0;
  }

  /** Whether a keyring as stored (a snapshot's) opens under the root key held now. */
  opensKeyring(blob: Uint8Array): boolean {
    if (this.#rootKey === null) return false;
    try {
      Keyring.deserialize(open(this.#rootKey, KEYRING_PATH, blob));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Read the keyring again, under the root key held now, after the storage beneath was replaced
   * (a restored snapshot). False, and sealed, when the new keyring does not open under it.
   */
  async reload(): Promise<boolean> {
    const key = this.#rootKey;
    this.#writes++;
    this.#plain.clear();
    const blob = await this.#physical.get(KEYRING_PATH);
    if (key === null || blob === null || !this.opensKeyring(blob)) {
      this.seal();
      return false;
    }
    this.#keyring = Keyring.deserialize(open(key, KEYRING_PATH, blob));
    this.#encryptions = 0;
    return true;
  }

  seal(): void {
    this.#keyring = null;
    this.#rootKey = null;
    this.#plain.clear();
  }

  /**
   * Start a new key term for writes; earlier terms remain readable. The new keyring (every old
   * term and the new one) replaces the old in one write of one key: a crash at any moment leaves
   * the one or the other, and either decrypts everything stored.
   */
  async rotate(now: Date): Promise<{ term: number; installTime: string }> {
    const next = this.#ring().rotate(now);
    await this.#physical.put(KEYRING_PATH, seal(this.#rootKey!, ROOT_KEY_TERM, KEYRING_PATH, next.serialize()));
    this.#keyring = next;
    this.#encryptions = 0;
    return { term: next.activeTerm, installTime: next.active.installedAt };
  }

  /** The active term, when it was installed, and how many values it encrypted since unseal. */
  keyStatus(): { term: number; installTime: string; encryptionsSinceUnseal: number } {
    const active = this.#ring().active;
    return { term: active.term, installTime: active.installedAt, encryptionsSinceUnseal: this.#encryptions };
  }

  /** A value kept decrypted, if it is; undefined otherwise (and always while sealed). */
  peek(key: string): Uint8Array | undefined {
    return this.#keyring === null ? undefined : this.#plain.get(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const ring = this.#ring();
    // A read the cache answers is memory only, cheaper than timing it: only reads of storage are timed.
    const hit = this.#plain.get(key);
    if (hit !== undefined) return hit;
    const t0 = performance.now();
    const before = this.#writes;
    const blob = await this.#physical.get(key);
    this.#timings.get(performance.now() - t0);
    if (blob === null) return null;
    const term = ring.term(termOf(blob));
    if (!term) throw new Error(`value at a storage path uses unknown key term ${termOf(blob)}`);
    const value = open(term.key, key, blob);
    if (this.#writes === before && this.#keyring !== null) this.#plain.set(key, value);
    return value;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const active = this.#ring().active;
    const t0 = performance.now();
    this.#writes++;
    this.#plain.delete(key);
    this.#encryptions++;
    await this.#physical.put(key, seal(active.key, active.term, key, value));
    this.#timings.put(performance.now() - t0);
  }

  async delete(key: string): Promise<void> {
    this.#ring();
    const t0 = performance.now();
    this.#writes++;
    this.#plain.delete(key);
    await this.#physical.delete(key);
    this.#timings.delete(performance.now() - t0);
  }

  async list(prefix: string): Promise<string[]> {
    this.#ring();
    const t0 = performance.now();
    const keys = await this.#physical.list(prefix);
    this.#timings.list(performance.now() - t0);
    return keys;
  }

  /**
   * Atomic multi-key write through the barrier. `unencrypted` ops are written as they are, in
   * the same transaction: the seal's own records, which live outside the barrier (a rekey's new
   * seal commits together with the backup of its shares).
   */
  async transaction(ops: readonly StorageOp[], unencrypted: readonly TxOp[] = []): Promise<void> {
    const active = this.#ring().active;
    this.#writes++;
    for (const o of ops) {
      this.#plain.delete(o.key);
      if (o.op === 'put') this.#encryptions++;
    }
    await this.#physical.transaction([
      ...ops.map((o): TxOp => (o.op === 'put' ? { op: 'put', key: o.key, value: seal(active.key, active.term, o.key, o.value) } : o)),
      ...unencrypted,
    ]);
  }

  /** A view confined to prefix (which must end in "/"). */
  view(prefix: string): StorageView {
    return new BarrierView(this, prefix);
  }

  #ring(): Keyring {
    if (this.#keyring === null) throw new CofferError('sealed', MSG.sealed);
    return this.#keyring;
  }
}
