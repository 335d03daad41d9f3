import { createSecretKey } from 'node:crypto';
import { CofferError, MSG, type StorageView } from '../logical/index.js';
import type { StorageBackend } from '../storage/index.js';
import { open, seal, termOf } from './aead.js';
import { Keyring } from './keyring.js';
import { BarrierView } from './view.js';

/** Where the keyring lives, encrypted under the root key. Nothing else uses term 0. */
const KEYRING_PATH = 'core/keyring';
const ROOT_KEY_TERM = 0;

/**
 * The security barrier: every value that passes through it is encrypted before it reaches the
 * (untrusted) physical storage. Sealed, it holds no key and refuses every operation.
 */
export class Barrier implements StorageView {
  readonly #physical: StorageBackend;
  #keyring: Keyring | null = null;

  constructor(physical: StorageBackend) {
    this.#physical = physical;
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
    this.#keyring = Keyring.deserialize(open(createSecretKey(rootKey), KEYRING_PATH, blob));
  }

  seal(): void {
    this.#keyring = null;
  }

  /** Start a new key term for writes; earlier terms remain readable. */
  async rotate(rootKey: Uint8Array, now: Date): Promise<number> {
    const next = this.#ring().rotate(now);
    await this.#physical.put(KEYRING_PATH, seal(createSecretKey(rootKey), ROOT_KEY_TERM, KEYRING_PATH, next.serialize()));
    this.#keyring = next;
    return next.activeTerm;
  }

  async get(key: string): Promise<Uint8Array | null> {
    const ring = this.#ring();
    const blob = await this.#physical.get(key);
    if (blob === null) return null;
    const term = ring.term(termOf(blob));
    if (!term) throw new Error(`value at a storage path uses unknown key term ${termOf(blob)}`);
    return open(term.key, key, blob);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const active = this.#ring().active;
    await this.#physical.put(key, seal(active.key, active.term, key, value));
  }

  async delete(key: string): Promise<void> {
    this.#ring();
    await this.#physical.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    this.#ring();
    return this.#physical.list(prefix);
  }

  /** Atomic multi-key write through the barrier. */
  async transaction(ops: readonly ({ op: 'put'; key: string; value: Uint8Array } | { op: 'delete'; key: string })[]): Promise<void> {
    const active = this.#ring().active;
    await this.#physical.transaction(
      ops.map((o) => (o.op === 'put' ? { op: 'put', key: o.key, value: seal(active.key, active.term, o.key, o.value) } : o)),
    );
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
